"""Pooling maths and receptive-field geometry: pure numpy functions.

A head's map has shape ``[2, h, w]``: channel 0 scores "fine", channel 1
scores "defect", before softmax. The model pools each channel over the map
(global max or global average) and applies a softmax over the two pooled
values; these functions do the same on the host, so the app can show what
either pooling would have said about the same map (the pooling lab).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pool(class_map: np.ndarray, pooling: str) -> np.ndarray:
    """Pool a ``[2, h, w]`` map to its two class scores with ``max`` or ``avg``."""
    if pooling == "max":
        return class_map.max(axis=(-2, -1))
    if pooling == "avg":
        return class_map.mean(axis=(-2, -1))
    raise ValueError(f"unknown pooling {pooling!r}")


def softmax2(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def defect_probability(class_map: np.ndarray, pooling: str) -> float:
    """P(defect) after pooling the map with ``pooling``: what the head reports."""
    return float(softmax2(pool(class_map, pooling).astype(np.float64))[1])


def cell_scores(class_map: np.ndarray) -> np.ndarray:
    """Per-cell defect probability, ``sigmoid(defect - fine)``, shape ``[h, w]``.

    This is what the heatmaps show: a fixed 0..1 scale whatever the model's
    logit range. For an ``avg`` head the pooled logit margin is exactly the
    mean of these cells' margins; for a ``max`` head the strongest cell
    dominates.
    """
    margin = class_map[1].astype(np.float64) - class_map[0].astype(np.float64)
    return (1.0 / (1.0 + np.exp(-margin))).astype(np.float32)


def strongest_cell(class_map: np.ndarray) -> tuple[int, int]:
    """(row, col) of the cell with the largest defect-minus-fine margin."""
    margin = class_map[1] - class_map[0]
    row, col = np.unravel_index(int(np.argmax(margin)), margin.shape)
    return int(row), int(col)


@dataclass(frozen=True)
class Region:
    """An axis-aligned rectangle in image pixels: left, top, right, bottom (exclusive)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def cell_region(
    row: int,
    col: int,
    map_shape: tuple[int, int],
    image_size: tuple[int, int],
    *,
    receptive_field: int | None = None,
    input_size: int | None = None,
) -> Region:
    """The region of an image (``(width, height)``) that map cell (row, col) stands for.

    Without ``receptive_field`` this is the cell's own tile: the image divided
    into ``h x w`` equal tiles (the input is the whole image squashed to a
    square, so tiles follow the image's aspect). With ``receptive_field`` and
    ``input_size`` (model input pixels), it is the square of input pixels the
    cell can see, centred on the tile, mapped back to the image and clipped.
    """
    h, w = map_shape
    img_w, img_h = image_size
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"cell ({row}, {col}) is outside a {h}x{w} map")
    sx, sy = img_w / w, img_h / h
    if receptive_field is None:
        return Region(col * sx, row * sy, (col + 1) * sx, (row + 1) * sy)
    if input_size is None:
        raise ValueError("input_size is needed with receptive_field")
    cx, cy = (col + 0.5) * sx, (row + 0.5) * sy
    half_x = receptive_field / 2 * img_w / input_size
    half_y = receptive_field / 2 * img_h / input_size
    return Region(max(0.0, cx - half_x), max(0.0, cy - half_y), min(img_w, cx + half_x), min(img_h, cy + half_y))
