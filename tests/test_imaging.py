from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fabricscope.engine.imaging import ImageError, decode_image, fit_to_input
from fabricscope.engine.pooling import cell_region


def _save(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_exif_orientation_is_applied() -> None:
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW when shown
    decoded = decode_image(_save(img, "JPEG", exif=exif, quality=95))
    assert decoded.rgb.shape == (40, 20, 3)
    assert decoded.original_size == (20, 40)
    assert decoded.rgb[:20].mean() > 200 > decoded.rgb[20:].mean()  # white half now on top


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA", "LA", "1", "I;16", "I", "F"])
def test_every_mode_becomes_rgb_uint8(mode: str) -> None:
    base = Image.fromarray(np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (16, 1)))
    if mode == "I;16":
        img = Image.fromarray((np.tile(np.linspace(0, 65535, 32), (16, 1))).astype(np.uint16))
    elif mode == "F":
        img = Image.fromarray(np.tile(np.linspace(0, 1, 32, dtype=np.float32), (16, 1)))
    else:
        img = base.convert(mode)
    fmt = "TIFF" if mode in ("I;16", "I", "F", "CMYK") else "PNG"
    decoded = decode_image(_save(img, fmt))
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape == (16, 32, 3)
    if mode not in ("1", "P"):
        row = decoded.rgb[0, :, 0].astype(int)
        assert row[0] < 30 and row[-1] > 220, f"{mode}: {row[:3]}..{row[-3:]}"  # scaled, not clipped


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    arr = np.full((8, 8), 32768, np.uint16)  # mid grey in 16 bits
    decoded = decode_image(_save(Image.fromarray(arr), "PNG"))
    assert 120 <= decoded.rgb.mean() <= 135


def test_bad_files_raise_image_error_with_a_reason(tmp_path: Path) -> None:
    good = _save(Image.fromarray(np.full((64, 64, 3), 128, np.uint8)), "JPEG")
    cases = {
        "empty": (b"", "empty"),
        "text": (b"hello, not an image", "not an image"),
        "truncated": (good[: len(good) // 3], "truncated"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(data)
        with pytest.raises(ImageError, match=message):
            decode_image(path)
    with pytest.raises(ImageError, match="not found"):
        decode_image(tmp_path / "missing.png")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    data = _save(Image.new("L", (4000, 3000)), "PNG")
    with pytest.raises(ImageError, match="decompression bomb"):
        decode_image(data, max_pixels=10_000_000)


def test_jpeg_is_decoded_reduced_but_reports_original_size() -> None:
    data = _save(Image.new("RGB", (4000, 3000), (90, 80, 70)), "JPEG")
    decoded = decode_image(data, target=224)
    assert decoded.original_size == (4000, 3000)
    assert 224 <= min(decoded.rgb.shape[:2]) < 3000 // 4


def test_fit_to_input_keeps_the_whole_image() -> None:
    arr = np.zeros((300, 600, 3), np.uint8)
    arr[:, -10:] = 255  # a bright strip at the right border must survive
    out = fit_to_input(arr, 224)
    assert out.shape == (224, 224, 3)
    assert out[:, -2:].mean() > 150


def test_cell_region_tiles_and_receptive_field() -> None:
    tile = cell_region(0, 6, (7, 7), (700, 350))
    assert (tile.left, tile.top, tile.right, tile.bottom) == (600, 0, 700, 50)
    rf = cell_region(3, 3, (7, 7), (224, 224), receptive_field=96, input_size=224)
    assert (rf.left, rf.top, rf.width, rf.height) == (64, 64, 96, 96)
    with pytest.raises(ValueError):
        cell_region(7, 0, (7, 7), (224, 224))
