"""Cheap torch-side augmentation of training batches (geometry, colour, optics) and their targets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from fabricscope.train.data import MASK_DOWN


@dataclass
class Batch:
    x: torch.Tensor  # N x 3 x 224 x 224 float, normalised
    hole: torch.Tensor  # N long: 1 hole, 0 intact, -1 ignore
    wrinkle: torch.Tensor  # N long
    cells: torch.Tensor  # N x 7 x 7 float: 1 hole cell, 0 clean, -1 ignore
    fine: torch.Tensor  # N x 28 x 28 float: the hole mask at stride 8 (1 hole, 0 clean, -1 edge), for deep supervision


def _travel(linear: torch.Tensor) -> torch.Tensor:
    """How far (x, y, in -1..1 units) a view with this N x 2 x 2 linear part may shift and stay inside
    the image: 1 minus its half-extent along each axis, never below 0."""
    return (1 - linear.abs().sum(2)).clamp(min=0)


def _affine(n: int, gen: torch.Generator, strength: float, crop: float = 1.0) -> torch.Tensor:
    """Random flips, quarter turns, small rotations, zoom + independent aspect stretch, shifts.
    ``crop`` < 1: the output shows that share of the side, anywhere in the image, at the input's scale."""
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    quarter = torch.randint(0, 4, (n,), generator=gen).float() * (math.pi / 2)
    jitter = (u(n) * 2 - 1) * math.radians(12) * strength * (u(n) < 0.5)
    ang = quarter + jitter
    sx = (1.0 - u(n) * 0.3 * strength) * crop
    sy = (1.0 - u(n) * 0.3 * strength) * crop
    fx = torch.where(u(n) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = sx * cos * fx
    theta[:, 0, 1] = -sy * sin
    theta[:, 1, 0] = sx * sin * fx
    theta[:, 1, 1] = sy * cos
    travel = _travel(theta[:, :, :2])
    theta[:, 0, 2] = (u(n) * 2 - 1) * travel[:, 0]
    theta[:, 1, 2] = (u(n) * 2 - 1) * travel[:, 1]
    return theta


def _keep_a_hole_in_view(
    theta: torch.Tensor, m: torch.Tensor, has_hole: np.ndarray, focus: float, gen: torch.Generator
) -> torch.Tensor:
    """Move the view of a share ``focus`` of the hole images so that a hole pixel (drawn by hole area)
    lands inside it, a tenth of the side from its edge or more where the image allows. Small crops
    otherwise miss most holes: at 128 px only 22% of the views show one, against 45% at full size."""
    n, side = theta.shape[0], m.shape[-1]
    flat = m.flatten(1)
    pick = torch.from_numpy(np.asarray(has_hole, bool)) & (flat.sum(1) > 0) & (torch.rand(n, generator=gen) < focus)
    if not pick.any():
        return theta
    k = torch.multinomial(flat[pick], 1, generator=gen).squeeze(1)
    target = torch.stack([k % side, k // side], 1).float().add_(0.5).mul_(2.0 / side).sub_(1.0)  # x, y in -1..1
    a = theta[pick, :, :2]
    where = torch.rand(len(k), 2, generator=gen) * 1.6 - 0.8  # where in the view the hole lands
    shift = target - torch.einsum("nij,nj->ni", a, where)
    limit = _travel(a)  # the view stays inside the image, as in _affine
    theta[pick, :, 2] = torch.maximum(torch.minimum(shift, limit), -limit)
    return theta


def _colour(x: torch.Tensor, gen: torch.Generator, u) -> torch.Tensor:  # noqa: ANN001
    """Saturation, channel swaps, contrast, exposure and white balance as one 3x3 matrix + offset per image,
    then gamma on half of the batch (one pass over the pixels instead of six). The random draws come from
    ``gen`` on the CPU whatever device ``x`` is on, so a run's draws do not depend on the device."""
    n, dev = x.shape[0], x.device
    sat = (u(n) * 1.5).clamp(max=1.4)
    sat = torch.where(u(n) < 0.1, torch.zeros_like(sat), sat)
    eye = torch.eye(3).expand(n, 3, 3)
    m = sat.view(n, 1, 1) * eye + ((1.0 - sat) / 3.0).view(n, 1, 1)  # grey + (x - grey) * sat
    swap = u(n) < 0.25
    if swap.any():
        m[swap] = m[swap][:, torch.randperm(3, generator=gen)]
    contrast = 0.6 + 0.8 * u(n)
    gains = torch.exp((u(n, 1) - 0.6) * 0.8) * torch.exp(torch.randn(n, 3, generator=gen) * 0.08)
    m, gains, contrast = m.to(dev), gains.to(dev), contrast.to(dev)
    chan_mean = x.mean(dim=(2, 3))  # n x 3
    grey = torch.einsum("nij,nj->ni", m, chan_mean).mean(dim=1)  # image mean after the matrix
    m = gains.unsqueeze(2) * contrast.view(n, 1, 1) * m
    offset = gains * ((1.0 - contrast) * grey).unsqueeze(1)
    x = torch.einsum("nij,njhw->nihw", m, x) + offset.view(n, 3, 1, 1)
    x = x.clamp_(0, 1)
    sel = (u(n) < 0.5).to(dev)
    if sel.any():
        x[sel] = x[sel] ** torch.exp((u(int(sel.sum()), 1, 1, 1) - 0.5) * 0.6).to(dev)
    return x


def augment(
    images: np.ndarray,
    masks: np.ndarray,
    has_hole: np.ndarray,
    wrinkled: np.ndarray,
    gen: torch.Generator,
    strength: float = 1.0,
    crop: int | None = None,
    focus: float = 0.0,
    device: torch.device | None = None,
    noise_gen: torch.Generator | None = None,
    sharp_below: float = 0.0,
) -> Batch:
    """Geometric + photometric augmentation of a uint8 batch; returns normalised tensors and targets.

    ``crop``: output side in pixels (default: the input's), cut anywhere from the input at its scale,
    so holes keep their size in pixels. Smaller crops make cheaper steps early in training.
    ``focus``: share of the hole images whose crop is placed to keep a hole in view.
    ``device``: where the image work runs (a GPU for GPU training); the small random draws and the
    mask-side targets stay on the CPU. ``noise_gen``: a generator on that device for the per-pixel noise,
    which would otherwise be drawn on the CPU and copied over (default: ``gen``).
    ``sharp_below``: hole images that show fewer hole pixels than this after the geometric transform
    skip the blur and the down-up sampling, which can wipe out a small hole that stays labelled a hole
    (0: off, the shipped recipe; the random draws are the same either way)."""
    n, size = len(images), images.shape[1]
    out = crop or size
    if crop is not None and (crop % 32 or crop > size or (crop < size and strength <= 0)):
        raise ValueError(f"crop must be a multiple of 32 up to {size}, and needs augmentation; got {out}")
    dev = torch.device(device or "cpu")
    x = torch.from_numpy(images).to(dev).permute(0, 3, 1, 2).float() * (1.0 / 255.0)
    m = torch.from_numpy(masks).float().unsqueeze(1) * (1.0 / (MASK_DOWN * MASK_DOWN))
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    if strength > 0:
        theta = _affine(n, gen, strength, out / size)
        if out < size and focus > 0:
            theta = _keep_a_hole_in_view(theta, m, has_hole, focus, gen)
        size = out
        grid = F.affine_grid(theta.to(dev), [n, 3, size, size], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        mgrid = F.affine_grid(theta, [n, 1, size // MASK_DOWN, size // MASK_DOWN], align_corners=False)
        m = F.grid_sample(m, mgrid, mode="bilinear", padding_mode="zeros", align_corners=False)
        x = _colour(x, gen, u)
        # optics: some blurred, some down-up sampled (cheap camera), then noise
        shown = m.sum(dim=(1, 2, 3)) * (MASK_DOWN * MASK_DOWN)
        soft = ~(torch.from_numpy(np.asarray(has_hole, bool)) & (shown < sharp_below)).to(dev)
        sel = (u(n) < 0.25).to(dev) & soft
        if sel.any():
            xb = F.avg_pool2d(x[sel], 3, stride=1, padding=1, count_include_pad=False)
            if u(1) < 0.4:
                xb = F.avg_pool2d(xb, 3, stride=1, padding=1, count_include_pad=False)
            x[sel] = xb
        sel = (u(n) < 0.15).to(dev) & soft
        if sel.any():
            small = int(size * float(0.45 + u(1) * 0.4))
            x[sel] = F.interpolate(
                F.interpolate(x[sel], size=(small, small), mode="bilinear", antialias=True, align_corners=False),
                size=(size, size),
                mode="bilinear",
                align_corners=False,
            )
        ng = noise_gen or gen
        noise = torch.randn(n, 1, size, size, generator=ng, device=ng.device).to(dev)
        x = (x + noise * (u(n, 1, 1, 1) * 0.03).to(dev)).clamp_(0, 1)
    # targets
    px = m.sum(dim=(1, 2, 3)) * (MASK_DOWN * MASK_DOWN)  # hole pixels visible after the transform
    hh = torch.from_numpy(has_hole)
    hole = torch.where(hh & (px >= 4.0), 1, torch.where(~hh | (px < 0.5), 0, -1)).long()
    cell_px = F.avg_pool2d(m, 8).squeeze(1) * 1024.0  # hole pixels per 32x32 cell
    cells = torch.where(cell_px >= 3.0, 1.0, torch.where(cell_px < 0.25, 0.0, -1.0))
    frac = F.avg_pool2d(m, 2).squeeze(1)  # share of hole pixels per 8x8 block
    fine = torch.where(frac >= 0.3, 1.0, torch.where(frac < 0.02, 0.0, -1.0))
    wrinkle = torch.from_numpy(wrinkled).long()
    x = (x - 0.5) * 4.0  # the model's normalisation: mean 0.5, std 0.25
    # channels-last: PyTorch's CPU convolutions run about twice as fast in this layout
    x = x.contiguous(memory_format=torch.channels_last)
    return Batch(x=x, hole=hole.to(dev), wrinkle=wrinkle.to(dev), cells=cells.to(dev), fine=fine.to(dev))
