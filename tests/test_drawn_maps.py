"""What the heatmaps draw agrees with what the headline says (issue #30 §3).

For any map, the P(defect) a head reports is its own pooling of the drawn map:
the maximum of the drawn cells for a max-pooled head, sigmoid of the mean of
the drawn cells' logits (the cell margins) for an average-pooled head; and the
strongest cell is where the drawn map peaks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from toy_model import fabric_like

from fabricscope.engine.contract import HeadSpec
from fabricscope.engine.inspector import HeadResult, Inspector
from fabricscope.engine.pooling import cell_logits, cell_scores, pool, prob_from_cells, softmax2, strongest_cell

SPECS = {
    "max": HeadSpec("hole", "max", ("intact", "hole"), "hole_map", "hole_prob", 0.5, "Holes"),
    "avg": HeadSpec("wrinkle", "avg", ("smooth", "wrinkled"), "wrinkle_map", "wrinkle_prob", 0.5, "Wrinkles"),
}

# Pre-softmax scores as a model emits them: float32, |logit| <= 8 (the shipped model's maps stay well inside).
logit = st.floats(-8.0, 8.0, width=32, allow_nan=False)
maps = st.integers(1, 9).flatmap(
    lambda h: st.integers(1, 9).flatmap(lambda w: arrays(np.float32, (2, h, w), elements=logit))
)


def model_prob(class_map: np.ndarray, pooling: str) -> float:
    """P(defect) the way the ONNX graph computes it: pool each channel, softmax, in float32."""
    pooled = pool(class_map, pooling).astype(np.float32)
    return float(softmax2(pooled)[1])


def head_result(class_map: np.ndarray, pooling: str) -> HeadResult:
    return HeadResult(SPECS[pooling], class_map, model_prob(class_map, pooling))


@settings(max_examples=300, deadline=None)
@given(class_map=maps, pooling=st.sampled_from(["max", "avg"]))
def test_headline_is_the_stated_pooling_of_the_drawn_map(class_map: np.ndarray, pooling: str) -> None:
    head = head_result(class_map, pooling)
    drawn = head.cells
    assert drawn.shape == class_map.shape[1:]
    assert np.all((drawn >= 0) & (drawn <= 1))
    if pooling == "max":
        stated = float(drawn.max())
    else:
        stated = float(1.0 / (1.0 + np.exp(-np.mean(np.log(drawn / (1.0 - drawn))))))
    assert head.prob == pytest.approx(stated, abs=1e-6)
    assert prob_from_cells(drawn, pooling) == pytest.approx(head.prob, abs=1e-6)
    # the strongest cell is on the drawn maximum
    r, c = head.strongest
    assert drawn[r, c] == drawn.max()
    # the drawn cells' logits are what the hover text states: defect - max fine, or the cell margin
    want = class_map[1].astype(np.float64) - (class_map[0].max() if pooling == "max" else class_map[0])
    np.testing.assert_allclose(head.cell_logits, want, atol=1e-12)


def test_a_hole_cell_never_reads_above_the_headline() -> None:
    """The case of issue #30: the old drawing, sigmoid(defect - fine) per cell, read 0.68 under a P of 0.41."""
    class_map = np.zeros((2, 7, 7), np.float32)
    class_map[0] = -1.0
    class_map[0, 0, 0] = 1.0  # the map's largest fine score, far from the defect cell
    class_map[1] = -2.0
    class_map[1, 3, 3] = -0.25  # margin to its own fine cell +0.75 -> sigmoid 0.68
    head = head_result(class_map, "max")
    old = 1.0 / (1.0 + np.exp(-(class_map[1, 3, 3] - class_map[0, 3, 3])))
    assert old == pytest.approx(0.68, abs=0.01) and head.prob == pytest.approx(0.22, abs=0.01)
    assert head.cells.max() == pytest.approx(head.prob, abs=1e-6)
    assert head.cells.max() < 0.5
    assert head.strongest == (3, 3)
    assert head.headline == "P(hole) = max of the map = 0.22"
    avg = head_result(class_map, "avg")
    assert avg.headline == f"P(wrinkled) = σ(mean cell margin) = {avg.prob:.2f}"


def test_pure_functions_agree_with_the_accessors() -> None:
    rng = np.random.default_rng(0)
    class_map = rng.normal(0, 2, (2, 7, 7)).astype(np.float32)
    for pooling in ("max", "avg"):
        head = head_result(class_map, pooling)
        np.testing.assert_array_equal(head.cells, cell_scores(class_map, pooling))
        np.testing.assert_array_equal(head.cell_logits, cell_logits(class_map, pooling))
        assert head.strongest == strongest_cell(class_map, pooling)
    with pytest.raises(ValueError, match="pooling"):
        cell_scores(class_map, "median")


def test_a_real_model_s_probabilities_are_the_pooling_of_its_drawn_maps(toy_model) -> None:
    ins = Inspector(toy_model, provider="cpu")
    for frame in (fabric_like(1), fabric_like(2, hole_at=(5, 1)), fabric_like(3, hole_at=(0, 6))):
        for head in ins.inspect(frame).heads:
            assert prob_from_cells(head.cells, head.spec.pooling) == pytest.approx(head.prob, abs=1e-6)
            r, c = head.strongest
            assert head.cells[r, c] == head.cells.max()
