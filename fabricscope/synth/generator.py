"""Procedural fabric renderer: weaves, patterns, creases, holes and camera effects (numpy only).

Everything is drawn from one ``numpy.random.Generator`` seeded by the caller, so
a seed always gives the same image. Lengths are expressed in "224 units" and
scaled by ``S = min(H, W) / 224`` so a larger image shows the same scene in
more detail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from fabricscope.synth import _ops
from fabricscope.synth import realism as _realism

WEAVES = ("plain", "twill", "satin", "basket", "knit", "denim", "canvas")
PATTERNS = ("solid", "stripes", "checks", "plaid", "print")
HOLE_TYPES = ("round", "ragged", "elongated", "cut", "tear")

# weave matrices: True where the warp (threads along v) lies on top
_TWILL22 = np.array([[(i + j) % 4 < 2 for j in range(4)] for i in range(4)])
_TWILL31 = np.array([[(i + j) % 4 < 3 for j in range(4)] for i in range(4)])
_SATIN5 = np.array([[(2 * i + j) % 5 != 0 for j in range(5)] for i in range(5)])
_PLAIN = np.array([[(i + j) % 2 == 0 for j in range(2)] for i in range(2)])
_BASKET = np.array([[((i // 2) + (j // 2)) % 2 == 0 for j in range(4)] for i in range(4)])

_TABLE = 512  # size of the per-thread random tables
MIN_OPEN_PX = 12.0  # a hole shows at least this many background pixels (at 224 px)
MIN_CONTRAST = 0.25  # luminance step between a hole and the cloth around it
# A cut or tear gapes at least this wide at its widest (at 224 px): cloth lying on a table or under
# tension opens along a slit. A hairline slit, 1 px or less, vanishes in the camera's blur; labelled
# "hole" it only taught the model to guess.
MIN_SLIT_PX = 4.0


@dataclass
class Sample:
    """One labelled fabric image."""

    image: np.ndarray  # HxWx3 uint8 RGB
    hole_mask: np.ndarray  # HxW bool, True where the background shows through
    wrinkled: bool
    has_hole: bool
    kind: str
    hole_centres: tuple[tuple[float, float], ...] = field(default=())  # (row, col) in pixels
    hole_sizes: tuple[float, ...] = field(default=())  # largest extent / min(H, W)


@dataclass
class Crease:
    cy: float
    cx: float
    angle: float
    length: float
    width: float
    amp: float
    curv: float
    sharp: bool
    wave: float = 0.0  # sideways meander of the crease line (px), for the ripples of ``variety``
    wave_len: float = 1.0  # px per radian of the meander
    wave_phase: float = 0.0


@dataclass
class Hole:
    cy: float
    cx: float
    size: float  # largest extent in pixels
    kind: str
    angle: float
    ratio: float  # major / minor
    harmonics: np.ndarray  # (k, amplitude, phase) rows
    fray_k: int
    fray_amp: float
    rim: float  # shadow rim width in px
    rim_dark: float
    threads: list[tuple[float, float, float, float, float]]  # angle, offset, amp, freq, width
    segments: list[tuple[float, float, float, float]]  # tear: cy, cx, angle, length


# --------------------------------------------------------------------------- colours


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    r = rng.random()
    if r < 0.3:  # neutrals: white .. black
        v = rng.choice([rng.uniform(0.7, 0.97), rng.uniform(0.3, 0.75), rng.uniform(0.05, 0.3)])
        return _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.08), v)
    if r < 0.5:  # naturals: beige, khaki, brown, olive
        return _ops.hsv_to_rgb(rng.uniform(0.05, 0.2), rng.uniform(0.12, 0.55), rng.uniform(0.25, 0.9))
    if r < 0.8:  # muted colours
        return _ops.hsv_to_rgb(rng.random(), rng.uniform(0.12, 0.55), rng.uniform(0.2, 0.9))
    return _ops.hsv_to_rgb(rng.random(), rng.uniform(0.45, 0.95), rng.uniform(0.25, 0.95))


def _thread_sequence(rng: np.random.Generator, n_colours: int, base: np.ndarray | None = None) -> np.ndarray:
    """Colour per thread index over one repeat (period x 3)."""
    cols = [base if base is not None else _random_colour(rng)]
    cols += [_random_colour(rng) for _ in range(n_colours - 1)]
    seq = []
    for c in cols:
        seq += [c] * int(rng.integers(2, 14))
    if rng.random() < 0.5 and n_colours > 2:  # tartans are mirrored
        seq = seq + seq[::-1]
    return np.stack(seq).astype(np.float32)


# --------------------------------------------------------------------------- fabric


@dataclass
class FabricSpec:
    weave: str
    pattern: str
    pitch: float  # px per thread in 224 units
    angle: float
    aspect: float
    persp: tuple[float, float]
    offset: tuple[float, float]
    warp_cols: np.ndarray
    weft_cols: np.ndarray
    warp_gain: np.ndarray
    weft_gain: np.ndarray
    warp_width: np.ndarray
    weft_width: np.ndarray
    slub: np.ndarray
    slub_len: float
    fuzz: float
    mottle: float
    print_spec: tuple | None
    sheen: float
    relief: float


def _fabric_spec(rng: np.random.Generator, weave: str | None = None) -> FabricSpec:
    weave = weave or str(rng.choice(WEAVES, p=[0.2, 0.17, 0.1, 0.08, 0.17, 0.14, 0.14]))
    pattern = str(rng.choice(PATTERNS, p=[0.36, 0.16, 0.14, 0.14, 0.2]))
    # thread pitch: log-uniform fine..coarse
    pitch = float(np.exp(rng.uniform(np.log(2.3), np.log(13.0))))
    if weave == "canvas":
        pitch = float(np.exp(rng.uniform(np.log(3.5), np.log(14.0))))
    irregular = rng.uniform(0.02, 0.25)
    base = None
    if weave == "denim":
        base = _ops.hsv_to_rgb(rng.uniform(0.58, 0.66), rng.uniform(0.45, 0.9), rng.uniform(0.2, 0.6))
        if rng.random() < 0.15:  # black denim
            base = _ops.hsv_to_rgb(0.6, 0.1, rng.uniform(0.08, 0.2))
        pattern = "solid" if rng.random() < 0.85 else pattern
        irregular = rng.uniform(0.12, 0.3)
    elif weave == "canvas":
        if rng.random() < 0.6:
            base = _ops.hsv_to_rgb(rng.uniform(0.07, 0.2), rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.9))
    if pattern in ("solid", "print"):
        warp = _thread_sequence(rng, 1, base)
        if weave == "denim":
            weft = _ops.hsv_to_rgb(0.1, rng.uniform(0.0, 0.15), rng.uniform(0.75, 0.95))[None]
        elif rng.random() < 0.25:  # chambray / shot cloth
            weft = _thread_sequence(rng, 1)
        else:
            weft = warp * rng.uniform(0.85, 1.1)
    elif pattern == "stripes":
        warp = _thread_sequence(rng, int(rng.integers(2, 4)), base)
        weft = warp[:1] * rng.uniform(0.9, 1.1)
        if weave == "knit":
            warp, weft = weft, warp
    elif pattern == "checks":
        warp = _thread_sequence(rng, 2, base)
        weft = warp.copy()
    else:  # plaid
        warp = _thread_sequence(rng, int(rng.integers(3, 6)), base)
        weft = warp.copy() if rng.random() < 0.7 else _thread_sequence(rng, int(rng.integers(2, 5)))
    print_spec = None
    if pattern == "print":
        motif = str(rng.choice(["dot", "ring", "cross", "diamond", "flower", "leaf"]))
        period = rng.uniform(8.0, 40.0)
        radius = rng.uniform(0.12, 0.35)
        print_spec = (motif, period, radius, _random_colour(rng), rng.random() < 0.5, rng.uniform(0, np.pi))
    return FabricSpec(
        weave=weave,
        pattern=pattern,
        pitch=pitch,
        angle=float(rng.uniform(0, np.pi)) if rng.random() < 0.6 else float(rng.normal(0, 0.08)),
        aspect=float(rng.uniform(0.75, 1.3)),
        persp=(float(rng.normal(0, 0.0012)), float(rng.normal(0, 0.0012))),
        offset=(float(rng.uniform(0, 100)), float(rng.uniform(0, 100))),
        warp_cols=np.clip(warp, 0, 1).astype(np.float32),
        weft_cols=np.clip(weft, 0, 1).astype(np.float32),
        warp_gain=(1 + rng.normal(0, irregular, _TABLE)).astype(np.float32),
        weft_gain=(1 + rng.normal(0, irregular, _TABLE)).astype(np.float32),
        warp_width=np.clip(rng.normal(0.85, irregular, _TABLE), 0.45, 1.2).astype(np.float32),
        weft_width=np.clip(rng.normal(0.85, irregular, _TABLE), 0.45, 1.2).astype(np.float32),
        slub=(1 + rng.normal(0, irregular * 0.8, 4096)).astype(np.float32),
        slub_len=float(rng.uniform(3, 15)),
        fuzz=float(rng.uniform(0.0, 0.09)),
        mottle=float(rng.uniform(0.0, 0.12) if weave != "denim" else rng.uniform(0.05, 0.2)),
        print_spec=print_spec,
        sheen=float(rng.uniform(0.0, 0.35) if weave == "satin" else rng.uniform(0.0, 0.1)),
        relief=float(rng.uniform(0.3, 1.0)),
    )


def _fabric_coords(
    spec: FabricSpec, xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Image pixels -> fabric coordinates in thread units (u across warp threads, v along them)."""
    xc = (xs - centre[1]) / scale
    yc = (ys - centre[0]) / scale
    den = 1.0 + spec.persp[0] * xc + spec.persp[1] * yc
    ca, sa = math.cos(spec.angle), math.sin(spec.angle)
    u = (ca * xc + sa * yc) / den / spec.pitch + spec.offset[0]
    v = (-sa * xc + ca * yc) / den / (spec.pitch * spec.aspect) + spec.offset[1]
    return u.astype(np.float32), v.astype(np.float32)


def _weave_colour(spec: FabricSpec, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base colour (HxWx3) and thread shading (HxW) of the cloth at fabric coordinates."""
    fi = np.floor(u)
    fj = np.floor(v)
    fu = u - fi
    fv = v - fj
    i = fi.astype(np.int32)
    j = fj.astype(np.int32)
    it = i & (_TABLE - 1)
    jt = j & (_TABLE - 1)
    if spec.weave == "knit":
        s = np.abs(fu - 0.5) * 2.0
        centre = 0.15 + 0.65 * fv
        d = np.abs(s - centre) / (0.38 * spec.warp_width[it])
        leg = np.clip(1.0 - d * d, 0.0, 1.0)
        shade = (0.3 + 0.7 * np.sqrt(leg)) * spec.warp_gain[it]
        slub = spec.slub[(it * 7 + (v / spec.slub_len).astype(np.int32)) & 4095]
        shade = shade * slub
        colour = spec.weft_cols[j % len(spec.weft_cols)] if len(spec.weft_cols) > 1 else None
        if colour is None:
            colour = np.broadcast_to(spec.warp_cols[0], (*u.shape, 3))
        return colour, 1.0 - spec.relief * (1.0 - shade)
    matrix = {
        "plain": _PLAIN,
        "canvas": _BASKET if spec.pitch < 6 else _PLAIN,
        "basket": _BASKET,
        "twill": _TWILL22,
        "denim": _TWILL31,
        "satin": _SATIN5,
    }[spec.weave]
    r = matrix.shape[0]
    flat = matrix.ravel()
    top = flat[(i & (r - 1)) * r + (j & (r - 1))] if r in (2, 4) else flat[(i % r) * r + (j % r)]
    cu = (fu - 0.5) * 2.0 / spec.warp_width[it]
    cv = (fv - 0.5) * 2.0 / spec.weft_width[jt]
    pw = np.sqrt(np.clip(1.0 - cu * cu, 0.0, 1.0))
    pf = np.sqrt(np.clip(1.0 - cv * cv, 0.0, 1.0))
    warp_shade = (0.3 + 0.7 * pw) * (0.82 + 0.18 * np.sin(np.pi * fv)) * spec.warp_gain[it]
    weft_shade = (0.3 + 0.7 * pf) * (0.82 + 0.18 * np.sin(np.pi * fu)) * spec.weft_gain[jt]
    warp_shade *= spec.slub[(it * 13 + (v / spec.slub_len).astype(np.int32)) & 4095]
    weft_shade *= spec.slub[(jt * 17 + 2048 + (u / spec.slub_len).astype(np.int32)) & 4095]
    shade = np.where(top, warp_shade, weft_shade)
    nw = len(spec.warp_cols)
    if nw == 1 and len(spec.weft_cols) == 1 and np.allclose(spec.warp_cols[0], spec.weft_cols[0]):
        colour = np.broadcast_to(spec.warp_cols[0], (*u.shape, 3))
    else:
        palette = np.concatenate([spec.warp_cols, spec.weft_cols], axis=0)
        idx = np.where(top, i % nw, nw + j % len(spec.weft_cols))
        colour = palette[idx]
    return colour, 1.0 - spec.relief * (1.0 - shade)


def _print_mask(spec: FabricSpec, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    motif, period, radius, _, staggered, rot = spec.print_spec  # type: ignore[misc]
    a = u * spec.pitch / period
    b = v * spec.pitch * spec.aspect / period
    if staggered:
        a = a + 0.5 * (np.floor(b) % 2)
    fa = a - np.floor(a) - 0.5
    fb = b - np.floor(b) - 0.5
    cr, sr = math.cos(rot), math.sin(rot)
    fa, fb = cr * fa + sr * fb, -sr * fa + cr * fb
    if motif == "dot":
        return fa * fa + fb * fb < radius * radius
    if motif == "ring":
        d2 = fa * fa + fb * fb
        return (d2 < radius * radius) & (d2 > (0.6 * radius) ** 2)
    if motif == "cross":
        w = radius * 0.3
        return ((np.abs(fa) < w) & (np.abs(fb) < radius)) | ((np.abs(fb) < w) & (np.abs(fa) < radius))
    if motif == "diamond":
        return np.abs(fa) + np.abs(fb) < radius
    if motif == "leaf":
        return (fa / radius) ** 2 + (fb / (0.4 * radius)) ** 2 < 1
    phi = np.arctan2(fb, fa)
    rr = radius * (0.6 + 0.4 * np.abs(np.cos(2.5 * phi)))
    return fa * fa + fb * fb < rr * rr


# --------------------------------------------------------------------------- creases


def _random_creases(rng: np.random.Generator, h: int, w: int, s: float, n: int) -> list[Crease]:
    aligned = rng.random() < 0.5
    main = rng.uniform(0, np.pi)
    side = min(h, w)
    out = []
    for _ in range(n):
        angle = main + rng.normal(0, 0.35) if aligned else rng.uniform(0, np.pi)
        width = rng.uniform(1.8, 8.0)
        out.append(
            Crease(
                cy=rng.uniform(-0.05, 1.05) * h,
                cx=rng.uniform(-0.05, 1.05) * w,
                angle=float(angle),
                length=float(rng.uniform(0.2, 0.8) * side),
                width=float(width * s),
                amp=float(width * rng.uniform(0.4, 0.9) * s * rng.choice([-1, 1])),
                curv=float(rng.normal(0, 0.004) / s),
                sharp=bool(rng.random() < 0.5),
            )
        )
    return out


def _fold(rng: np.random.Generator, h: int, w: int, s: float) -> Crease:
    return Crease(
        cy=rng.uniform(0.2, 0.8) * h,
        cx=rng.uniform(0.2, 0.8) * w,
        angle=float(rng.uniform(0, np.pi)),
        length=float(3.0 * max(h, w)),
        width=float(rng.uniform(2.5, 12.0) * s),
        amp=float(rng.uniform(2.5, 8.0) * s * rng.choice([-1, 1])),
        curv=float(rng.normal(0, 0.002) / s),
        sharp=bool(rng.random() < 0.6),
    )


def _ripples(rng: np.random.Generator, h: int, w: int, s: float) -> list[Crease]:
    """Crumpled cloth: 20-45 short creases whose lines meander and bend, packed over the surface."""
    n = int(rng.integers(20, 46) * max(1.0, (h * w) / (min(h, w) ** 2)) ** 0.5)
    aligned = rng.random() < 0.6
    main = rng.uniform(0, np.pi)
    out = []
    for _ in range(n):
        width = rng.uniform(1.8, 5.0)
        out.append(
            Crease(
                cy=rng.uniform(-0.05, 1.05) * h,
                cx=rng.uniform(-0.05, 1.05) * w,
                angle=float(main + rng.normal(0, 0.3) if aligned else rng.uniform(0, np.pi)),
                length=float(rng.uniform(0.15, 0.6) * min(h, w)),
                width=float(width * s),
                amp=float(width * rng.uniform(0.4, 0.9) * s * rng.choice([-1, 1])),
                curv=float(rng.normal(0, 0.006) / s),
                sharp=bool(rng.random() < 0.5),
                wave=float(rng.uniform(2.0, 10.0) * s),
                wave_len=float(rng.uniform(5.0, 20.0) * s),
                wave_phase=float(rng.uniform(0, 2 * np.pi)),
            )
        )
    return out


def _add_variety(rng: np.random.Generator, scene: Scene, h: int, w: int) -> None:
    """``generate(variety=True)``: large blotch prints on a quarter of the images and crumpled ripples
    for half of the wrinkled ones. Drawn from their own random stream, so the rest of the scene (and
    every image of ``variety=False``) stays exactly as before."""
    if rng.random() < 0.25:
        waves = []
        for k in range(6):  # three broad waves, then three finer ones warped by the first three
            lam = rng.uniform(40, 140) if k < 3 else rng.uniform(25, 80)
            a = rng.uniform(0, 2 * np.pi)
            k_ = 2 * np.pi / lam
            waves.append((k_ * np.cos(a), k_ * np.sin(a), rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 2.0)))
        palette = np.stack([_random_colour(rng) for _ in range(int(rng.integers(1, 4)))])
        scene.blotch = (np.array(waves, np.float32), palette.astype(np.float32))
        scene.tags.append("blotch")
    if "wrinkles" in scene.tags and rng.random() < 0.5:
        scene.creases = _ripples(rng, h, w, min(h, w) / 224.0)
        scene.tags.append("ripples")


def _add_realism(rng: np.random.Generator, scene: Scene, h: int, w: int) -> None:
    """``generate(realism=True)``: hard negatives on about 40% of the images (hole or not), dark
    printed motifs on some, puckered or pinched cloth for some wrinkled ones and a sheen on folds.
    Labels and hole masks stay as they are; the tags say what was added."""
    s = min(h, w) / 224.0
    spec = scene.fabric
    real = _realism.Realism()
    if rng.random() < 0.32:
        cloth = np.concatenate([spec.warp_cols, spec.weft_cols], axis=0)
        real.marks = _realism.random_marks(rng, h, w, s, spec.angle, spec.pitch, cloth)
        scene.tags.append("+".join(sorted({m.kind for m in real.marks})))
    if rng.random() < 0.14:
        style = str(rng.choice(["dots", "scatter", "flowers", "geometric", "stripes"]))
        dark = _ops.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.7), rng.uniform(0.07, 0.3))
        real.dark_print = (
            style,
            float(rng.uniform(10.0, 45.0)),
            float(rng.uniform(0.12, 0.32)),
            dark,
            float(rng.uniform(0, 100)),
            float(rng.uniform(0, np.pi)),
        )
        scene.tags.append("darkprint")
    if "wrinkles" in scene.tags:
        r = rng.random()
        keep = scene.creases[: int(rng.integers(0, 4))]
        if r < 0.2:
            ripples, (cy, cx, line) = _pucker(rng, h, w, s)
            scene.creases = keep + ripples
            scene.tags.append("pucker")
            if scene.seam is None and rng.random() < 0.6:
                scene.seam = (cy, cx, line, float(rng.uniform(0.2, 0.8)))
        elif r < 0.35:
            scene.creases = keep + _pinch(rng, h, w, s)
            scene.tags.append("pinch")
    if scene.creases and rng.random() < 0.5:
        real.specular = float(rng.uniform(0.04, 0.2))
    scene.real = real


def _pucker(rng: np.random.Generator, h: int, w: int, s: float) -> tuple[list[Crease], tuple[float, float, float]]:
    """Puckering: many short, small ripples side by side across a seam line (gathered cloth); returns
    them and the line (cy, cx, angle) for a seam along it."""
    side = min(h, w)
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    line = rng.uniform(0, np.pi)
    span = rng.uniform(0.5, 1.4) * side
    gap = rng.uniform(3.0, 8.0) * s
    both = rng.random() < 0.5
    out = []
    for t in np.arange(-span / 2, span / 2, gap):
        length = rng.uniform(8.0, 30.0) * s
        width = rng.uniform(1.2, 3.0) * s
        for sign in (1.0, -1.0) if both else (1.0,):
            off = sign * length * rng.uniform(0.3, 0.55)
            out.append(
                Crease(
                    cy=float(cy + t * math.sin(line) + off * math.cos(line)),
                    cx=float(cx + t * math.cos(line) - off * math.sin(line)),
                    angle=float(line + math.pi / 2 + rng.normal(0, 0.12)),
                    length=float(length),
                    width=float(width),
                    amp=float(width * rng.uniform(0.8, 1.5)),
                    curv=float(rng.normal(0, 0.01) / s),
                    sharp=bool(rng.random() < 0.3),
                )
            )
    return out, (float(cy), float(cx), float(line))


def _pinch(rng: np.random.Generator, h: int, w: int, s: float) -> list[Crease]:
    """Pinched cloth: creases radiating from a point, as where a finger or a clip pulls it."""
    py, px = rng.uniform(0.15, 0.85) * h, rng.uniform(0.15, 0.85) * w
    n = int(rng.integers(5, 13))
    base = rng.uniform(0, 2 * np.pi)
    out = []
    for k in range(n):
        a = base + 2 * np.pi * k / n + rng.normal(0, 0.25)
        length = rng.uniform(30.0, 100.0) * s
        width = rng.uniform(1.5, 4.5) * s
        start = rng.uniform(1.0, 6.0) * s
        out.append(
            Crease(
                cy=float(py + math.sin(a) * (start + length / 2)),
                cx=float(px + math.cos(a) * (start + length / 2)),
                angle=float(a),
                length=float(length),
                width=float(width),
                amp=float(width * rng.uniform(0.5, 1.0) * rng.choice([-1, 1])),
                curv=float(rng.normal(0, 0.004) / s),
                sharp=bool(rng.random() < 0.6),
            )
        )
    return out


def _dark_print(
    dp: tuple, spec: FabricSpec, u: np.ndarray, v: np.ndarray, colour: np.ndarray, shade: np.ndarray
) -> np.ndarray:
    """Dark printed motifs over the cloth (dots, scattered blobs, florals, geometric, stripes). Dye, not
    a void: the thread shading still multiplies it, and its edge follows the weave's relief."""
    style, period, radius, dark, phase, rot = dp
    x = u * spec.pitch / period
    y = v * spec.pitch * spec.aspect / period
    cr, sr = math.cos(rot), math.sin(rot)
    x, y = cr * x + sr * y + phase, -sr * x + cr * y + phase * 0.7
    if style in ("dots", "flowers"):
        a = x + 0.5 * (np.floor(y) % 2)
        fa, fb = a - np.floor(a) - 0.5, y - np.floor(y) - 0.5
        r2 = fa * fa + fb * fb
        if style == "flowers":
            phi = np.arctan2(fb, fa)
            rr = radius * (0.55 + 0.45 * np.abs(np.cos(2.5 * phi + 0.8 * np.sin(3 * phi))))
            field_ = 1.0 - np.sqrt(r2) / rr
        else:
            field_ = 1.0 - np.sqrt(r2) / radius
    elif style == "scatter":  # irregular blobs at random-looking places
        g = np.sin(2.1 * x + 1.3 * np.sin(1.7 * y)) * np.sin(1.9 * y + 1.1 * np.sin(2.3 * x)) + 0.5 * np.sin(
            3.7 * x + 2.9 * y
        )
        field_ = (g - 0.95) * 2.5
    elif style == "geometric":  # triangles / chevrons
        fa, fb = x - np.floor(x), y - np.floor(y)
        field_ = (radius * 2.2 - np.abs(fa - 0.5) - np.abs(fb - 0.5) * 0.5 - np.abs(2 * fa - 1) * fb) * 3.0
    else:  # stripes of a print (not woven): thin dark bars
        fa = x - np.floor(x)
        field_ = (radius * 0.6 - np.abs(fa - 0.5)) * 6.0
    rel = shade - float(np.mean(shade))
    alpha = np.clip(field_ * 6.0 + 1.5 * rel, 0.0, 1.0)[..., None]
    return (colour * (1 - alpha) + dark * alpha).astype(np.float32)


def _blotch_print(
    blotch: tuple[np.ndarray, np.ndarray], spec: FabricSpec, u: np.ndarray, v: np.ndarray, colour: np.ndarray
) -> np.ndarray:
    """A large organic print (camouflage, animal, abstract): a sum of warped waves over the fabric,
    cut into the cloth's own colour plus the palette's. Follows the cloth's coordinates, so it folds
    with it."""
    waves, palette = blotch
    x = u * spec.pitch
    y = v * (spec.pitch * spec.aspect)
    base = sum(np.sin(fu * x + fv * y + ph) for fu, fv, ph, _ in waves[:3])
    g = sum(np.sin(fu * x + fv * y + ph + warp * base) for fu, fv, ph, warp in waves[3:])
    cuts = np.quantile(g[::4, ::4], np.linspace(0, 1, len(palette) + 2)[1:-1])
    idx = np.searchsorted(cuts, g)
    return np.where((idx == 0)[..., None], colour, palette[np.maximum(idx - 1, 0)]).astype(np.float32)


def _height_field(
    creases: list[Crease], h: int, w: int, undulation: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Height (px) and its gradients, computed at half resolution and upsampled."""
    hh, ww = max(2, (h + 1) // 2), max(2, (w + 1) // 2)
    field_ = np.zeros((hh, ww), np.float32) if undulation is None else undulation.copy()
    for c in creases:
        ca, sa = math.cos(c.angle), math.sin(c.angle)
        half = c.length / 2 + 3 * c.width
        ex = abs(ca) * half + abs(sa) * 4 * c.width + abs(c.curv) * half * half + abs(c.wave)
        ey = abs(sa) * half + abs(ca) * 4 * c.width + abs(c.curv) * half * half + abs(c.wave)
        y0, y1 = int(max(0, (c.cy - ey) / 2)), int(min(hh, (c.cy + ey) / 2 + 2))
        x0, x1 = int(max(0, (c.cx - ex) / 2)), int(min(ww, (c.cx + ex) / 2 + 2))
        if y0 >= y1 or x0 >= x1:
            continue
        ys = (np.arange(y0, y1, dtype=np.float32) * 2.0 - c.cy)[:, None]
        xs = (np.arange(x0, x1, dtype=np.float32) * 2.0 - c.cx)[None, :]
        dt = xs * ca + ys * sa
        dn = -xs * sa + ys * ca + c.curv * dt * dt
        if c.wave:
            dn = dn + c.wave * np.sin(dt / c.wave_len + c.wave_phase)
        if c.sharp:
            prof = np.exp(-np.abs(dn) / c.width)
        else:
            prof = np.exp(-((dn / c.width) ** 2))
        env = np.exp(-((dt / (c.length / 2)) ** 4))
        field_[y0:y1, x0:x1] += c.amp * prof * env
    gy, gx = np.gradient(field_, 2.0)
    stack = np.stack([field_, gx, gy], axis=-1).astype(np.float32)
    up = _ops.resize(stack, (h, w))
    return up[..., 0], up[..., 1], up[..., 2]


# --------------------------------------------------------------------------- holes


def _random_hole(rng: np.random.Generator, h: int, w: int, s: float, pitch: float, kind: str | None = None) -> Hole:
    side = min(h, w)
    kind = kind or str(rng.choice(HOLE_TYPES, p=[0.25, 0.25, 0.2, 0.15, 0.15]))
    frac = float(rng.uniform(0.02, 0.15))
    size = frac * side
    ratio = {"round": 1.0, "ragged": rng.uniform(1.0, 1.6), "elongated": rng.uniform(1.8, 4.0)}.get(
        kind, rng.uniform(7.0, 18.0)
    )
    n_seg = int(rng.integers(2, 4)) if kind == "tear" else 1
    if kind in ("cut", "tear"):
        # each straight piece at least twice as long as it gapes; a tear's pieces are its length / n_seg
        size = max(size, n_seg * 2.0 * MIN_SLIT_PX * s)
        piece = size / n_seg * (1.1 if kind == "tear" else 1.0)
        ratio = min(ratio, piece / (MIN_SLIT_PX * s))
    n_h = 4 if kind != "ragged" else 9
    amps = {"ragged": 0.22, "tear": 0.1}.get(kind, 0.05)
    harm = np.stack(
        [
            np.arange(2, 2 + n_h),
            rng.uniform(0, amps, n_h) / np.sqrt(np.arange(1, 1 + n_h)),
            rng.uniform(0, 6.3, n_h),
        ],
        axis=1,
    ).astype(np.float32)
    segments = []
    cy = float(rng.uniform(0.06, 0.94) * h)
    cx = float(rng.uniform(0.06, 0.94) * w)
    angle = float(rng.uniform(0, np.pi))
    if kind == "tear":
        seg_len = size / n_seg * 1.1
        py, px, a = cy, cx, angle
        pts = []
        for _ in range(n_seg):
            ny, nx = py + math.sin(a) * seg_len, px + math.cos(a) * seg_len
            pts.append(((py + ny) / 2, (px + nx) / 2, a, seg_len))
            py, px = ny, nx
            a = a + rng.choice([-1, 1]) * rng.uniform(0.4, 1.4)
        my = np.mean([p[0] for p in pts])
        mx = np.mean([p[1] for p in pts])
        segments = [(p[0] - my + cy, p[1] - mx + cx, p[2], p[3]) for p in pts]
    threads = []
    if kind not in ("cut",) and rng.random() < 0.4:
        for _ in range(int(rng.integers(1, 4))):
            threads.append(
                (
                    float(rng.uniform(0, np.pi)),
                    float(rng.uniform(-0.3, 0.3) * size / ratio),
                    float(rng.uniform(0, 0.15) * size),
                    float(rng.uniform(0.05, 0.4)),
                    float(rng.uniform(0.45, 1.1) * s),
                )
            )
    # fraying narrows a cut or tear by under a third of its opening
    fray_cap = min(pitch * s, 0.5 * MIN_SLIT_PX * s) if kind in ("cut", "tear") else min(pitch * s, 4 * s)
    return Hole(
        cy=cy,
        cx=cx,
        size=size,
        kind=kind,
        angle=angle,
        ratio=float(ratio),
        harmonics=harm,
        fray_k=int(max(6, np.pi * size / max(pitch * s, 1.5))),
        fray_amp=float(rng.uniform(0.2, 0.6) * fray_cap),
        rim=float(rng.uniform(0.8, 3.5) * s),
        rim_dark=float(rng.uniform(0.45, 0.9)),
        threads=threads,
        segments=segments,
    )


def _hole_shape(hole: Hole, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside, inside-rim) boolean masks of one hole over the pixel grid patch."""
    parts = hole.segments or [(hole.cy, hole.cx, hole.angle, hole.size)]
    inside = np.zeros(np.broadcast_shapes(ys.shape, xs.shape), bool)
    rim = np.zeros_like(inside)
    for cy, cx, ang, length in parts:
        dy, dx = ys - cy, xs - cx
        ca, sa = math.cos(ang), math.sin(ang)
        a = dx * ca + dy * sa
        b = -dx * sa + dy * ca
        ra = length / 2
        rb = max(ra / hole.ratio, 0.45)
        phi = np.arctan2(b * (ra / rb), a)
        wobble = np.zeros_like(phi)
        for k, amp, ph in hole.harmonics.tolist():
            wobble += amp * np.cos(k * phi + ph)
        fray_px = hole.fray_amp * np.sin(hole.fray_k * phi + 1.3 * np.sin(3 * hole.fray_k * phi))
        rn = np.sqrt((a / ra) ** 2 + (b / rb) ** 2)
        # radial coordinate in px along the minor axis scale keeps fray in pixels
        edge = 1.0 + wobble + fray_px / max(min(ra, rb) * 2.0, 1.0)
        inside |= rn < edge
        rim |= rn < edge + hole.rim / max(rb, 1.0)
    return inside, rim


def _thread_mask(hole: Hole, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast_shapes(ys.shape, xs.shape), bool)
    for ang, off, amp, freq, width in hole.threads:
        dy, dx = ys - hole.cy, xs - hole.cx
        t = dx * math.cos(ang) + dy * math.sin(ang)
        d = -dx * math.sin(ang) + dy * math.cos(ang) - off - amp * np.sin(freq * t)
        out |= (np.abs(d) < width) & (np.abs(t) < hole.size * 0.6)
    return out


def _background(rng: np.random.Generator, h: int, w: int, fabric_lum: float) -> np.ndarray:
    """What shows through a hole: dark, light or a coloured / textured table (HxWx3, 0..1)."""
    for _ in range(8):
        r = rng.random()
        if r < 0.35:
            col = _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.0, 0.14))
        elif r < 0.6:
            col = _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.15), rng.uniform(0.82, 1.0))
        else:
            col = _ops.hsv_to_rgb(rng.random(), rng.uniform(0.2, 0.95), rng.uniform(0.25, 0.95))
        if abs(_ops.luminance(col) - fabric_lum) > 0.3:
            break
    else:  # no contrasting draw: the opposite of the cloth
        col = _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.2), 0.05 if fabric_lum > 0.45 else 0.95)
    tex = 1.0 + rng.uniform(0.0, 0.15) * _ops.value_noise(rng, (h, w), (int(rng.integers(2, 9)),) * 2)
    if rng.random() < 0.3:  # wood grain
        yy = np.arange(h, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        a = rng.uniform(0, np.pi)
        tex = tex * (1 + 0.08 * np.sin((xx * math.cos(a) + yy * math.sin(a)) * rng.uniform(0.2, 0.8) + 3 * tex))
    return col[None, None, :] * tex[..., None]


def _contrasting(behind: np.ndarray, cloth: np.ndarray) -> np.ndarray:
    """What shows through one hole (K x 3), made to differ from the cloth around it (M x 3) by at
    least MIN_CONTRAST in luminance. Inspection tables back the cloth with a contrasting surface for
    this reason; a hole the same shade as the threads around it is invisible to camera and eye alike,
    and labelling it "hole" would only teach the model noise."""
    if len(behind) == 0 or len(cloth) == 0:
        return behind
    lum_cloth = _ops.luminance(cloth.reshape(-1, 3).mean(0))
    lum_behind = _ops.luminance(behind.mean(0))
    if abs(lum_behind - lum_cloth) >= MIN_CONTRAST:
        return behind
    target = lum_cloth - 0.35 if lum_cloth > 0.45 else lum_cloth + 0.4
    return np.clip(behind * (max(target, 0.02) / max(lum_behind, 0.02)), 0.0, 1.0)


# --------------------------------------------------------------------------- scene


@dataclass
class Scene:
    fabric: FabricSpec
    creases: list[Crease]
    holes: list[Hole]
    undulation: float
    light: tuple[float, float]
    light_strength: float
    seam: tuple[float, float, float, float] | None  # cy, cx, angle, panel shift
    stripe: tuple[float, float, np.ndarray] | None  # u0 (threads), width (threads), colour
    dot: tuple[float, float, float, np.ndarray] | None  # cy, cx, radius px, colour
    tags: list[str]
    blotch: tuple[np.ndarray, np.ndarray] | None = None  # waves (k x 4: fu, fv, phase, warp), palette
    real: _realism.Realism | None = None  # hard negatives, dark prints, sheen: ``generate(realism=True)``


def _make_scene(rng: np.random.Generator, h: int, w: int, hole: bool, wrinkled: bool) -> Scene:
    s = min(h, w) / 224.0
    fabric = _fabric_spec(rng)
    tags = [f"{fabric.weave}/{fabric.pattern}"]
    creases: list[Crease] = []
    if wrinkled:
        n = int(rng.integers(6, 23) * max(1.0, (h * w) / (min(h, w) ** 2)) ** 0.5)
        creases = _random_creases(rng, h, w, s, n)
        tags.append("wrinkles")
    elif rng.random() < 0.3:
        creases = [_fold(rng, h, w, s)]
        tags.append("fold")
    seam = None
    if rng.random() < 0.15:
        seam = (
            rng.uniform(0.2, 0.8) * h,
            rng.uniform(0.2, 0.8) * w,
            rng.uniform(0, np.pi),
            rng.uniform(0.2, 0.8),
        )
        tags.append("seam")
    stripe = None
    if rng.random() < 0.12:
        width = rng.uniform(2, 20) * s / fabric.pitch
        stripe = (
            fabric.offset[0] + rng.uniform(-60, 60) * s / fabric.pitch,
            max(1.0, width),
            _random_colour(rng) * (0.3 if rng.random() < 0.5 else 1.0),
        )
        tags.append("stripe")
    dot = None
    if rng.random() < 0.15:
        dot = (
            rng.uniform(0.1, 0.9) * h,
            rng.uniform(0.1, 0.9) * w,
            float(np.exp(rng.uniform(np.log(0.01), np.log(0.07))) * min(h, w)),
            # printed dye, not a void: dark, but never so dark that the weave under it disappears
            _ops.hsv_to_rgb(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.1, 0.35)),
        )
        tags.append("dot")
    holes: list[Hole] = []
    if hole:
        n = int(rng.choice([1, 2, 3], p=[0.78, 0.16, 0.06]))
        holes = [_random_hole(rng, h, w, s, fabric.pitch) for _ in range(n)]
        tags.append("hole:" + ",".join(x.kind for x in holes))
    la = rng.uniform(0, 2 * np.pi)
    return Scene(
        fabric=fabric,
        creases=creases,
        holes=holes,
        undulation=float(rng.uniform(0, 6) * s),
        light=(float(np.cos(la)), float(np.sin(la))),
        light_strength=float(rng.uniform(0.7, 1.4)),
        seam=seam,
        stripe=stripe,
        dot=dot,
        tags=tags,
    )


def _render_cloth(
    rng: np.random.Generator,
    scene: Scene,
    h: int,
    w: int,
    row0: float = 0.0,
    centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cloth colour (HxWx3, 0..1 before lighting) and hole mask for the scene."""
    s = min(h, w) / 224.0 if centre is None else 1.0
    spec = scene.fabric
    und = None
    if scene.undulation > 0:
        hh, ww = max(2, (h + 1) // 2), max(2, (w + 1) // 2)
        cells = (max(1, int(h / (90 * max(s, 1e-3)))), max(1, int(w / (90 * max(s, 1e-3)))))
        und = scene.undulation * _ops.value_noise(rng, (hh, ww), cells)
    height, gx, gy = _height_field(scene.creases, h, w, und)
    ys = np.arange(h, dtype=np.float32)[:, None] + row0
    xs = np.arange(w, dtype=np.float32)[None, :]
    disp = 1.5
    xd = xs + disp * gx * np.float32(s)
    yd = ys + disp * gy * np.float32(s)
    c = centre if centre is not None else (h / 2.0, w / 2.0)
    u, v = _fabric_coords(spec, xd, yd, c, s)
    seam_line = None
    if scene.seam is not None:
        cy, cx, ang, shift = scene.seam
        d = -(xs - cx) * math.sin(ang) + (ys - cy) * math.cos(ang)
        side = d > 0
        u = np.where(side, u + shift * 7.3, u)
        v = np.where(side, -v + shift * 11.1, v)
        seam_line = d
    colour, shade = _weave_colour(spec, u, v)
    colour = np.array(colour, dtype=np.float32, copy=True)
    if spec.print_spec is not None:
        m = _print_mask(spec, u, v)
        colour[m] = spec.print_spec[3]
    if scene.stripe is not None:
        u0, width, col = scene.stripe
        band = (u >= u0) & (u < u0 + width)
        colour[band] = col
    if scene.blotch is not None:
        colour = _blotch_print(scene.blotch, spec, u, v, colour)
    if scene.dot is not None:
        cy, cx, r, col = scene.dot
        d2 = ((ys - cy) ** 2 + (xs - cx) ** 2) / (r * r)
        # dye wicks along the threads: the dot's edge follows the weave's relief, and the thread
        # shading still multiplies the dot below (what tells a print from a hole showing a dark table)
        alpha = np.clip((1.0 - d2) * 3.0 + 1.5 * (shade - shade.mean()), 0.0, 1.0)[..., None]
        colour = colour * (1 - alpha) + col * alpha
    if scene.real is not None:
        if scene.real.dark_print is not None:
            colour = _dark_print(scene.real.dark_print, spec, u, v, colour, shade)
        if scene.real.marks:
            shade = np.array(shade, dtype=np.float32, copy=True)
            _realism.apply_marks(scene.real.marks, colour, shade, scene.light, s)
    # fibre fuzz and mottling
    if spec.fuzz > 0:
        shade = shade * (1.0 + spec.fuzz * rng.standard_normal(shade.shape, dtype=np.float32))
    if spec.mottle > 0:
        cells = (max(2, int(h / (40 * s))), max(2, int(w / (40 * s))))
        shade = shade * (1.0 + spec.mottle * _ops.value_noise(rng, (h, w), cells))
    # crease shading
    lx, ly = scene.light
    slope = np.sqrt(gx * gx + gy * gy)
    relief = scene.light_strength * (gx * lx + gy * ly) - 0.3 * slope - 0.02 * height / max(s, 1e-3)
    shade = shade * np.clip(1.0 + relief, 0.25, 1.8)
    if seam_line is not None:
        groove = np.exp(-((seam_line / (1.5 * s)) ** 2))
        shade = shade * (1.0 - 0.5 * groove)
        t = (xs - scene.seam[1]) * math.cos(scene.seam[2]) + (ys - scene.seam[0]) * math.sin(scene.seam[2])
        stitch = (np.abs(seam_line - 4.0 * s) < 1.0 * s) & ((t / (5.0 * s)) % 1.0 < 0.6)
        shade = np.where(stitch, shade * 0.6 + 0.5, shade)
    if spec.sheen > 0:
        shade = shade * (1.0 + spec.sheen * np.cos(u * 0.02 + v * 0.03) * 0.5)
    cloth = (colour * shade[..., None]).astype(np.float32, copy=False)
    if scene.real is not None and scene.real.specular > 0:  # soft sheen on crease faces turned to the light
        facing = (gx * lx + gy * ly) * np.float32(1.0 / (float(np.percentile(slope[::3, ::3], 99)) + 0.05))
        cloth = cloth + scene.real.specular * np.clip(facing, 0.0, 1.0)[..., None] ** 2
    mask = np.zeros((h, w), bool)
    if scene.holes:
        fabric_lum = _ops.luminance(spec.warp_cols.mean(0))
        bg = _background(rng, h, w, fabric_lum)
        for hole in scene.holes:
            pad = hole.size * 0.75 + hole.rim + 4
            hy, hx = hole.cy - row0, hole.cx
            y0, y1 = int(max(0, hy - pad)), int(min(h, hy + pad + 1))
            x0, x1 = int(max(0, hx - pad)), int(min(w, hx + pad + 1))
            if y0 >= y1 or x0 >= x1:
                continue
            py = np.arange(y0, y1, dtype=np.float32)[:, None] + row0
            px = np.arange(x0, x1, dtype=np.float32)[None, :]
            inside, rim = _hole_shape(hole, py, px)
            if hole.threads:
                crossed = inside & ~_thread_mask(hole, py, px)
                # loose threads may cross a hole but not close it: a hole must stay open to count as one
                if crossed.sum() >= max(MIN_OPEN_PX * s * s, 0.5 * inside.sum()):
                    inside = crossed
            patch = cloth[y0:y1, x0:x1]
            ring = rim & ~inside
            patch[ring] *= hole.rim_dark
            patch[inside] = _contrasting(bg[y0:y1, x0:x1][inside], patch[~rim])
            mask[y0:y1, x0:x1] |= inside
    return cloth, mask


def _camera(rng: np.random.Generator, img: np.ndarray, s: float, strong: bool = True) -> np.ndarray:
    """Lighting gradient, vignetting, white balance, exposure, blur, noise, JPEG. img 0..1 -> 0..255."""
    h, w = img.shape[:2]
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    g = rng.normal(0, 0.18, 2)
    light = 1.0 + g[0] * xs + g[1] * ys
    if rng.random() < 0.6:
        light = light * (1.0 - rng.uniform(0, 0.45) * (xs * xs + ys * ys) / 2)
    gain = rng.uniform(0.65, 1.25) * (1 + rng.normal(0, 0.06, 3)).astype(np.float32)
    img = img * (light[..., None] * gain)
    img = np.clip(img, 0, 1.2) ** rng.uniform(0.8, 1.25)
    sigma = rng.choice([0.0, rng.uniform(0.3, 0.8), rng.uniform(0.6, 1.3)], p=[0.35, 0.45, 0.2]) * s
    if sigma > 0.25:
        img = _ops.blur(img, float(sigma))
    img = img * 255.0
    if strong:
        sd = rng.choice([rng.uniform(0, 3), rng.uniform(2, 9)])
        img = img + np.float32(sd) * rng.standard_normal(img.shape, dtype=np.float32)
        if rng.random() < 0.3:  # chroma / low-light noise
            img = img + np.float32(sd) * rng.standard_normal((h, w, 1), dtype=np.float32)
        if rng.random() < 0.5:
            img = _ops.jpeg_like(np.clip(img, 0, 255), int(rng.integers(25, 92)))
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def generate(
    seed: int,
    size: tuple[int, int] = (224, 224),
    *,
    hole: bool | None = None,
    wrinkled: bool | None = None,
    variety: bool = False,
    realism: bool = False,
) -> Sample:
    """Render one labelled fabric image. ``size`` is (height, width); same seed, same image.
    ``variety`` adds large blotch prints and crumpled ripples (:func:`_add_variety`); ``realism`` adds
    hard negatives (knots, slubs, thick yarns, floats, spots, stains, dark prints), puckered and pinched
    wrinkles, sheen and a phone-like camera (:func:`_add_realism`, :mod:`fabricscope.synth.realism`).
    Both draw from their own random streams and never change the labels or the hole mask; both off,
    the images are those the shipped model was trained on."""
    h, w = int(size[0]), int(size[1])
    if h < 16 or w < 16:
        raise ValueError(f"size must be at least 16x16, got {size}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5EED])
    want_hole = bool(rng.random() < 0.5) if hole is None else bool(hole)
    want_wrinkled = bool(rng.random() < 0.5) if wrinkled is None else bool(wrinkled)
    scene = _make_scene(rng, h, w, want_hole, want_wrinkled)
    if variety:
        _add_variety(np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5EED, 2]), scene, h, w)
    real_rng = None
    if realism:
        real_rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5EED, 3])
        _add_realism(real_rng, scene, h, w)
    cloth, mask = _render_cloth(rng, scene, h, w)
    if real_rng is not None:
        image = _realism.camera(real_rng, cloth, min(h, w) / 224.0)
    else:
        image = _camera(rng, cloth, min(h, w) / 224.0)
    side = min(h, w)
    centres, sizes = [], []
    for hl in scene.holes:
        centres.append((float(hl.cy), float(hl.cx)))
        sizes.append(float(hl.size / side))
    has_hole = bool(mask.sum() > 0)
    return Sample(
        image=image,
        hole_mask=mask,
        wrinkled=want_wrinkled,
        has_hole=has_hole,
        kind="+".join(scene.tags),
        hole_centres=tuple(centres),
        hole_sizes=tuple(sizes),
    )


@dataclass
class Strip:
    """A long strip of fabric for the demo feed, with what a frame of it should be judged."""

    image: np.ndarray  # length x width x 3 uint8
    hole_mask: np.ndarray  # length x width bool
    wrinkled_rows: np.ndarray  # length bool: the rows of the wrinkled stretches


def render_strip(seed: int, width: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """A long strip of one fabric (length x width x 3 uint8) and its hole mask (length x width bool).

    Holes turn up every few hundred rows and wrinkled stretches now and then; the
    threads run roughly along the strip, as on an inspection table.
    """
    strip = render_labelled_strip(seed, width, length)
    return strip.image, strip.hole_mask


def render_labelled_strip(seed: int, width: int, length: int) -> Strip:
    """:func:`render_strip` with the rows of its wrinkled stretches (creases may reach a little past them)."""
    if width < 16 or length < 16:
        raise ValueError("strip must be at least 16x16")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x57219])
    s = width / 224.0 * 0.6  # show more fabric across the strip than in one frame
    fabric = _fabric_spec(rng)
    fabric.angle = float(rng.normal(0, 0.03))
    fabric.persp = (0.0, 0.0)
    fabric.pitch = fabric.pitch * s
    creases: list[Crease] = []
    holes: list[Hole] = []
    wrinkled_rows = np.zeros(length, bool)
    pos = rng.uniform(0, 300)
    while pos < length:
        if rng.random() < 0.35:  # wrinkled stretch
            span = rng.uniform(250, 900) * s
            wrinkled_rows[int(pos) : int(pos + span)] = True
            sub = _random_creases(rng, int(span), width, s, int(rng.integers(8, 20) * span / width + 4))
            for c in sub:
                c.cy += pos
            creases += sub
            pos += span
        if rng.random() < 0.75:
            kind = str(rng.choice(HOLE_TYPES, p=[0.3, 0.3, 0.2, 0.1, 0.1]))
            hl = _random_hole(rng, width, width, s, fabric.pitch / max(s, 1e-3), kind)
            new_cy = float(pos + rng.uniform(0, 200) * s)
            new_cx = float(rng.uniform(0.1, 0.9) * width)
            dy, dx = new_cy - hl.cy, new_cx - hl.cx
            hl.cy, hl.cx = new_cy, new_cx
            hl.segments = [(sy + dy, sx + dx, a, ln) for sy, sx, a, ln in hl.segments]
            holes.append(hl)
        pos += rng.uniform(120, 450) * s
    la = rng.uniform(0, 2 * np.pi)
    scene = Scene(
        fabric=fabric,
        creases=creases,
        holes=holes,
        undulation=float(rng.uniform(0, 4) * s),
        light=(float(np.cos(la)), float(np.sin(la))),
        light_strength=float(rng.uniform(0.6, 1.2)),
        seam=None,
        stripe=None,
        dot=None,
        tags=[],
    )
    cloth, mask = _render_cloth(rng, scene, length, width, centre=(length / 2.0, width / 2.0))
    img = np.clip(cloth * rng.uniform(0.8, 1.1) * 255.0 + 0.5, 0, 255)
    if rng.random() < 0.7:
        img = img + rng.normal(0, 2.0, (length, width, 1)).astype(np.float32)
    return Strip(np.clip(img, 0, 255).astype(np.uint8), mask, wrinkled_rows)
