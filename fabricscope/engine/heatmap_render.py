"""Heatmap overlay images for reports: numpy + Pillow only (no Qt, usable headless).

One picture per image, readable at a glance: a title bar (file name and the
overall verdict), then one panel per head, side by side. Each panel has a
header (head, pooling, a PASS/FAIL badge, P(defect) against the threshold and
the strongest cell as the report writes it), the image with the head's
per-cell defect probability (``HeadResult.cells``, whatever that accessor
shows, on a fixed 0..1 scale) smoothly upsampled, coloured and blended over
it, the map's grid (one square per map cell) and the strongest cell outlined
when the head flags the image, and under it a colour bar with its scale and
the threshold marked. The batch engine writes them for ``--heatmaps``; the GUI
batch tab reuses :func:`write_overlay` to export flagged overlays.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .imaging import MAX_PIXELS, decode_image
from .inspector import HeadResult, Inspection
from .pooling import cell_region
from .thresholds import Thresholds

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
#: Heights in pixels of the title bar, a panel's header and its colour-bar footer, at ``height`` 320
#: (all scale with the image height, never below these); see :func:`layout`.
TITLE_HEIGHT, HEADER_HEIGHT, FOOTER_HEIGHT = 30, 56, 50
#: A panel is never narrower than this (a tall, narrow image is centred in it), so its text fits.
MIN_PANEL_WIDTH = 300
PANEL_GAP = 8
BACKGROUND = (24, 24, 24)
FAIL_COLOUR, PASS_COLOUR = (205, 45, 45), (40, 140, 70)


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


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in font at ``size`` px (Pillow >= 10.1); the small bitmap font on older ones."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, OSError, ImportError):  # no size argument or no FreeType
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, fnt: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=fnt)
    return int(right - left)


def verdict(head: HeadResult, threshold: float) -> str:
    """'FAIL' when the head flags the image (P(defect) >= ``threshold``), else 'PASS'."""
    return "FAIL" if head.prob >= threshold else "PASS"


def _caption(head: HeadResult, threshold: float) -> str:
    """P against the threshold in words, e.g. 'P(hole) 0.68 >= threshold 0.45'."""
    sign = ">=" if head.prob >= threshold else "<"
    return f"P({head.spec.labels[1]}) {head.prob:.2f} {sign} threshold {threshold:.2f}"


def layout(image_height: int) -> tuple[int, int, int, float]:
    """(title, header, footer) heights and the text scale for panels ``image_height`` px high."""
    scale = max(1.0, image_height / 320)
    return round(TITLE_HEIGHT * scale), round(HEADER_HEIGHT * scale), round(FOOTER_HEIGHT * scale), scale


def _grid(rgb: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The map's cell boundaries drawn over ``rgb`` as thin light lines (35% opaque)."""
    out = rgb.astype(np.float32)
    h, w = rgb.shape[:2]
    ys = sorted({min(h - 1, round(k * h / rows)) for k in range(1, rows)})
    xs = sorted({min(w - 1, round(k * w / cols)) for k in range(1, cols)})
    out[ys, :, :] = out[ys, :, :] * 0.65 + 255 * 0.35
    out[:, xs, :] = out[:, xs, :] * 0.65 + 255 * 0.35
    return out.round().astype(np.uint8)


def _colour_bar(
    draw: ImageDraw.ImageDraw, canvas: Image.Image, box: tuple[int, int, int], threshold: float, scale: float
) -> None:
    """The colour scale 0..1 with ticks, the threshold marked by a white line, in ``box`` (left, top, right)."""
    left, top, right = box
    small = font(round(12 * scale))
    bar_h = round(12 * scale)
    label_y = top + round(3 * scale)
    draw.text((left, label_y), "cell P(defect)", fill=(200, 200, 200), font=small)
    legend = f"| threshold {threshold:.2f}"
    draw.text((right - _text_width(draw, legend, small), label_y), legend, fill=(255, 255, 255), font=small)
    bar_top = top + round(20 * scale)
    width = max(2, right - left)
    ramp = _LUT[np.linspace(0, 255, width).round().astype(np.uint8)]
    canvas.paste(Image.fromarray(np.repeat(ramp[None], bar_h, axis=0)), (left, bar_top))
    draw.rectangle((left - 1, bar_top - 1, right, bar_top + bar_h), outline=(120, 120, 120))
    tx = left + round(threshold * (width - 1))
    draw.rectangle((tx - 2, bar_top - 4, tx + 2, bar_top + bar_h + 3), fill=(0, 0, 0))
    draw.rectangle((tx - 1, bar_top - 3, tx + 1, bar_top + bar_h + 2), fill=(255, 255, 255))
    tick_y = bar_top + bar_h + round(3 * scale)
    for value, text in ((0.0, "0"), (0.25, "0.25"), (0.5, "0.5"), (0.75, "0.75"), (1.0, "1")):
        x = left + round(value * (width - 1))
        draw.line((x, bar_top + bar_h, x, bar_top + bar_h + 2), fill=(170, 170, 170))
        tw = _text_width(draw, text, small)
        x = min(max(x - tw // 2, left), right - tw)
        draw.text((x, tick_y), text, fill=(170, 170, 170), font=small)


def render_overlay(
    rgb: np.ndarray, inspection: Inspection, thresholds: Thresholds, *, height: int = 320, title: str = ""
) -> np.ndarray:
    """The overlay as an RGB array at ``thresholds``: a title bar, then one panel per head side by side.

    Size: ``title + header + height + footer`` high (see :func:`layout`), and per head
    ``max(image width at this height, MIN_PANEL_WIDTH)`` wide with :data:`PANEL_GAP` between.
    ``title`` (e.g. the file name) leads the title bar, which ends with the overall verdict.
    """
    base = _fit_height(np.ascontiguousarray(rgb), height)
    h, w = base.shape[:2]
    title_h, header_h, footer_h, scale = layout(h)
    panel_w = max(w, MIN_PANEL_WIDTH)
    n = len(inspection.heads)
    canvas = Image.new("RGB", (n * (panel_w + PANEL_GAP) - PANEL_GAP, title_h + header_h + h + footer_h), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    big, medium = font(round(18 * scale)), font(round(15 * scale))
    pad = round(8 * scale)

    flagged = [hd.name for hd in inspection.heads if thresholds.flag(hd)]
    overall = f"FAIL ({', '.join(flagged)})" if flagged else "PASS"
    overall_w = _text_width(draw, overall, big)
    draw.text((canvas.width - pad - overall_w, round(5 * scale)), overall,
              fill=FAIL_COLOUR if flagged else (90, 200, 120), font=big)  # fmt: skip
    if title:
        room = canvas.width - 3 * pad - overall_w
        while len(title) > 1 and _text_width(draw, title, big) > room:
            title = "…" + title.removeprefix("…")[1:]  # keep the end of the name: it tells files apart
        draw.text((pad, round(5 * scale)), title, fill=(235, 235, 235), font=big)

    for k, head in enumerate(inspection.heads):
        x = k * (panel_w + PANEL_GAP)
        y = title_h
        draw.rectangle((x, y, x + panel_w - 1, y + header_h + h + footer_h - 1), fill=(36, 36, 36))
        # Header: head and pooling, the verdict badge, P against the threshold, the strongest cell.
        draw.text((x + pad, y + round(6 * scale)), f"{head.name} · {head.spec.pooling} pooling",
                  fill=(240, 240, 240), font=big)  # fmt: skip
        threshold, flag = thresholds[head.name], thresholds.flag(head)
        badge = verdict(head, threshold)
        bw = _text_width(draw, badge, big) + 2 * pad
        bx0, by0 = x + panel_w - pad - bw, y + round(4 * scale)
        draw.rounded_rectangle((bx0, by0, bx0 + bw, by0 + round(26 * scale)), radius=round(5 * scale),
                               fill=FAIL_COLOUR if flag else PASS_COLOUR)  # fmt: skip
        draw.text((bx0 + pad, by0 + round(3 * scale)), badge, fill=(255, 255, 255), font=big)
        r, c = head.strongest
        line2 = f"{_caption(head, threshold)}   strongest cell {r},{c}"
        if _text_width(draw, line2, medium) > panel_w - 2 * pad:
            line2 = _caption(head, threshold)
        draw.text((x + pad, y + round(33 * scale)), line2, fill=(255, 150, 140) if flag else (200, 200, 200),
                  font=medium)  # fmt: skip
        # The image with the map, the grid and (flagged) the strongest cell.
        ix, iy = x + (panel_w - w) // 2, y + header_h
        cells = head.cells
        canvas.paste(Image.fromarray(_grid(blend(base, cells), *cells.shape)), (ix, iy))
        if flag:
            box = cell_region(r, c, cells.shape, (w, h))
            draw.rectangle(
                (ix + box.left, iy + box.top, ix + box.right - 1, iy + box.bottom - 1), outline=(255, 255, 255), width=2
            )
        # Footer: the colour bar with its scale and the threshold.
        _colour_bar(draw, canvas, (x + pad, iy + h, x + panel_w - pad), threshold, scale)
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
    image_path: Path,
    inspection: Inspection,
    thresholds: Thresholds,
    out_path: Path,
    *,
    height: int = 320,
    max_pixels: int = MAX_PIXELS,
) -> Path:
    """Decode ``image_path`` (only as large as needed) and write its overlay at ``thresholds`` to ``out_path``."""
    decoded = decode_image(image_path, target=height, max_pixels=max_pixels)
    picture = render_overlay(decoded.rgb, inspection, thresholds, height=height, title=Path(image_path).name)
    return save_image(picture, out_path)
