"""The head panels: what is drawn agrees with what is said (issue #30 §3), and the live badge's hysteresis."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from fabricscope.engine.contract import HeadSpec
from fabricscope.engine.inspector import HeadResult
from fabricscope.engine.pooling import pool, softmax2
from fabricscope.gui.heatmap_panel import LIVE_HOLD, HeadPanel

HOLE = HeadSpec("hole", "max", ("intact", "hole"), "hole_map", "hole_prob", 0.45, "Holes")
WRINKLE = HeadSpec("wrinkle", "avg", ("smooth", "wrinkled"), "wrinkle_map", "wrinkle_prob", 0.5, "Wrinkles")
NUMBER = r"[−+-]?\d+\.\d+"


def head_result(spec: HeadSpec, class_map: np.ndarray) -> HeadResult:
    prob = float(softmax2(pool(class_map, spec.pooling).astype(np.float32))[1])  # as the ONNX graph does
    return HeadResult(spec, class_map, prob)


def issue_map() -> np.ndarray:
    """Issue #30's case: a cell whose own margin reads 0.68 while the max-pooled P is below the threshold."""
    class_map = np.full((2, 7, 7), -2.0, np.float32)
    class_map[0] = -1.0
    class_map[0, 0, 0] = 1.0
    class_map[1, 3, 4] = -0.25
    return class_map


def hover(panel: HeadPanel, row: int, col: int) -> str:
    scene = panel.view.mapViewToScene(QPointF(col + 0.5, row + 0.5))
    assert panel.cell_at(scene) == (row, col)
    panel._on_mouse_moved(scene)
    return panel.hover.text()


def numbers(text: str) -> list[float]:
    return [float(x.replace("−", "-")) for x in re.findall(NUMBER, text)]


@pytest.fixture
def panel(qtbot):
    def make(spec: HeadSpec, hold: float = 0.0) -> HeadPanel:
        p = HeadPanel(spec, spec.threshold, hold=hold)
        qtbot.addWidget(p)
        p.resize(340, 700)
        p.show()
        qtbot.waitExposed(p)
        return p

    return make


def test_max_head_headline_equals_the_strongest_drawn_cell_and_its_hover(panel) -> None:
    p = panel(HOLE)
    head = head_result(HOLE, issue_map())
    p.show_head(head, HOLE.threshold)
    headline = p.pooled.text()
    assert headline == f"P(hole) = max of the map = {head.prob:.2f}" and "max of the map" in headline
    assert p.verdict_text == "PASS"  # P = 0.22 < 0.45: no cell may read above the FAIL line either
    shown = numbers(headline)[-1]
    r, c = head.strongest
    assert (r, c) == (3, 4)
    assert round(float(p._cells.max()), 2) == shown  # the brightest drawn cell is the headline
    text = hover(p, r, c)
    assert "the map's max" in text and numbers(text)[-1] == pytest.approx(head.prob, abs=5e-4)
    assert p.marker.isVisible() and p.marker.rect().topLeft() == QPointF(c, r)
    # any other cell reads at most P, and says so
    other = hover(p, 0, 0)
    value, prob = numbers(other)[-2], numbers(other)[-1]
    assert value <= prob + 5e-4 and prob == pytest.approx(head.prob, abs=5e-4)


def test_avg_head_hover_margins_average_to_the_headline(panel) -> None:
    p = panel(WRINKLE)
    class_map = np.random.default_rng(4).normal(0, 1.5, (2, 7, 7)).astype(np.float32)
    head = head_result(WRINKLE, class_map)
    p.show_head(head, WRINKLE.threshold)
    assert p.pooled.text() == f"P(wrinkled) = σ(mean cell margin) = {head.prob:.2f}"
    margins = []
    for r in range(7):
        for c in range(7):
            text = hover(p, r, c)  # "cell (r, c): margin +m, σ = v; mean margin +M → P = p"
            margin, value, mean, prob = numbers(text)
            assert value == pytest.approx(1 / (1 + np.exp(-margin)), abs=5e-3)
            assert prob == pytest.approx(head.prob, abs=5e-4)
            margins.append(margin)
    assert np.mean(margins) == pytest.approx(mean, abs=0.01)
    assert 1 / (1 + np.exp(-mean)) == pytest.approx(head.prob, abs=0.003)
    assert not p.marker.isVisible()  # no single cell decides an average


def test_pooling_lab_shows_the_pooled_scores(panel) -> None:
    p = panel(HOLE)
    head = head_result(HOLE, issue_map())
    p.show_head(head, HOLE.threshold)
    text = p.lab.formulas["max"].text()
    assert text.startswith("σ(max defect ") and " − max fine " in text
    defect, fine = head.pooled("max")[1], head.pooled("max")[0]
    assert numbers(text) == pytest.approx([round(defect, 2), round(fine, 2)], abs=1e-9)
    assert float(p.lab.values["max"].text()) == round(head.prob, 2)
    assert p.lab.formulas["avg"].text().startswith("σ(mean defect ")


def test_live_badge_holds_fail_until_p_drops_below_threshold_minus_hold(panel) -> None:
    base = np.zeros((2, 7, 7), np.float32)
    base[1] = -5.0

    def with_prob(p: float) -> HeadResult:
        m = base.copy()
        m[1, 2, 2] = np.log(p / (1 - p))  # max fine 0: P = sigmoid(max defect)
        return head_result(HOLE, m)

    live, batch = panel(HOLE, hold=LIVE_HOLD), panel(HOLE)
    seen_live, seen_batch = [], []
    for prob in (0.40, 0.46, 0.44, 0.435, 0.46, 0.44, 0.42, 0.44, 0.455):
        head = with_prob(prob)
        live.show_head(head, HOLE.threshold)
        batch.show_head(head, HOLE.threshold)
        seen_live.append(live.verdict_text)
        seen_batch.append(batch.verdict_text)
    assert seen_batch == ["PASS", "FAIL", "PASS", "PASS", "FAIL", "PASS", "PASS", "PASS", "FAIL"]
    assert seen_live == ["PASS", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "PASS", "PASS", "FAIL"]
    live.show_head(with_prob(0.44), HOLE.threshold)
    assert live.held and "held" in live.verdict.text() and "0.02" in live.verdict.toolTip()
    # a new threshold is judged afresh: no hold across a threshold change
    live.show_head(head_result(HOLE, with_prob(0.44).class_map), 0.445)
    assert live.verdict_text == "PASS" and not live.held


def test_cleared_panel_shows_nothing(panel) -> None:
    p = panel(HOLE)
    p.show_head(head_result(HOLE, issue_map()), HOLE.threshold)
    p.clear()
    assert p.head is None and p.verdict_text == "" and p.verdict.text() == "–"
    assert not p.image.isVisible() and not p.marker.isVisible()
    assert p.pooled.text() == "P(hole) = –" and p.lab.values["max"].text() == "–"
    p.show_head(head_result(HOLE, issue_map()), HOLE.threshold)
    assert p.image.isVisible()


def test_live_window_panels_agree_line_up_and_keep_the_model_name(make_window, qtbot, tmp_path) -> None:
    from toy_model import fabric_like

    path = tmp_path / "h.png"
    Image.fromarray(fabric_like(7, hole_at=(2, 5))).save(path)
    w = make_window(source=f"images:{path}")
    qtbot.waitUntil(lambda: w.live.current is not None, timeout=10000)
    hole_panel, wrinkle_panel = w.live.panels["hole"], w.live.panels["wrinkle"]
    hole = w.live.current[1].head("hole")
    # the headline, the brightest drawn cell and the hovered strongest cell say the same number
    shown = numbers(hole_panel.pooled.text())[-1]
    assert shown == round(hole.prob, 2) == round(float(hole_panel._cells.max()), 2)
    r, c = hole.strongest
    assert (r, c) == (2, 5)
    assert round(numbers(hover(hole_panel, r, c))[0], 2) == shown
    # two maps of the same size at the same height, whatever the titles' lengths
    assert hole_panel.width() == wrinkle_panel.width()
    assert hole_panel.graphics.size() == wrinkle_panel.graphics.size()
    assert (
        hole_panel.graphics.mapTo(w, hole_panel.graphics.rect().topLeft()).y()
        == wrinkle_panel.graphics.mapTo(w, wrinkle_panel.graphics.rect().topLeft()).y()
    )
    assert hole_panel.title.height() == wrinkle_panel.title.height()
    # the strip chart's key is above the plot, not a legend over the curves
    assert w.live.chart.plotItem.legend is None
    assert "Holes" in w.live.chart.key_text and "threshold" in w.live.chart.key_text
    # a status message does not hide the model's name
    w.statusBar().showMessage("something else happened", 8000)
    w.update_status()
    assert w.model_label.isVisible() and w.model_label.text() == f"model: {w.state.inspector.path.name}"
