"""Decoder fuzzing: whatever bytes a file holds, decoding ends in an RGB array or an ImageError.

Never another exception, never a hang, never a memory blow-up. Cases are
random bytes, valid Pillow-made files (JPEG, PNG, TIFF, WebP, BMP, GIF, PPM in
several modes) truncated, bit-flipped or overwritten, and headers that claim
absurd sizes (with correct checksums, so the claim reaches the decoder).

CI runs a few hundred derandomized (reproducible) cases. A long run:
``FABRICSCOPE_FUZZ_EXAMPLES=5000 python -m pytest -q tests/test_fuzz_decoder.py``
(the number is per property; the default is 60). ``FABRICSCOPE_FUZZ_RANDOM=1`` draws
new cases each run instead of the fixed CI sequence (hypothesis prints a failing case's
reproduction blob).
"""

from __future__ import annotations

import faulthandler
import io
import os
import resource
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from toy_model import fabric_like

from fabricscope import cli
from fabricscope.engine import decode_pool, report
from fabricscope.engine.imaging import DecodedImage, ImageError, decode_image

# Pillow warns about the damage it meets (corrupt EXIF, oversized tags): expected here, not news.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

EXAMPLES = int(os.environ.get("FABRICSCOPE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # timed by hand below: the machine is shared, a hypothesis deadline would flake
    derandomize=os.environ.get("FABRICSCOPE_FUZZ_RANDOM", "") != "1",  # CI: the same cases every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMIT = 1_000_000  # pixels: a low limit so that nothing legitimate needs much memory
CASE_CPU_SECONDS = 5.0  # per case, CPU time of the decoding thread: tiny files decode in milliseconds
CASE_WALL_SECONDS = 60.0  # wall time is loose: a shared, loaded CI machine may pause any process for seconds
CASE_BYTES = 64 * LIMIT  # traced (numpy/Python) peak per case; ~6-13 bytes per pixel is normal
RSS_GROWTH = 400 * 2**20  # the whole fuzz run may not raise the process's peak RSS by more


# --- seeds: valid files made with Pillow -----------------------------------------------------------


def _save(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _make_seeds() -> dict[str, bytes]:
    rgb = Image.fromarray(fabric_like(3, size=48, hole_at=(0, 0)))
    grey16 = Image.fromarray(np.arange(40 * 24, dtype=np.uint16).reshape(24, 40) * 60)
    return {
        "jpeg": _save(rgb, "JPEG", quality=80),
        "jpeg_progressive": _save(rgb, "JPEG", progressive=True, optimize=True),
        "jpeg_cmyk": _save(rgb.convert("CMYK"), "JPEG"),
        "png": _save(rgb, "PNG"),
        "png_palette": _save(rgb.convert("P"), "PNG"),
        "png_rgba": _save(rgb.convert("RGBA"), "PNG"),
        "png_16bit": _save(grey16, "PNG"),
        "tiff": _save(rgb, "TIFF"),
        "tiff_lzw": _save(rgb, "TIFF", compression="tiff_lzw"),
        "tiff_deflate_16bit": _save(grey16, "TIFF", compression="tiff_adobe_deflate"),
        "tiff_float": _save(Image.fromarray(np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30)), "TIFF"),
        "webp": _save(rgb, "WEBP", quality=70),
        "webp_lossless": _save(rgb, "WEBP", lossless=True),
        "bmp": _save(rgb, "BMP"),
        "bmp_rle8": _save(rgb.convert("P"), "BMP"),
        "gif": _save(rgb.convert("P"), "GIF"),
        "ppm": _save(rgb, "PPM"),
    }


SEEDS = _make_seeds()


# --- the property every case must hold -------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def hang_guard() -> Iterator[None]:
    """A decoder stuck in C cannot be interrupted from Python: dump the stacks and exit instead of hanging CI."""
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module", autouse=True)
def bounded_rss() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    yield
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert after - before < RSS_GROWTH, f"peak RSS grew by {(after - before) / 2**20:.0f} MiB during fuzzing"


def check_decode(data: bytes, *, max_pixels: int = LIMIT, target: int | None = 224) -> DecodedImage | ImageError:
    """Decode ``data`` and check the contract: a sane RGB array or an ImageError with words, fast and small."""
    tracemalloc.start()
    start, start_cpu = time.perf_counter(), time.thread_time()
    try:
        outcome: DecodedImage | ImageError = decode_image(data, target=target, max_pixels=max_pixels)
    except ImageError as exc:
        outcome = exc
    finally:
        cpu, wall = time.thread_time() - start_cpu, time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert cpu < CASE_CPU_SECONDS, f"decoding {len(data)} bytes took {cpu:.1f} s of CPU"
    assert wall < CASE_WALL_SECONDS, f"decoding {len(data)} bytes took {wall:.1f} s (a hang?)"
    assert peak < CASE_BYTES, f"decoding {len(data)} bytes traced {peak / 2**20:.0f} MiB"
    if isinstance(outcome, ImageError):
        assert str(outcome).strip(), "an ImageError must say why"
        return outcome
    rgb = outcome.rgb
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.flags.c_contiguous
    assert rgb.shape[0] >= 1 and rgb.shape[1] >= 1
    w, h = outcome.original_size
    assert w * h <= max_pixels, f"{w}x{h} is over the pixel limit but was decoded"
    assert rgb.shape[0] * rgb.shape[1] <= w * h  # reduced (JPEG draft) or full size, never larger
    return outcome


def test_every_seed_decodes() -> None:
    """The seeds themselves are valid: mutations start from files that really decode."""
    for name, data in SEEDS.items():
        outcome = check_decode(data)
        assert isinstance(outcome, DecodedImage), f"{name}: {outcome}"


# --- mutations ---------------------------------------------------------------------------------------


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "duplicate", "zero_run"]))
        if not data:
            break
        # Half the edits land in the first 64 bytes, where headers (sizes, offsets, counts) live.
        hi = min(len(data) - 1, 63) if draw(st.booleans()) else len(data) - 1
        pos = draw(st.integers(0, hi))
        if kind == "truncate":
            del data[pos:]
        elif kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[pos : pos + len(chunk)] = chunk
        elif kind == "duplicate":
            length = draw(st.integers(1, 64))
            data[pos:pos] = data[pos : pos + length]
        else:
            data[pos : pos + draw(st.integers(1, 32))] = b"\x00" * 4
    return bytes(data)


@FUZZ
@given(data=mutated_files())
def test_mutated_files_decode_or_raise_image_error(data: bytes) -> None:
    check_decode(data)


@FUZZ
@given(data=st.binary(min_size=0, max_size=2048))
def test_random_bytes_decode_or_raise_image_error(data: bytes) -> None:
    check_decode(data)


@FUZZ
@given(
    magic=st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"BM", b"GIF89a", b"RIFF"]),
    rest=st.binary(min_size=0, max_size=512),
)
def test_a_right_magic_number_then_junk(magic: bytes, rest: bytes) -> None:
    check_decode(magic + rest)


# --- absurd headers ----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(w: int, h: int, depth: int = 8, colour: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def bmp_claiming(w: int, h: int, bpp: int = 24) -> bytes:
    pixels = b"\x80" * 256
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 0, len(pixels), 2835, 2835, 0, 0)
    head = struct.pack("<2sIHHI", b"BM", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return head + info + pixels


def tiff_claiming(w: int, h: int) -> bytes:
    entries = [  # tag, type (3 short, 4 long), count, value
        (256, 4, 1, w),
        (257, 4, 1, h),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 12 * 8 + 4),
        (277, 3, 1, 1),
        (278, 4, 1, h),
        (279, 4, 1, 64),
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack("<HI", value, 0)[:4] if typ == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x7f" * 64


def gif_claiming(w: int, h: int) -> bytes:
    return (
        b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
        + b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00;"
    )  # fmt: skip


def jpeg_claiming(w: int, h: int) -> bytes:
    """A real small JPEG with its SOF0 frame size rewritten."""
    data = bytearray(SEEDS["jpeg"])
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def ppm_claiming(w: int, h: int) -> bytes:
    return f"P6 {w} {h} 255\n".encode() + b"\x80" * 96


def webp_claiming(w: int, h: int) -> bytes:
    """A VP8X (extended) header with an absurd canvas; sizes are stored minus one in 24 bits."""
    w, h = max(1, min(w, 1 << 24)), max(1, min(h, 1 << 24))
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (w - 1).to_bytes(3, "little")
    vp8x += (h - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


CLAIMS: dict[str, Callable[[int, int], bytes]] = {
    "png": png_claiming,
    "bmp": bmp_claiming,
    "tiff": tiff_claiming,
    "gif": gif_claiming,
    "jpeg": jpeg_claiming,
    "ppm": ppm_claiming,
    "webp": webp_claiming,
}


@pytest.mark.parametrize("fmt", sorted(CLAIMS))
def test_a_header_claiming_100000_by_100000_is_refused_before_decoding(fmt: str) -> None:
    w = h = 65535 if fmt in ("gif", "jpeg") else 100_000  # the largest those formats can say
    outcome = check_decode(CLAIMS[fmt](w, h), max_pixels=150_000_000)
    assert isinstance(outcome, ImageError)
    text = str(outcome)
    assert "decompression bomb" in text or "not an image" in text, text


@FUZZ
@given(
    fmt=st.sampled_from(sorted(CLAIMS)),
    w=st.one_of(st.integers(0, 4096), st.integers(0, 2**32 - 1)),
    h=st.one_of(st.integers(0, 4096), st.integers(-(2**31), 2**32 - 1)),
)
def test_any_claimed_size_decodes_or_raises_image_error(fmt: str, w: int, h: int) -> None:
    limits = {"bmp": (2**31 - 1, 2**31 - 1), "gif": (65535, 65535), "jpeg": (65535, 65535)}
    max_w, max_h = limits.get(fmt, (2**31 - 1, 2**31 - 1))
    w = min(w, max_w)
    h = max(-(2**31), min(h, max_h)) if fmt == "bmp" else max(0, min(h, max_h))  # BMP: negative = top-down
    check_decode(CLAIMS[fmt](w, h))


# --- through the batch engine and the CLI ---------------------------------------------------------------


@settings(FUZZ, max_examples=max(20, EXAMPLES // 3))
@given(data=st.one_of(mutated_files(), st.binary(max_size=512)))
def test_prepare_file_never_raises_and_says_why(data: bytes) -> None:
    prepared = decode_pool.prepare_file(Path("fuzz.jpg"), 224, max_pixels=LIMIT, data=data)
    if prepared.array is None:
        assert prepared.error and not prepared.error.startswith("unexpected error"), prepared.error
    else:
        assert prepared.array.shape == (224, 224, 3) and prepared.array.dtype == np.uint8 and not prepared.error


def test_fabricscope_score_gives_one_row_per_fuzzed_file(toy_model: Path, tmp_path: Path) -> None:
    """A folder of mutated files through the real command: exit 0, every file one row, errors in words."""
    rng = np.random.default_rng(6)
    folder = tmp_path / "fuzzed"
    folder.mkdir()
    names = sorted(SEEDS)
    # A folder scan picks up image suffixes only; GIF and PPM go in under .jpg (content decides the decoder).
    suffix = {"jpeg": ".jpg", "png": ".png", "tiff": ".tif", "webp": ".webp", "bmp": ".bmp"}
    for i in range(60):
        name = names[i % len(names)]
        data = bytearray(SEEDS[name])
        for _ in range(int(rng.integers(0, 4))):
            pos = int(rng.integers(0, len(data)))
            data[pos] ^= 1 << int(rng.integers(0, 8))
        if i % 3 == 0:
            data = data[: int(rng.integers(0, len(data)))]
        ext = suffix.get(name.split("_")[0], ".jpg")
        (folder / f"{i:03d}_{name}{ext}").write_bytes(bytes(data))
    for fmt, make in CLAIMS.items():
        side = 65535 if fmt in ("gif", "jpeg") else 100_000
        (folder / f"huge_{fmt}.png").write_bytes(make(side, side))
    out = tmp_path / "fuzz.csv"
    args = ["score", str(folder), "--model", str(toy_model), "--out", str(out), "-q", "--max-megapixels", "1"]
    assert cli.main(args) == 3  # fuzzed files that cannot be read: exit 3
    rows = report.read_rows(out)
    assert sorted(Path(r["path"]).name for r in rows) == sorted(p.name for p in folder.iterdir())
    for r in rows:
        assert r["status"] in ("ok", "error")
        if r["status"] == "error":
            assert r["error"] and not r["error"].startswith("unexpected error"), r
    huge = [r for r in rows if Path(r["path"]).name.startswith("huge_")]
    assert all(r["status"] == "error" for r in huge), huge
    assert any(r["status"] == "ok" for r in rows) and any(r["status"] == "error" for r in rows)


def test_a_jpg_holding_postscript_is_never_handed_to_ghostscript() -> None:
    """Pillow identifies files by content; EPS would run Ghostscript on the file. Only image decoders are tried."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n0 0 moveto 8 8 lineto stroke showpage\n"
    outcome = check_decode(eps)
    assert isinstance(outcome, ImageError) and "not an image" in str(outcome)
