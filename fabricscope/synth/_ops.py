"""Small numpy image operations used by the fabric generator (no torch, no Qt)."""

from __future__ import annotations

import numpy as np


def value_noise(rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """Smooth random field in [-1, 1]-ish: a random grid of ``cells`` upsampled bilinearly."""
    gh, gw = max(1, cells[0]), max(1, cells[1])
    grid = rng.uniform(-1.0, 1.0, (gh + 1, gw + 1)).astype(np.float32)
    return upsample(grid, shape)


def upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D (or HxWxC) array to ``shape`` (corners aligned)."""
    h, w = shape
    gh, gw = grid.shape[:2]
    ys = np.linspace(0.0, gh - 1, h, dtype=np.float32)
    xs = np.linspace(0.0, gw - 1, w, dtype=np.float32)
    y0 = np.minimum(ys.astype(np.int32), gh - 2) if gh > 1 else np.zeros(h, np.int32)
    x0 = np.minimum(xs.astype(np.int32), gw - 2) if gw > 1 else np.zeros(w, np.int32)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    if grid.ndim == 3:
        fy = fy[..., None]
        fx = fx[..., None]
    y1 = np.minimum(y0 + 1, gh - 1)
    x1 = np.minimum(x0 + 1, gw - 1)
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x1] * fx
    bot = grid[y1][:, x0] * (1 - fx) + grid[y1][:, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize (pixel-centre aligned) of HxW or HxWxC float/uint8 arrays; returns float32."""
    h, w = shape
    sh, sw = img.shape[:2]
    ys = np.clip((np.arange(h, dtype=np.float32) + 0.5) * (sh / h) - 0.5, 0, sh - 1)
    xs = np.clip((np.arange(w, dtype=np.float32) + 0.5) * (sw / w) - 0.5, 0, sw - 1)
    y0 = np.floor(ys).astype(np.int32)
    x0 = np.floor(xs).astype(np.int32)
    y1 = np.minimum(y0 + 1, sh - 1)
    x1 = np.minimum(x0 + 1, sw - 1)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    src = img.astype(np.float32, copy=False)
    if src.ndim == 3:
        fy = fy[..., None]
        fx = fx[..., None]
    rows = src[y0] * (1 - fy) + src[y1] * fy
    return rows[:, x0] * (1 - fx) + rows[:, x1] * fx


def gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2.5 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (t / max(sigma, 1e-3)) ** 2)
    return (k / k.sum()).astype(np.float32)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an HxW or HxWxC float array (edge padding)."""
    if sigma < 0.2:
        return img
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    pad = [(r, r), (0, 0)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img, pad, mode="edge")
    out = np.zeros_like(img)
    h = img.shape[0]
    for i, wgt in enumerate(k):
        out += wgt * p[i : i + h]
    pad = [(0, 0), (r, r)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(out, pad, mode="edge")
    out = np.zeros_like(img)
    w = img.shape[1]
    for i, wgt in enumerate(k):
        out += wgt * p[:, i : i + w]
    return out


def _dct_matrix(n: int = 8) -> np.ndarray:
    m = np.zeros((n, n), np.float32)
    for k in range(n):
        for i in range(n):
            m[k, i] = np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    m[0] *= np.sqrt(1.0 / n)
    m[1:] *= np.sqrt(2.0 / n)
    return m


_DCT = _dct_matrix()
_QBASE = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    np.float32,
)


def _quantise_blocks(ch: np.ndarray, q: np.ndarray) -> np.ndarray:
    h, w = ch.shape
    ph, pw = (-h) % 8, (-w) % 8
    p = np.pad(ch, ((0, ph), (0, pw)), mode="edge") if (ph or pw) else ch
    bh, bw = p.shape[0] // 8, p.shape[1] // 8
    blocks = p.reshape(bh, 8, bw, 8).transpose(0, 2, 1, 3)
    coef = _DCT @ blocks @ _DCT.T
    coef = np.round(coef / q) * q
    rec = _DCT.T @ coef @ _DCT
    return rec.transpose(0, 2, 1, 3).reshape(p.shape)[:h, :w]


def jpeg_like(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG-style artefacts in numpy: YCbCr, 4:2:0 chroma, 8x8 DCT quantisation. img float 0..255."""
    quality = int(np.clip(quality, 5, 95))
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    q = np.clip(np.floor((_QBASE * scale + 50) / 100), 1, 255).astype(np.float32)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = (b - y) * 0.564
    cr = (r - y) * 0.713
    y = _quantise_blocks(y - 128.0, q) + 128.0
    h, w = y.shape
    # chroma: 2x2 average then nearest upsample, coarser quantisation
    hh, ww = (h + 1) // 2, (w + 1) // 2
    out_c = []
    for c in (cb, cr):
        cp = np.pad(c, ((0, hh * 2 - h), (0, ww * 2 - w)), mode="edge")
        small = cp.reshape(hh, 2, ww, 2).mean(axis=(1, 3))
        small = _quantise_blocks(small, q * 1.5)
        out_c.append(np.repeat(np.repeat(small, 2, 0), 2, 1)[:h, :w])
    cb, cr = out_c
    r = y + cr / 0.713
    b = y + cb / 0.564
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return np.stack([r, g, b], axis=-1)


def hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """One colour, h,s,v in 0..1, returns float RGB 0..1."""
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, np.float32)


def luminance(rgb: np.ndarray) -> float:
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
