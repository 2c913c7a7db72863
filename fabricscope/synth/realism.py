"""Photograph realism for ``generate(realism=True)``: hard negatives and a phone-like camera.

Hard negatives are things on intact cloth that a hole detector must learn to leave alone: knots,
slubs, thick yarns, floats / pulled threads, small spots and stains (and, in the generator, dark
printed motifs). They change the cloth's colour and thread shading only: the weave keeps showing
through them and they never touch the hole mask. A hole shows the background (another texture and
colour, no weave) inside a dark rim; a knot is a lump of the cloth's own thread, lit from the same
side as the creases.

The camera stage replaces the generator's plain one: uneven illumination and vignetting, out-of-focus
blur now and then, signal-dependent sensor noise, a tone curve (gamma and S-curve with highlight
roll-off), phone sharpening and real JPEG compression (Pillow), sometimes twice.

Everything draws from the caller's own ``numpy.random.Generator``, so a seed gives the same image.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

from fabricscope.synth import _ops

HARD_NEGATIVES = ("knot", "slub", "thick_yarn", "float", "spot", "stain")
_LUT_N = 1536  # tone curve table size over 0..1.5


@dataclass
class Mark:
    """One hard negative, placed in image pixels."""

    kind: str
    cy: float
    cx: float
    angle: float  # direction of the thread it follows (rad, image coordinates)
    length: float  # px: a slub's / yarn's / float's length, a knot's tail
    width: float  # px: knot radius, thread thickness, spot radius
    tone: float  # colour factor (<1 darker, >1 lighter)
    colour: np.ndarray  # RGB 0..1 (knots, stains); unused by the others
    params: np.ndarray  # a few kind-specific random numbers


@dataclass
class Realism:
    """What ``realism=True`` adds to one scene."""

    marks: list[Mark] = field(default_factory=list)
    dark_print: tuple | None = None  # (style, period px, radius, colour, phase, angle)
    specular: float = 0.0  # strength of the sheen on crease faces turned to the light


def random_marks(
    rng: np.random.Generator, h: int, w: int, s: float, fabric_angle: float, pitch: float, cloth: np.ndarray
) -> list[Mark]:
    """1-4 hard negatives for one image. ``pitch`` in px (224 units), ``cloth`` its thread colours."""
    n = int(rng.choice([1, 2, 3, 4], p=[0.5, 0.25, 0.15, 0.1]))
    out = []
    thread_px = float(np.clip(pitch * 0.85, 1.0, 8.0))
    for _ in range(n):
        kind = str(rng.choice(HARD_NEGATIVES, p=[0.3, 0.2, 0.1, 0.1, 0.17, 0.13]))
        along = fabric_angle + (math.pi / 2 if rng.random() < 0.5 else 0.0) + float(rng.normal(0, 0.04))
        base = cloth[int(rng.integers(len(cloth)))]
        colour = base * rng.uniform(0.85, 1.15)
        tone = 1.0
        if kind == "knot":
            width = max(rng.uniform(2.5, 6.5), min(thread_px * 1.1, 7.0)) * s
            length = rng.uniform(0.0, 12.0) * s if rng.random() < 0.7 else 0.0
            along = rng.uniform(0, 2 * np.pi)
        elif kind == "slub":
            width = float(np.clip(thread_px * rng.uniform(1.8, 3.0), 2.5, 8.0)) * s
            length = rng.uniform(8.0, 40.0) * s
            tone = rng.uniform(0.85, 1.3)
        elif kind == "thick_yarn":
            width = float(np.clip(thread_px * rng.uniform(1.5, 2.4), 2.0, 7.0)) * s
            length = 3.0 * max(h, w)
            tone = rng.uniform(0.75, 1.2)
        elif kind == "float":
            width = rng.uniform(0.9, 1.8) * s
            length = rng.uniform(15.0, 70.0) * s
            tone = rng.uniform(1.2, 1.5)
        elif kind == "spot":
            width = rng.uniform(2.0, 6.0) * s
            length = 0.0
            tone = rng.uniform(0.3, 0.75) if rng.random() < 0.7 else rng.uniform(1.25, 1.6)
            colour = _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.05, 0.5))
        else:  # stain
            width = rng.uniform(5.0, 18.0) * s
            length = 0.0
            tone = rng.uniform(0.55, 0.85) if rng.random() < 0.75 else rng.uniform(1.15, 1.4)
            colour = _ops.hsv_to_rgb(rng.uniform(0.02, 0.15), rng.uniform(0.2, 0.7), rng.uniform(0.2, 0.6))
        out.append(
            Mark(
                kind=kind,
                cy=float(rng.uniform(0.05, 0.95) * h),
                cx=float(rng.uniform(0.05, 0.95) * w),
                angle=float(along),
                length=float(length),
                width=float(width),
                tone=float(tone),
                colour=np.clip(np.asarray(colour, np.float32), 0.0, 1.0),
                params=rng.uniform(0, 1, 8).astype(np.float32),
            )
        )
    return out


def _blob(a: np.ndarray, b: np.ndarray, r: float, p: np.ndarray) -> np.ndarray:
    """Normalised radius of an irregular round blob (1 at its edge)."""
    phi = np.arctan2(b, a)
    wob = 1.0 + 0.18 * p[0] * np.cos(2 * phi + 6.3 * p[1]) + 0.12 * p[2] * np.cos(3 * phi + 6.3 * p[3])
    return np.sqrt(a * a + b * b) / (r * wob)


def apply_marks(
    marks: list[Mark],
    colour: np.ndarray,
    shade: np.ndarray,
    light: tuple[float, float],
    s: float,
) -> list[str]:
    """Draw the marks into ``colour`` (HxWx3) and ``shade`` (HxW) in place; return their kinds."""
    h, w = shade.shape
    lx, ly = light
    kinds = []
    for m in marks:
        reach = m.width * 2.5 + 3 * s + (m.length if m.kind in ("knot", "float") else m.length / 2)
        y0, y1 = max(0, int(m.cy - reach)), min(h, int(m.cy + reach) + 1)
        x0, x1 = max(0, int(m.cx - reach)), min(w, int(m.cx + reach) + 1)
        if y0 >= y1 or x0 >= x1:
            continue
        dy = np.arange(y0, y1, dtype=np.float32)[:, None] - m.cy
        dx = np.arange(x0, x1, dtype=np.float32)[None, :] - m.cx
        ca, sa = math.cos(m.angle), math.sin(m.angle)
        a = dx * ca + dy * sa  # along the thread
        b = -dx * sa + dy * ca  # across it
        col = colour[y0:y1, x0:x1]
        sh = shade[y0:y1, x0:x1]
        level = float(np.median(sh))
        p = m.params
        if m.kind == "knot":
            r = m.width
            d = _blob(a, b * (1.0 + 0.5 * p[4]), r, p)
            # a dome of tangled thread, fibres swirling round it. The creases' shading (relief = slope . light)
            # lights faces that rise towards +light, so the light comes from -light: lit there, shadow at +light
            nx, ny = dx / r, dy / r
            lit = np.clip(0.8 - 0.8 * (nx * lx + ny * ly), 0.2, 1.7)
            swirl = 1.0 + 0.3 * np.sin(np.arctan2(dy, dx) * 5.0 + d * 9.0 + 6.3 * p[5])
            top = np.sqrt(np.clip(1.0 - d * d, 0.0, 1.0))
            knot_shade = level * 1.15 * lit * swirl * (0.55 + 0.45 * top)
            alpha = np.clip((1.0 - d) * r * 0.8, 0.0, 1.0)
            ds = _blob(a - (ca * lx + sa * ly) * 0.6 * r, b - (-sa * lx + ca * ly) * 0.6 * r, r * 1.15, p)
            shadow = np.clip((1.0 - ds) * r * 0.5, 0.0, 1.0) * (1.0 - alpha)
            sh *= 1.0 - 0.5 * shadow
            if m.length > 0:  # a short tail of thread, curling off one side
                t = a - r * 0.7
                bb = b - (p[6] - 0.5) * 0.12 * t * t / max(s, 1e-3)
                tw = max(0.5 * s, 0.35 * m.width * (0.6 + 0.6 * p[7]))
                cyl = np.clip(1.0 - (bb / tw) ** 2, 0.0, 1.0)
                tail = cyl * ((t > 0) & (t < m.length))
                tail_shade = level * (0.7 + 0.5 * np.sqrt(cyl))
                knot_shade = np.where(tail > alpha, tail_shade, knot_shade)
                alpha = np.maximum(alpha, np.clip(tail * 2.0, 0.0, 1.0))
            sh[...] = sh * (1.0 - alpha) + knot_shade * alpha
            col[...] = col * (1.0 - alpha[..., None]) + m.colour * alpha[..., None]
        elif m.kind in ("slub", "thick_yarn", "float"):
            half = m.length / 2
            if m.kind == "slub":
                taper = np.sqrt(np.clip(1.0 - (a / half) ** 2, 0.0, 1.0))
            elif m.kind == "float":
                taper = (np.abs(a) < half).astype(np.float32)
            else:  # irregular thickness along a long yarn
                taper = 1.0 + 0.25 * np.sin(a / (7.0 * s) + 6.3 * p[0]) + 0.15 * np.sin(a / (2.9 * s) + 6.3 * p[1])
                taper = taper * (np.abs(a) < half)
            hw = m.width / 2 * taper
            q = np.clip(1.0 - (b / np.maximum(hw, 1e-3)) ** 2, 0.0, 1.0)
            alpha = np.clip((hw - np.abs(b)) * 1.5 + 0.5, 0.0, 1.0) * (hw > 0.2 * s)
            twist = 1.0 + 0.12 * np.sin((a + 0.7 * b) / (1.1 * s) + 6.3 * p[2])
            if m.kind == "thick_yarn":  # dips under the crossing threads every other pitch
                twist = twist * (0.85 + 0.15 * np.cos(a / (1.2 * s + m.width * 0.8)))
            yarn = level * m.tone * (0.55 + 0.6 * np.sqrt(q)) * twist
            edge = np.exp(-(((np.abs(b) - hw - 0.8 * s) / (0.9 * s)) ** 2)) * (taper > 0) * (1.0 - alpha)
            gather = 0.35 if m.kind == "float" else 0.3  # a pulled thread puckers the cloth beside it
            sh *= 1.0 - gather * edge
            sh[...] = sh * (1.0 - alpha) + yarn * alpha
            if m.kind == "thick_yarn" and m.tone < 0.9:  # a darker yarn, dyed a little differently
                col[...] = col * (1.0 - 0.3 * alpha[..., None]) + col * m.tone * 0.3 * alpha[..., None]
        else:  # spot, stain: dye on the threads; the weave's shading stays
            d = _blob(a, b, m.width, p)
            if m.kind == "spot":
                alpha = np.clip((1.0 - d) * m.width * 0.7 + 0.3 * (sh - level) / max(level, 1e-3), 0.0, 1.0)
                tide = 0.0
            else:
                noise = 0.15 * np.sin(a / (2.3 * s) + 6.3 * p[4]) * np.sin(b / (3.1 * s) + 6.3 * p[5])
                alpha = np.clip((1.0 - d + noise) * 2.0, 0.0, 1.0) * (0.5 + 0.3 * p[6])
                tide = np.exp(-(((d - 1.0) / 0.08) ** 2)) * 0.25
            if m.tone < 1.0:
                target = col * m.tone * (0.6 + 0.4 * m.colour / max(float(m.colour.max()), 1e-3))
            else:
                target = col + (1.0 - col) * (m.tone - 1.0)
            col[...] = col * (1.0 - alpha[..., None]) + target * alpha[..., None]
            if m.kind == "stain":
                sh *= 1.0 - tide
        kinds.append(m.kind)
    return kinds


def camera(rng: np.random.Generator, img: np.ndarray, s: float) -> np.ndarray:
    """A phone photograph of ``img`` (HxWx3 0..1): returns HxWx3 uint8."""
    h, w = img.shape[:2]
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    g = rng.normal(0, 0.22, 2).astype(np.float32)
    light = 1.0 + g[0] * xs + g[1] * ys
    if rng.random() < 0.7:  # vignetting, centred off the middle
        oy, ox = rng.normal(0, 0.3, 2).astype(np.float32)
        light = light * (1.0 - np.float32(rng.uniform(0.1, 0.55)) * ((xs - ox) ** 2 + (ys - oy) ** 2) / 2)
    if rng.random() < 0.5:  # shading from a lamp or a hand
        light = light * (1.0 + np.float32(rng.uniform(0.05, 0.18)) * _ops.value_noise(rng, (h, w), (2, 2)))
    gain = (rng.uniform(0.6, 1.3) * (1 + rng.normal(0, 0.07, 3))).astype(np.float32)
    img = img * (np.clip(light, 0.2, 2.0)[..., None] * gain)
    r = rng.random()
    if r < 0.2:  # out of focus
        img = _ops.blur(img, float(rng.uniform(1.0, 2.2) * s))
    elif r < 0.7:
        img = _ops.blur(img, float(rng.uniform(0.35, 0.9) * s))
    # sensor noise: shot noise grows with the signal, read noise does not; some of it shared by channels
    shot, read = float(rng.uniform(0.0, 0.03)), float(rng.uniform(0.002, 0.015))
    sd = np.sqrt(np.maximum(img, 0.0) * (shot * shot) + read * read)
    if rng.random() < 0.4:
        noise = rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(0.8)
        img = img + sd * (np.float32(0.6) * rng.standard_normal(img.shape, dtype=np.float32) + noise)
    else:
        img = img + sd * rng.standard_normal(img.shape, dtype=np.float32)
    # tone: highlight roll-off, gamma and S-curve, as one lookup table over 0..1.5
    x = np.linspace(0.0, 1.5, _LUT_N, dtype=np.float64)
    k = rng.uniform(0.0, 0.6)
    x = np.minimum(x * (1.0 + k) / (1.0 + k * x), 1.0) ** rng.uniform(0.75, 1.3)
    x = x + rng.uniform(0.0, 0.9) * x * (1.0 - x) * (2.0 * x - 1.0)
    idx = (np.clip(img, 0.0, 1.5) * np.float32((_LUT_N - 1) / 1.5)).astype(np.int32)
    img = (x * 255.0).astype(np.float32)[idx]
    if rng.random() < 0.5:  # phone sharpening
        img = img + np.float32(rng.uniform(0.3, 1.2)) * (img - _ops.blur(img, 0.8 * s))
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    for _ in range(int(rng.choice([0, 1, 2], p=[0.15, 0.6, 0.25]))):
        out = jpeg(out, int(rng.integers(35, 93)), subsampling=int(rng.choice([0, 2], p=[0.3, 0.7])))
    return out


def jpeg(img: np.ndarray, quality: int, subsampling: int = 2) -> np.ndarray:
    """JPEG round trip through Pillow (deterministic for a given input and quality)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=int(quality), subsampling=subsampling)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"), dtype=np.uint8).copy()
