"""Procedural fabric generator: labelled RGB fabric images with per-pixel hole masks.

numpy only (Pillow just to write files). Deterministic per seed.

- :func:`generate` renders one :class:`Sample` (image, hole mask, labels, kind).
- :func:`write_dataset` writes ``n`` samples as image files + ``labels.csv`` + ``masks/``.
- :func:`render_strip` renders a long strip of fabric for the GUI's demo feed
  (:func:`render_labelled_strip` adds which rows are wrinkled, to score the feed).
"""

from __future__ import annotations

from fabricscope.synth.dataset import write_dataset
from fabricscope.synth.generator import (
    HOLE_TYPES,
    PATTERNS,
    WEAVES,
    Sample,
    Strip,
    generate,
    render_labelled_strip,
    render_strip,
)

__all__ = [
    "HOLE_TYPES",
    "PATTERNS",
    "WEAVES",
    "Sample",
    "Strip",
    "generate",
    "render_labelled_strip",
    "render_strip",
    "write_dataset",
]
