"""In-memory labelled data from the generator (numpy only: the evaluation needs no torch).

The torch-side augmentation of training batches is in :mod:`fabricscope.train.augment`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np

from fabricscope.synth.renderers import check, render

# seed ranges: disjoint per split
TRAIN_SEED0 = 1_000_000
VAL_SEED0 = 2_000_000
TEST_SEED0 = 3_000_000
SHIFT_SEED0 = 4_000_000
OTHER_SEED0 = 5_000_000  # the other renderer's test set (a different generator; disjoint all the same)

MASK_DOWN = 4  # masks are kept as 4x4-block hole-pixel counts (224 -> 56)


@dataclass
class Arrays:
    images: np.ndarray  # N x H x W x 3 uint8
    masks: np.ndarray  # N x H/4 x W/4 uint8: hole pixels per 4x4 block (0..16)
    has_hole: np.ndarray  # N bool
    wrinkled: np.ndarray  # N bool
    kinds: list[str]
    hole_centres: list[tuple[tuple[float, float], ...]]
    hole_sizes: list[tuple[float, ...]]

    def __len__(self) -> int:
        return len(self.images)

    def open_pixels(self) -> np.ndarray:
        """Hole pixels per image (exact: the 4x4 blocks hold counts, not flags)."""
        return self.masks.reshape(len(self.masks), -1).sum(1, dtype=np.int64)

    def __add__(self, other: Arrays) -> Arrays:
        """Both sets, this one first."""
        return Arrays(
            np.concatenate([self.images, other.images]),
            np.concatenate([self.masks, other.masks]),
            np.concatenate([self.has_hole, other.has_hole]),
            np.concatenate([self.wrinkled, other.wrinkled]),
            self.kinds + other.kinds,
            self.hole_centres + other.hole_centres,
            self.hole_sizes + other.hole_sizes,
        )


def _render(args: tuple[int, int, str]) -> tuple:
    seed, size, renderer = args
    s = render(seed, size, renderer)
    m = s.hole_mask.reshape(size // MASK_DOWN, MASK_DOWN, size // MASK_DOWN, MASK_DOWN).sum(axis=(1, 3))
    return s.image, m.astype(np.uint8), s.has_hole, s.wrinkled, s.kind, s.hole_centres, s.hole_sizes


def build(
    n: int, seed0: int, size: int = 224, workers: int | None = None, log: bool = False, renderer: str = "training"
) -> Arrays:
    """Render ``n`` samples (seeds seed0..seed0+n-1) in parallel into memory with one of ``RENDERERS``."""
    check(renderer, size)
    workers = workers or min(2, os.cpu_count() or 1)
    images = np.empty((n, size, size, 3), np.uint8)
    masks = np.empty((n, size // MASK_DOWN, size // MASK_DOWN), np.uint8)
    has_hole = np.empty(n, bool)
    wrinkled = np.empty(n, bool)
    kinds: list[str] = []
    centres: list = []
    sizes: list = []
    jobs = [(seed0 + k, size, renderer) for k in range(n)]
    if workers > 1 and n >= 64:
        with get_context("spawn" if os.name == "nt" else "fork").Pool(workers) as pool:
            results = pool.imap(_render, jobs, chunksize=32)
            for k, r in enumerate(results):
                images[k], masks[k], has_hole[k], wrinkled[k] = r[:4]
                kinds.append(r[4])
                centres.append(r[5])
                sizes.append(r[6])
                if log and (k + 1) % 5000 == 0:
                    print(f"  generated {k + 1}/{n}", flush=True)
    else:
        for k, job in enumerate(jobs):
            r = _render(job)
            images[k], masks[k], has_hole[k], wrinkled[k] = r[:4]
            kinds.append(r[4])
            centres.append(r[5])
            sizes.append(r[6])
    return Arrays(images, masks, has_hole, wrinkled, kinds, centres, sizes)
