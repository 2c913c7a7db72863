"""Decode image files to RGB arrays and fit them to the model's input.

No Qt here: Pillow decodes, numpy holds the pixels. Every failure becomes an
:class:`ImageError` with a message a user can read; callers turn it into an
error row and go on.

Conversions (decided here, once):

- EXIF orientation is applied, so the array is upright as a viewer shows it.
- Grey, palette, CMYK, YCbCr and 1-bit images become RGB.
- 16-bit and 32-bit integer images are scaled to 8 bits (not clipped), float
  images are read as 0..1 when their maximum is at most 1, else clipped to 0..255.
- Alpha is dropped, colour kept: compositing transparent pixels onto any
  background colour would paint a flat patch that looks like a hole.
- Multi-frame files (GIF, multi-page TIFF): the first frame.

Resize policy (:func:`fit_to_input`): the whole image is resized to the
model's square input, aspect ratio not kept. Nothing is cropped away, so a
hole near the border is still inspected, and map cell (r, c) covers the same
fraction of the original image on each axis (see ``pooling.cell_region``).
The model is trained with aspect stretches so squashed texture is in range.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

#: Pixel limit for one image: larger ones are refused before decoding (a
#: "decompression bomb" guard). 150 MP admits every camera photo we know of.
MAX_PIXELS = 150_000_000

#: File suffixes a folder scan picks up (case-insensitive).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

#: The only Pillow decoders ever tried, whatever a file's name says. Pillow would
#: otherwise identify ~40 formats by content, among them EPS, which it renders by
#: running Ghostscript on the file: a ".jpg" holding PostScript would be executed.
DECODERS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF", "PPM")


class ImageError(Exception):
    """A file that cannot be used as an image, with the reason in words."""


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image and the size of the original it was decoded from."""

    rgb: np.ndarray  # H x W x 3 uint8, possibly reduced from the original
    original_size: tuple[int, int]  # (width, height) of the full image, upright


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    mode = img.mode
    if mode in ("RGB",):
        return np.asarray(img, dtype=np.uint8)
    if mode.startswith("I;16") or mode in ("I", "F"):
        # Worked in place and in the source's own width (no float64/int64 copies):
        # a 150 MP 16-bit scan must not need several GB on top of its pixels.
        grey = np.asarray(img)
        if mode == "F":
            grey = np.nan_to_num(np.array(grey, dtype=np.float32), copy=False, nan=0.0, posinf=255.0, neginf=0.0)
            if grey.size and grey.max() <= 1.0:
                grey *= 255.0
            grey8 = np.clip(grey, 0, 255, out=grey).astype(np.uint8)
        elif mode == "I" and grey.size and grey.max() <= 255 and grey.min() >= 0:
            grey8 = grey.astype(np.uint8)
        else:
            # I;16 variants are 0..65535 already (any byte order); I is int32
            wide = np.clip(grey, 0, 65535) if mode == "I" else grey.astype(np.uint16, copy=False)
            grey8 = (wide // 257).astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode in ("RGBA", "RGBa", "RGBX"):
        return np.asarray(img, dtype=np.uint8)[:, :, :3].copy()
    if mode in ("LA", "La"):
        grey = np.asarray(img.getchannel(0), dtype=np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("P", "PA"):
        # Drop transparency the same way: take the palette colours as they are.
        return np.asarray(img.convert("RGBA"), dtype=np.uint8)[:, :, :3].copy()
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _folder_reason(folder: Path) -> str:
    """Why a folder stands where an image should: one that could not be listed is said so."""
    try:
        with os.scandir(folder):
            pass
    except OSError as exc:
        why = (exc.strerror or type(exc).__name__).lower()
        return f"folder cannot be listed ({why}): the images in it were not scored"
    return "is a folder, not an image file"


def decode_image(
    source: str | Path | bytes,
    *,
    target: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> DecodedImage:
    """Decode a file (path or bytes) to an upright RGB array.

    ``target``: the side the image will be resized to afterwards; JPEGs are
    then decoded with DCT scaling to no less than that (much faster for camera
    photos). Raises :class:`ImageError` for anything that is not a readable image.
    """
    name = "data" if isinstance(source, bytes) else str(source)
    try:
        if isinstance(source, bytes):
            if not source:
                raise ImageError("empty file (0 bytes)")
            fp: io.BytesIO | Path = io.BytesIO(source)
        else:
            fp = Path(source)
            if fp.is_dir():
                raise ImageError(_folder_reason(fp))
            if fp.stat().st_size == 0:
                raise ImageError("empty file (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp, formats=DECODERS) as img:
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise ImageError(f"image claims an empty size {width}x{height}")
                if width * height > max_pixels:
                    raise ImageError(
                        f"image is {width}x{height} = {width * height / 1e6:.0f} MP, over the "
                        f"{max_pixels / 1e6:.0f} MP limit (refused as a possible decompression bomb)"
                    )
                orientation = img.getexif().get(0x0112, 1) if hasattr(img, "getexif") else 1
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                if target is not None and img.format == "JPEG":
                    img.draft("RGB", (target, target))
                img.load()
                # exif_transpose copies even when there is nothing to turn: 4 bytes a pixel saved.
                upright = ImageOps.exif_transpose(img) if orientation != 1 else img
                rgb = _to_rgb_array(upright)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except PermissionError:
        raise ImageError("permission denied: the file cannot be read") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"refused as a possible decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageError("not an image, or a format FabricScope cannot read") from None
    except MemoryError:
        raise ImageError("not enough memory to decode this image") from None
    except Exception as exc:  # any decoder fault is a bad file, never a crash
        if isinstance(exc, OSError) and exc.errno is not None:  # the file system's errors carry an errno, Pillow's not
            raise ImageError(f"cannot read the file: {exc.strerror or exc}") from None
        text = str(exc) or type(exc).__name__
        if "truncated" in text.lower():
            raise ImageError(f"truncated or corrupt image ({text})") from None
        raise ImageError(f"corrupt image: {text}") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageError(f"decoded to an unusable array of shape {rgb.shape} ({name})")
    return DecodedImage(rgb=np.ascontiguousarray(rgb), original_size=(width, height))


def fit_to_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize an H x W x 3 uint8 array to ``size x size`` (whole image, no crop).

    Pillow's bilinear filter widens its support when shrinking, so small
    features are averaged rather than aliased away.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.dtype} {rgb.shape}")
    if rgb.shape[0] == size and rgb.shape[1] == size:
        return np.ascontiguousarray(rgb)
    img = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    return np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0))


def thumbnail(path: Path, side: int) -> np.ndarray:
    """A small upright RGB thumbnail of a file (longest side ``side``), HxWx3 uint8; ImageError on a bad file."""
    img = Image.fromarray(decode_image(path, target=side).rgb)
    img.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(img))


def is_image_path(path: Path) -> bool:
    """Whether a folder scan should pick this file up, by its suffix."""
    return path.suffix.lower() in IMAGE_SUFFIXES
