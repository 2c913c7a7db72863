"""Pooling maths and receptive-field geometry: pure numpy functions.

A head's map has shape ``[2, h, w]``: channel 0 scores "fine", channel 1
scores "defect", before softmax. The model pools each channel over the map
(global max or global average) and applies a softmax over the two pooled
values; these functions do the same on the host, so the app can show what
either pooling would have said about the same map (the pooling lab).

The drawn map (:func:`cell_scores`) is chosen so that every number shown is
derivable from it: a ``max`` head's P is the maximum of its drawn map, an
``avg`` head's P is sigmoid of the mean of its drawn cells' logits (the cell
margins). The fine and defect channels are pooled *separately* by the model,
so ``sigmoid(defect_cell - fine_cell)`` would not do for a ``max`` head: its
maximum can sit above P (a cell whose fine score is low, while the map's
largest fine score is elsewhere).
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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, float64, without overflow warnings for large ``|x|``."""
    x = np.asarray(x, np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def cell_logits(class_map: np.ndarray, pooling: str) -> np.ndarray:
    """Each cell's logit on the scale of the head's pooled logit, ``[h, w]`` float64.

    - ``max``: ``defect_cell - max(fine)``. The pooled logit is
      ``max(defect) - max(fine)``, which is exactly the largest of these; the
      fine channel is pooled over the whole map, so it is one number shared by
      every cell.
    - ``avg``: the cell margin ``defect_cell - fine_cell``. The pooled logit is
      ``mean(defect) - mean(fine)``, which is exactly the mean of these.
    """
    fine = class_map[0].astype(np.float64)
    defect = class_map[1].astype(np.float64)
    if pooling == "max":
        return defect - fine.max()
    if pooling == "avg":
        return defect - fine
    raise ValueError(f"unknown pooling {pooling!r}")


def cell_scores(class_map: np.ndarray, pooling: str) -> np.ndarray:
    """What the heatmaps draw: ``sigmoid(cell_logits)``, ``[h, w]`` float64 on a fixed 0..1 scale.

    Chosen so that the head's P(defect) is the head's own pooling of the drawn
    map (see :func:`prob_from_cells`):

    - ``max`` head: ``sigmoid(defect_cell - max fine)``; its maximum *is* P.
    - ``avg`` head: ``sigmoid(defect_cell - fine_cell)``; P is
      ``sigmoid(mean of the cells' logits)``, i.e. sigmoid of the mean cell margin.
    """
    return _sigmoid(cell_logits(class_map, pooling))


def prob_from_cells(cells: np.ndarray, pooling: str) -> float:
    """P(defect) from a drawn map (:func:`cell_scores`): its max, or sigmoid(mean logit) for ``avg``."""
    cells = np.asarray(cells, np.float64)
    if pooling == "max":
        return float(cells.max())
    if pooling == "avg":
        logits = np.log(cells) - np.log1p(-cells)
        return float(_sigmoid(np.mean(logits)))
    raise ValueError(f"unknown pooling {pooling!r}")


def strongest_cell(class_map: np.ndarray, pooling: str) -> tuple[int, int]:
    """(row, col) of the largest drawn cell (:func:`cell_scores`).

    For a ``max`` head that is the cell whose defect score the pooling picked:
    the one cell that sets P. For an ``avg`` head it is the cell with the
    largest margin, one of the many that P averages.
    """
    logits = cell_logits(class_map, pooling)
    row, col = np.unravel_index(int(np.argmax(logits)), logits.shape)
    return int(row), int(col)


#: How each pooling turns the drawn map into P, in words (headlines, captions, reports).
PROB_FORMULA = {"max": "max of the map", "avg": "σ(mean cell margin)"}
#: What one drawn cell is, in words (hover texts, tooltips).
CELL_FORMULA = {"max": "σ(defect − max fine)", "avg": "σ(cell margin) = σ(defect − fine)"}


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
