"""The model's own speed, on pre-decoded arrays (no file decoding): ``fabricscope bench``.

This is the ceiling for batch scoring; the measurements of whole runs (decoding, reports, the GUI)
are in ``benchmarks/``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .inspector import Inspector


@dataclass(frozen=True)
class SpeedResult:
    """Model speed on pre-decoded arrays (no file decoding): the ceiling for batch scoring."""

    provider: str
    latency_ms: float  # median time of one image at batch size 1
    images_per_s: dict[int, float]  # throughput per batch size tried

    @property
    def best_batch(self) -> int:
        return max(self.images_per_s, key=lambda b: self.images_per_s[b])

    @property
    def best_images_per_s(self) -> float:
        return self.images_per_s[self.best_batch]


def measure_model_speed(
    inspector: Inspector,
    *,
    batch_sizes: Sequence[int] = (1, 4, 8, 16, 32),
    seconds: float = 1.0,
    seed: int = 0,
) -> SpeedResult:
    """Time the model alone: latency at batch 1 and images/s for each batch size.

    Each measurement warms up once, then repeats for about ``seconds``.
    """
    size = inspector.input_size
    rng = np.random.default_rng(seed)
    biggest = max(batch_sizes)
    arrays = rng.integers(0, 256, (biggest, size, size, 3), dtype=np.uint8)
    rates: dict[int, float] = {}
    latency = 0.0
    for b in batch_sizes:
        batch = arrays[:b]
        inspector.run(batch)  # warm-up: first runs allocate
        times: list[float] = []
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(times) < 3:
            t0 = time.perf_counter()
            inspector.run(batch)
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        rates[b] = b / med
        if b == 1:
            latency = med * 1000.0
    if 1 not in rates:
        inspector.run(arrays[:1])
        t0 = time.perf_counter()
        inspector.run(arrays[:1])
        latency = (time.perf_counter() - t0) * 1000.0
    return SpeedResult(provider=inspector.provider, latency_ms=latency, images_per_s=rates)
