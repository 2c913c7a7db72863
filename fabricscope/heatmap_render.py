"""Heatmap overlay images for reports: numpy + Pillow only (no Qt, usable headless).

One picture per image: one panel per head, side by side, each the image with
that head's per-cell defect probability (``HeadResult.cells``, 0..1 on a fixed
scale) smoothly upsampled, coloured and blended over it, with a caption
(head, pooling, P(defect), verdict) and the strongest cell outlined when the
head flags the image. The batch engine writes them for ``--heatmaps``; the
GUI batch tab reuses :func:`write_overlay` to export flagged overlays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .imaging import MAX_PIXELS, decode_image
from .inspector import HeadResult, Inspection
from .pooling import cell_region

#: Anchor colours of the map (dark blue -> purple -> orange -> yellow), 0..1 evenly spaced.
_ANCHORS = np.array(
    [
        (13, 8, 135),
        (84, 2, 163),
        (139, 10, 165),
        (185, 50, 137),
        (219, 92, 104),
        (244, 136, 73),
        (254, 188, 43),
        (240, 249, 33),
    ],
    dtype=np.float64,
)
CAPTION_HEIGHT = 22


def colormap() -> np.ndarray:
    """A 256 x 3 uint8 lookup table (perceptually ordered, plasma-like)."""
    x = np.linspace(0.0, 1.0, 256)
    xp = np.linspace(0.0, 1.0, len(_ANCHORS))
    return np.stack([np.interp(x, xp, _ANCHORS[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


_LUT = colormap()


def upsample(cells: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear upsampling of an ``h x w`` grid to ``height x width``, cell centres on tile centres.

    Each cell's value sits at the centre of its tile of the image (the input is
    the whole image squashed, so tiles follow the image's aspect); beyond the
    outer centres the edge value is held.
    """
    h, w = cells.shape
    grid = cells.astype(np.float32)
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (ys - y0).astype(np.float32)[:, None]
    fx = (xs - x0).astype(np.float32)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x1] * fx
    bottom = grid[y1][:, x0] * (1 - fx) + grid[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def blend(rgb: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The image with ``cells`` (0..1) coloured over it; stronger cells are more opaque."""
    height, width = rgb.shape[:2]
    score = np.clip(upsample(cells, height, width), 0.0, 1.0)
    colour = _LUT[(score * 255).astype(np.uint8)].astype(np.float32)
    alpha = (0.1 + 0.6 * score)[:, :, None]
    return (rgb.astype(np.float32) * (1 - alpha) + colour * alpha).round().astype(np.uint8)


def _fit_height(rgb: np.ndarray, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if h == height:
        return rgb
    width = max(1, round(w * height / h))
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0))


def _caption(head: HeadResult) -> str:
    verdict = head.spec.labels[1] if head.flag else head.spec.labels[0]
    return f"{head.name} ({head.spec.pooling}) p={head.prob:.2f} {verdict.upper() if head.flag else verdict}"


def render_overlay(rgb: np.ndarray, inspection: Inspection, *, height: int = 320) -> np.ndarray:
    """Side-by-side panels, one per head, as an RGB array ``(height + caption) x (n * width) x 3``."""
    base = _fit_height(np.ascontiguousarray(rgb), height)
    h, w = base.shape[:2]
    gap = 4
    canvas = Image.new("RGB", (len(inspection.heads) * (w + gap) - gap, h + CAPTION_HEIGHT), (24, 24, 24))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for k, head in enumerate(inspection.heads):
        x = k * (w + gap)
        canvas.paste(Image.fromarray(blend(base, head.cells)), (x, CAPTION_HEIGHT))
        colour = (255, 90, 80) if head.flag else (220, 220, 220)
        draw.text((x + 4, 4), _caption(head), fill=colour, font=font)
        if head.flag:
            r, c = head.strongest
            box = cell_region(r, c, head.cells.shape, (w, h))
            draw.rectangle(
                (x + box.left, CAPTION_HEIGHT + box.top, x + box.right - 1, CAPTION_HEIGHT + box.bottom - 1),
                outline=(255, 255, 255),
                width=2,
            )
    return np.asarray(canvas)


def save_image(array: np.ndarray, out_path: Path) -> Path:
    """Write an RGB array as PNG or JPEG (by suffix), creating folders as needed."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    suffix = out_path.suffix.lower()
    img = Image.fromarray(array, "RGB")
    if suffix in (".jpg", ".jpeg"):
        img.save(out_path, "JPEG", quality=90)
    elif suffix == ".png":
        img.save(out_path, "PNG", compress_level=3)
    else:
        raise ValueError(f"overlay images are .png or .jpg, not {out_path.suffix!r}")
    return out_path


def write_overlay(
    image_path: Path, inspection: Inspection, out_path: Path, *, height: int = 320, max_pixels: int = MAX_PIXELS
) -> Path:
    """Decode ``image_path`` (only as large as needed) and write its overlay to ``out_path``."""
    decoded = decode_image(image_path, target=height, max_pixels=max_pixels)
    return save_image(render_overlay(decoded.rgb, inspection, height=height), out_path)
