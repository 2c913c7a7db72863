"""A second fabric renderer, built by other means, for testing the model only (never for training).

The training generator (``generator.py``) draws cloth thread by thread from weave matrices,
creases as summed ridge profiles, holes from shape parameters and a camera of its own. A model
can learn the quirks of one renderer; the issue asks how it does on fabric "rendered by other
means". This module renders labelled fabric from different principles throughout:

- cloth: spectral synthesis. White noise is filtered in the Fourier domain around the
  frequencies of a weave (two thread directions and their interlacing), a rib, a jersey's three
  loop directions, a boucle ring or a felt's 1/f fall-off; colour from heather mixes, dye
  gradients, camouflage-style blotch prints or polka dots;
- relief: a random height field (band-limited noise with a main direction for wrinkles, a broad
  swell for smooth cloth, one ridge for a single fold), lit through its surface normals (ambient +
  Lambert) and seen with parallax (a tilted camera displaces the texture by the height);
- holes: polar outlines from a random Fourier series (blobs, slits, L-shaped tears, burns with a
  singed rim) over a dark void, a finger, a light table, a coloured surface or a checked cloth,
  with the cloth's shadow cast into the hole and loose fibres drawn as line segments;
- camera: Bayer mosaic with bilinear demosaicing, lens or motion blur through the FFT, lateral
  chromatic aberration, shot noise, and Pillow's real JPEG encoder.

The labelling rules are the training generator's, so the two sets ask the same question: a hole
opens at least ``MIN_OPEN_PX`` background pixels, differs from the cloth around it by at least
``MIN_CONTRAST`` in luminance, and fibres never close more than half of it; a single fold and a
printed dot are not defects. numpy only (Pillow for the JPEG step); deterministic per seed.
"""

from __future__ import annotations

import io
import math

import numpy as np

from fabricscope.synth import _ops
from fabricscope.synth.generator import MIN_OPEN_PX, Sample, _contrasting

TEXTURES = ("woven", "twill", "rib", "jersey", "boucle", "felt")
COLOURWAYS = ("solid", "heather", "dyed", "blotch", "polka")
HOLE_SHAPES = ("blob", "slit", "l-tear", "burn")
SEED_SALT = 0x0DD5  # keeps these draws apart from the training generator's for the same seed


def _freq_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (cycles per pixel) of an n x n real FFT: rows full, columns the half plane."""
    return np.fft.fftfreq(n).astype(np.float32)[:, None], np.fft.rfftfreq(n).astype(np.float32)[None, :]


def _filtered_noise(rng: np.random.Generator, n: int, spectrum: np.ndarray) -> np.ndarray:
    """White noise shaped by an amplitude ``spectrum`` (n x n//2+1, real-FFT layout); mean 0, std 1."""
    noise = rng.standard_normal((n, n)).astype(np.float32)
    field_ = np.fft.irfft2(np.fft.rfft2(noise) * spectrum, s=(n, n)).astype(np.float32)
    field_ -= field_.mean()
    return field_ / max(float(field_.std()), 1e-6)


def _peaks(fy: np.ndarray, fx: np.ndarray, peaks: list[tuple[float, float, float]], bw: float) -> np.ndarray:
    """Sum of Gaussian bumps of width ``bw`` at +-(fy, fx) with weights: a noisy grating per peak."""
    out = np.zeros(np.broadcast_shapes(fy.shape, fx.shape), np.float32)
    for py, px, wgt in peaks:
        for sgn in (1.0, -1.0):
            out += wgt * np.exp(-((fy - sgn * py) ** 2 + (fx - sgn * px) ** 2) / (2 * bw * bw))
    return out


def _cloth_texture(rng: np.random.Generator, n: int, kind: str, scale: float) -> np.ndarray:
    """Thread relief of one cloth (n x n, about -1..1) by spectral synthesis."""
    fy, fx = _freq_grid(n)
    period = float(np.exp(rng.uniform(np.log(3.0), np.log(13.0)))) * scale
    f0 = 1.0 / period
    th = rng.uniform(0, np.pi)
    regular = rng.uniform(0.03, 0.12)  # bandwidth relative to f0: small = even threads
    bw = f0 * regular

    def vec(angle: float, f: float) -> tuple[float, float]:
        return f * math.sin(angle), f * math.cos(angle)

    if kind in ("woven", "twill"):
        a = vec(th, f0)
        b = vec(th + np.pi / 2 + rng.uniform(-0.1, 0.1), f0 * rng.uniform(0.7, 1.4))
        peaks = [(*a, 1.0), (*b, 1.0), (a[0] + b[0], a[1] + b[1], 0.7), (a[0] - b[0], a[1] - b[1], 0.7)]
        peaks += [(2 * a[0], 2 * a[1], 0.3), (2 * b[0], 2 * b[1], 0.3)]
        if kind == "twill":  # diagonal wales: a strong line family between the two thread directions
            d = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            peaks.append((*d, 1.6))
        spec = _peaks(fy, fx, peaks, bw)
    elif kind == "rib":
        a = vec(th, f0)
        spec = _peaks(fy, fx, [(*a, 1.0), (2 * a[0], 2 * a[1], 0.4)], bw)
        spec += 0.15 * _peaks(fy, fx, [(*vec(th + np.pi / 2, f0 * 2.5), 1.0)], f0 * 0.5)
    elif kind == "jersey":
        spec = _peaks(fy, fx, [(*vec(th + k * np.pi / 3, f0), 1.0) for k in range(3)], bw)
    elif kind == "boucle":
        r = np.sqrt(fy * fy + fx * fx)
        spec = np.exp(-((r - f0) ** 2) / (2 * (0.3 * f0) ** 2)).astype(np.float32)
    else:  # felt / fleece: no threads, a 1/f fall-off with the finest detail cut by the fibres' size
        r = np.sqrt(fy * fy + fx * fx) + 1.0 / n
        spec = (r**-1.2 * np.exp(-((r * period / 2) ** 2))).astype(np.float32)
    tex = _filtered_noise(rng, n, spec)
    # yarn irregularity: slow changes of contrast over the cloth
    tex *= 1.0 + 0.3 * _filtered_noise(rng, n, _lowpass(fy, fx, 1.0 / (60 * scale)))
    return np.tanh(tex / 1.5)


def _lowpass(fy: np.ndarray, fx: np.ndarray, fc: float) -> np.ndarray:
    return np.exp(-(fy * fy + fx * fx) / (2 * fc * fc)).astype(np.float32)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return _ops.hsv_to_rgb(h % 1.0, float(np.clip(s, 0, 1)), float(np.clip(v, 0, 1))).astype(np.float32)


def _colour_field(rng: np.random.Generator, n: int, kind: str, scale: float) -> tuple[np.ndarray, bool]:
    """Cloth colour (n x n x 3, 0..1) and whether it holds dark printed areas (hard negatives)."""
    fy, fx = _freq_grid(n)
    base_v = rng.uniform(0.2, 0.95)
    base = _hsv(rng.random(), rng.uniform(0, 0.8), base_v)
    col = np.broadcast_to(base, (n, n, 3)).copy()
    dark_print = False
    if kind == "heather":  # two yarn colours mixed fibre by fibre
        other = _hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.1, 0.95))
        fine = _filtered_noise(rng, n, _lowpass(fy, fx, 1.0 / (2.5 * scale)))
        a = 1.0 / (1.0 + np.exp(-3.0 * (fine - rng.uniform(-0.5, 0.5))))
        col = col * (1 - a[..., None]) + other * a[..., None]
    elif kind == "dyed":  # dye gradient / tie-dye: a slow hue and value drift
        drift = _filtered_noise(rng, n, _lowpass(fy, fx, 1.0 / (rng.uniform(40, 120) * scale)))
        other = _hsv(rng.random(), rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.95))
        a = np.clip(0.5 + 0.4 * drift, 0, 1)[..., None]
        col = col * (1 - a) + other * a
    elif kind == "blotch":  # camouflage-style print: low-frequency noise cut into 2-4 flat colours
        levels = int(rng.integers(2, 5))
        blob = _filtered_noise(rng, n, _lowpass(fy, fx, 1.0 / (rng.uniform(20, 60) * scale)))
        cuts = np.quantile(blob, np.linspace(0, 1, levels + 1)[1:-1])
        idx = np.searchsorted(cuts, blob)
        palette = np.stack(
            [base] + [_hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.1, 0.95)) for _ in range(levels - 1)]
        )
        col = palette[idx]
        dark_print = bool((palette @ np.array([0.299, 0.587, 0.114], np.float32)).min() < 0.3)
    elif kind == "polka":  # a lattice of printed discs
        period = rng.uniform(14, 40) * scale
        radius = period * rng.uniform(0.12, 0.3)
        th = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
        u = (xx * math.cos(th) + yy * math.sin(th)) / period
        v = (-xx * math.sin(th) + yy * math.cos(th)) / period
        u = u + 0.5 * (np.floor(v) % 2)  # staggered rows
        d = np.hypot(u - np.round(u), v - np.round(v)) * period
        a = np.clip(radius - d + 0.5, 0, 1)[..., None]
        dot_col = _hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.05, 1.0))
        col = col * (1 - a) + dot_col * a
        dark_print = bool(_ops.luminance(dot_col) < 0.3)
    return col.astype(np.float32), dark_print


def _relief(rng: np.random.Generator, n: int, kind: str, scale: float) -> np.ndarray:
    """Height field (px) of the cloth: many wrinkles, a smooth swell, or one fold."""
    fy, fx = _freq_grid(n)
    if kind == "wrinkles":
        wl = rng.uniform(20, 70) * scale  # finer ripples read as a crinkled texture, not as wrinkles
        th = rng.uniform(0, np.pi)
        spread = rng.uniform(0.2, 0.7)  # how far the crease directions scatter
        spec = _peaks(fy, fx, [(math.sin(th) / wl, math.cos(th) / wl, 1.0)], spread / wl)
        if rng.random() < 0.4:  # a second crease family
            t2 = th + rng.uniform(0.6, 1.4)
            spec += _peaks(fy, fx, [(math.sin(t2) / wl, math.cos(t2) / wl, rng.uniform(0.4, 1.0))], spread / wl)
        h = _filtered_noise(rng, n, spec)
        if rng.random() < 0.5:  # sharp creases: fold the ridges
            h = 1.0 - 2.0 * np.abs(np.tanh(h))
        slope = rng.uniform(0.45, 1.1)
    elif kind == "fold":
        yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
        th = rng.uniform(0, np.pi)
        c = rng.uniform(0.25, 0.75, 2) * n
        d = (xx - c[1]) * math.sin(th) - (yy - c[0]) * math.cos(th)
        width = rng.uniform(2.0, 8.0) * scale
        h = np.exp(-((d / width) ** 2)) if rng.random() < 0.5 else np.tanh(d / width)
        h = h.astype(np.float32)
        slope = rng.uniform(0.4, 1.0)
    else:  # smooth: the cloth lies in broad swells
        h = _filtered_noise(rng, n, _lowpass(fy, fx, 1.0 / (rng.uniform(150, 400) * scale)))
        slope = rng.uniform(0.0, 0.1)
    gy, gx = np.gradient(h)
    g = np.hypot(gx, gy)
    p = float(np.quantile(g, 0.98 if kind == "fold" else 0.9))
    return (h * (slope / max(p, 1e-6))).astype(np.float32)


def _sample(img: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Bilinear lookup of img (n x n [x C]) at float coordinates (clamped to the edge)."""
    n0, n1 = img.shape[:2]
    yy = np.clip(yy, 0, n0 - 1.001)
    xx = np.clip(xx, 0, n1 - 1.001)
    y0 = yy.astype(np.int32)
    x0 = xx.astype(np.int32)
    fy = yy - y0
    fx = xx - x0
    if img.ndim == 3:
        fy = fy[..., None]
        fx = fx[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bot = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


# --------------------------------------------------------------------------- holes


def _outline(rng: np.random.Generator, shape: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The outline: radius as a function of angle (Fourier amplitudes and phases) and its aspect stretch."""
    k = np.arange(1, 7, dtype=np.float32)
    rough = {"blob": 0.12, "burn": 0.06, "slit": 0.05, "l-tear": 0.05}[shape]
    amps = rng.normal(0, rough, 6).astype(np.float32) / k
    phases = rng.uniform(0, 2 * np.pi, 6).astype(np.float32)
    aspect = {"blob": rng.uniform(1.0, 1.8), "burn": rng.uniform(1.0, 1.3)}.get(shape, rng.uniform(3.5, 8.0))
    return amps, phases, float(aspect)


def _hole_mask(rng: np.random.Generator, shape: str, cy: float, cx: float, size: float, h: int, w: int) -> np.ndarray:
    pad = int(size) + 6  # the outline stays within ~0.75 x size of the centre (an L's legs within size)
    y0, x0 = max(0, int(cy) - pad), max(0, int(cx) - pad)
    yy, xx = np.mgrid[y0 : min(h, int(cy) + pad + 1), x0 : min(w, int(cx) + pad + 1)].astype(np.float32)
    parts = [(rng.uniform(0, np.pi), size)]
    if shape == "l-tear":  # two slits meeting at a corner
        a = parts[0][0]
        parts = [
            (a, size * rng.uniform(0.6, 1.0)),
            (a + np.pi / 2 + rng.uniform(-0.2, 0.2), size * rng.uniform(0.4, 0.8)),
        ]
    box = np.zeros(yy.shape, bool)
    for angle, length in parts:
        amps, phases, aspect = _outline(rng, "slit" if shape == "l-tear" else shape)
        if shape == "l-tear":  # each leg starts at the corner
            oy, ox = cy + 0.5 * length * math.sin(angle), cx + 0.5 * length * math.cos(angle)
        else:
            oy, ox = cy, cx
        dy, dx = yy - oy, xx - ox
        u = dx * math.cos(angle) + dy * math.sin(angle)
        v = -dx * math.sin(angle) + dy * math.cos(angle)
        semi_major = length / 2
        semi_minor = max(semi_major / aspect, 2.0)  # slits gape at least 4 px, as in training
        r = np.hypot(u / semi_major, v / semi_minor)
        t = np.arctan2(v / semi_minor, u / semi_major)
        edge = 1.0 + (amps[None, None, :] * np.cos(np.arange(1, 7)[None, None, :] * t[..., None] + phases)).sum(-1)
        box |= r < edge
    mask = np.zeros((h, w), bool)
    mask[y0 : y0 + box.shape[0], x0 : x0 + box.shape[1]] = box
    return mask


def _behind(rng: np.random.Generator, h: int, w: int, cloth_lum: float) -> np.ndarray:
    """What the hole shows (h x w x 3): a void, a finger, a light table, a colour, a checked cloth."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(8):
        kind = rng.choice(["void", "finger", "light", "colour", "check"], p=[0.3, 0.15, 0.2, 0.2, 0.15])
        if kind == "void":
            col = _hsv(rng.random(), rng.uniform(0, 0.4), rng.uniform(0.0, 0.12))
        elif kind == "finger":
            col = _hsv(rng.uniform(0.02, 0.08), rng.uniform(0.3, 0.55), rng.uniform(0.55, 0.9))
        elif kind == "light":
            col = _hsv(rng.random(), rng.uniform(0, 0.1), rng.uniform(0.85, 1.0))
        else:
            col = _hsv(rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.3, 1.0))
        if abs(_ops.luminance(col) - cloth_lum) > 0.3:
            break
    else:
        kind, col = "void", _hsv(0, 0, 0.05 if cloth_lum > 0.45 else 0.95)
    img = np.broadcast_to(col, (h, w, 3)).astype(np.float32)
    if kind == "finger":  # a rounded surface lit from one side
        a = rng.uniform(0, 2 * np.pi)
        img = img * (0.8 + 0.2 * np.sin((xx * math.cos(a) + yy * math.sin(a)) / rng.uniform(15, 40)))[..., None]
    elif kind == "check":
        p = rng.uniform(6, 20)
        chk = ((np.floor(xx / p) + np.floor(yy / p)) % 2)[..., None]
        img = img * (1 - 0.25 * chk)
    return img


def _fibres(rng: np.random.Generator, mask: np.ndarray, cy: float, cx: float, size: float) -> np.ndarray:
    """Pixels of loose fibres drawn from the rim into the hole (1 px wide segments)."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    for _ in range(int(rng.integers(1, 9))):
        a = rng.uniform(0, 2 * np.pi)
        r0 = size * rng.uniform(0.35, 0.7)
        length = size * rng.uniform(0.2, 0.6)
        bend = rng.uniform(-0.8, 0.8)
        t = np.linspace(0, 1, max(4, int(length * 2)))
        ang = a + np.pi + bend * t
        ys = cy + r0 * math.sin(a) + np.cumsum(np.sin(ang)) * length / len(t)
        xs = cx + r0 * math.cos(a) + np.cumsum(np.cos(ang)) * length / len(t)
        yi = np.clip(np.round(ys).astype(int), 0, h - 1)
        xi = np.clip(np.round(xs).astype(int), 0, w - 1)
        out[yi, xi] = True
    return out


# --------------------------------------------------------------------------- camera


def _filter(channel: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Circular convolution of one channel with a small odd-sized kernel (centred), through the FFT."""
    h, w = channel.shape
    k = np.zeros((h, w), np.float32)
    kh, kw = kernel.shape
    k[:kh, :kw] = kernel
    k = np.roll(k, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return np.fft.irfft2(np.fft.rfft2(channel) * np.fft.rfft2(k), s=(h, w)).astype(np.float32)


def _convolve(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each channel blurred by ``kernel``, normalised to keep the brightness."""
    return np.stack([_filter(img[..., c], kernel / kernel.sum()) for c in range(3)], -1)


def _optics(rng: np.random.Generator, img: np.ndarray, scale: float) -> np.ndarray:
    r = rng.random()
    if r < 0.3:
        return img
    if r < 0.7:  # defocus: a disc
        rad = rng.uniform(0.6, 1.6) * scale
        m = math.ceil(rad) + 1
        yy, xx = np.mgrid[-m : m + 1, -m : m + 1].astype(np.float32)
        kern = np.clip(rad + 0.5 - np.hypot(yy, xx), 0, 1)
    else:  # motion: a short line
        length = rng.uniform(2.0, 5.0) * scale
        a = rng.uniform(0, np.pi)
        m = math.ceil(length / 2) + 1
        yy, xx = np.mgrid[-m : m + 1, -m : m + 1].astype(np.float32)
        along = xx * math.cos(a) + yy * math.sin(a)
        across = -xx * math.sin(a) + yy * math.cos(a)
        kern = np.clip(1 - np.abs(across), 0, 1) * (np.abs(along) <= length / 2)
    return _convolve(img, kern.astype(np.float32))


_DEMOSAIC_RB = np.array([[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]], np.float32)
_DEMOSAIC_G = np.array([[0, 0.25, 0], [0.25, 1.0, 0.25], [0, 0.25, 0]], np.float32)


def _bayer(img: np.ndarray) -> np.ndarray:
    """RGGB mosaic, then bilinear demosaicing: the colour fringes of a cheap sensor."""
    h, w = img.shape[:2]
    keep = np.zeros((h, w, 3), np.float32)
    keep[0::2, 0::2, 0] = 1
    keep[0::2, 1::2, 1] = 1
    keep[1::2, 0::2, 1] = 1
    keep[1::2, 1::2, 2] = 1
    mos = img * keep
    # not normalised: each kernel averages the one, two or four samples of its channel around a pixel
    return np.stack([_filter(mos[..., c], k) for c, k in enumerate((_DEMOSAIC_RB, _DEMOSAIC_G, _DEMOSAIC_RB))], -1)


def _camera(rng: np.random.Generator, img: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rr = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) / ((h * h + w * w) / 4)  # 1 in the corners
    img = img * (1 - rng.uniform(0, 0.35) * rr**2)[..., None]  # cos^4-like fall-off
    img = img * (rng.uniform(0.7, 1.2) * rng.normal(1.0, 0.07, 3).astype(np.float32))
    img = _optics(rng, img, scale)
    if rng.random() < 0.4:  # lateral chromatic aberration: red and blue pulled apart by a pixel or so
        sy, sx = rng.normal(0, 0.6, 2)
        img[..., 0] = _sample(img[..., 0], yy + sy, xx + sx)
        img[..., 2] = _sample(img[..., 2], yy - sy, xx - sx)
    if rng.random() < 0.5:
        img = _bayer(img)
    img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.2)
    k = rng.uniform(0.0, 0.004)  # shot noise grows with the signal, read noise does not
    img = img + np.sqrt(k * img + rng.uniform(0, 1e-4)) * rng.standard_normal(img.shape).astype(np.float32)
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, "JPEG", quality=int(rng.integers(35, 96)), subsampling=int(rng.choice([0, 2])))
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return out


# --------------------------------------------------------------------------- scene


def generate_other(seed: int, size: int = 224, *, hole: bool | None = None, wrinkled: bool | None = None) -> Sample:
    """Render one labelled fabric image by spectral synthesis; same seed, same image."""
    if size < 64:
        raise ValueError(f"size must be at least 64, got {size}")
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, SEED_SALT])
    want_hole = bool(rng.random() < 0.5) if hole is None else bool(hole)
    want_wrinkled = bool(rng.random() < 0.5) if wrinkled is None else bool(wrinkled)
    scale = size / 224.0
    n = 16 * math.ceil(size * 1.25 / 16)  # canvas with room for the parallax
    texture = str(rng.choice(TEXTURES))
    colourway = str(rng.choice(COLOURWAYS, p=[0.35, 0.2, 0.15, 0.15, 0.15]))
    tags = [f"{texture}/{colourway}"]
    tex = _cloth_texture(rng, n, texture, scale)
    colour, dark_print = _colour_field(rng, n, colourway, scale)
    if dark_print:
        tags.append("dot")  # dark printed areas: the hole head's hard negatives
    relief_kind = "wrinkles" if want_wrinkled else ("fold" if rng.random() < 0.3 else "smooth")
    if relief_kind != "smooth":
        tags.append(relief_kind)
    height = _relief(rng, n, relief_kind, scale)
    gy, gx = np.gradient(height)
    # the camera looks down at a slant: the texture slides by the height along the tilt
    tilt = rng.uniform(0.0, 0.4, 2) * rng.choice([-1, 1], 2)
    off = (n - size) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + off
    h_at = height[int(off) : int(off) + size, int(off) : int(off) + size]
    ys, xs = yy + tilt[0] * h_at, xx + tilt[1] * h_at
    seen = _sample(np.concatenate([colour, tex[..., None]], -1), ys, xs)  # one lookup for all four
    relief = 1.0 + rng.uniform(0.1, 0.45) * seen[..., 3]
    cloth = seen[..., :3] * relief[..., None]
    # light through the surface normal: ambient + Lambert, normalised so flat cloth keeps its shade
    az, el = rng.uniform(0, 2 * np.pi), rng.uniform(np.radians(25), np.radians(60))
    light = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)], np.float32)
    gxs = gx[int(off) : int(off) + size, int(off) : int(off) + size]
    gys = gy[int(off) : int(off) + size, int(off) : int(off) + size]
    norm = np.sqrt(gxs * gxs + gys * gys + 1)
    lambert = np.clip((-gxs * light[0] - gys * light[1] + light[2]) / norm, 0, None) / light[2]
    ambient = rng.uniform(0.25, 0.45)
    cloth = cloth * (ambient + (1 - ambient) * lambert)[..., None]
    image = cloth.copy()
    mask = np.zeros((size, size), bool)
    centres: list[tuple[float, float]] = []
    sizes: list[float] = []
    if want_hole:
        for _ in range(int(rng.choice([1, 2], p=[0.8, 0.2]))):
            shape = str(rng.choice(HOLE_SHAPES, p=[0.35, 0.3, 0.15, 0.2]))
            extent = float(np.exp(rng.uniform(np.log(0.02), np.log(0.15)))) * size
            cy, cx = rng.uniform(0.05, 0.95, 2) * size
            inside = _hole_mask(rng, shape, float(cy), float(cx), extent, size, size) & ~mask
            if inside.sum() < MIN_OPEN_PX * scale * scale:
                continue
            ring = _ops.blur(inside.astype(np.float32), max(1.0, extent * 0.08)) > 0.02
            ring &= ~inside
            cloth_lum = _ops.luminance(cloth[ring].mean(0)) if ring.any() else 0.5
            behind = _behind(rng, size, size, cloth_lum)
            # the cloth's edge casts a shadow into the hole, away from the light
            lit = np.roll(inside, (round(2 * math.sin(az)), round(2 * math.cos(az))), axis=(0, 1))
            behind = behind * np.where(lit, 1.0, 0.55)[..., None].astype(np.float32)
            if shape == "burn":  # singed rim
                image[ring] = image[ring] * 0.35 + _hsv(0.07, 0.6, 0.25) * 0.65
            else:
                image[ring] *= rng.uniform(0.7, 0.95)
            open_ = inside.copy()
            if rng.random() < 0.5:
                fib = _fibres(rng, inside, float(cy), float(cx), extent) & inside
                if (inside & ~fib).sum() >= max(MIN_OPEN_PX * scale * scale, 0.5 * inside.sum()):
                    open_ = inside & ~fib
                    image[fib] = cloth[fib] * 0.9
            image[open_] = _contrasting(behind[open_], cloth[ring])  # the training rule: no invisible holes
            mask |= open_
            ys_, xs_ = np.nonzero(open_)
            centres.append((float(ys_.mean()), float(xs_.mean())))
            span = max(np.ptp(ys_), np.ptp(xs_)) + 1
            sizes.append(float(span / size))
            tags.append(f"hole:{shape}")
    return Sample(
        image=_camera(rng, image, scale),
        hole_mask=mask,
        wrinkled=want_wrinkled,
        has_hole=bool(mask.any()),
        kind="+".join(tags),
        hole_centres=tuple(centres),
        hole_sizes=tuple(sizes),
    )
