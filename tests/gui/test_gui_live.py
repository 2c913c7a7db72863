"""The live tab driven through its real pipeline: sources -> inference thread -> panels."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from toy_model import build_toy_model, fabric_like, toy_metadata

sys.path.insert(0, str(Path(__file__).parent))
from mjpeg_avi import write_mjpeg_avi


def _frames(n: int, hole: bool) -> list[np.ndarray]:
    return [fabric_like(seed=i, size=224, hole_at=(3, 4) if hole else None) for i in range(n)]


def _save(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


def _verdict(window, head: str) -> str:
    return window.live.panels[head].verdict_text


def test_panels_follow_the_heads_the_model_declares(make_window, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'clean.png', fabric_like(0))}")
    assert list(w.live.panels) == ["hole", "wrinkle"]
    titles = [p.title.text() for p in w.live.panels.values()]
    assert titles == ["Holes — global max pooling", "Wrinkles — global average pooling"]


def test_video_file_reaches_the_panels_and_the_hole_head_fails(make_window, qtbot, tmp_path):
    video = write_mjpeg_avi(tmp_path / "holes.avi", _frames(20, hole=True), fps=20)
    w = make_window(source=f"video:{video}")
    qtbot.waitUntil(lambda: w.live.results >= 3, timeout=10000)
    assert w.state.source.frames_seen >= 3
    assert _verdict(w, "hole") == "FAIL"
    frame, inspection = w.live.current
    assert frame.shape == (224, 224, 3)
    assert inspection.head("hole").strongest == (3, 4)
    assert w.live.feed.frames_painted >= 1
    assert w.live.feed.strongest.isVisible()


def test_verdicts_follow_the_frames(make_window, qtbot, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _save(folder / "a_clean.png", fabric_like(1))
    _save(folder / "b_hole.png", fabric_like(2, hole_at=(5, 1)))
    w = make_window(source=f"images:{folder}")
    qtbot.waitUntil(lambda: w.live.current is not None and _verdict(w, "hole") == "PASS", timeout=10000)
    assert w.live.panels["hole"].head.prob < 0.5
    w.live.step_image(1)
    qtbot.waitUntil(lambda: _verdict(w, "hole") == "FAIL", timeout=10000)
    assert w.live.current[1].head("hole").strongest == (5, 1)
    # a threshold above the probability turns the same inspection into a PASS, with no model run
    results = w.live.results
    w.live.panels["hole"].threshold.setValue(1.0)
    assert _verdict(w, "hole") == "PASS"
    assert w.live.results == results
    assert w.state.thresholds["hole"] == 1.0


def test_demo_feed_reaches_the_panels(make_window, qtbot):
    w = make_window(source="demo")
    qtbot.waitUntil(lambda: w.live.results >= 5, timeout=15000)
    frame, inspection = w.live.current
    assert frame.shape == (480, 640, 3)
    assert {h.name for h in inspection.heads} == {"hole", "wrinkle"}
    assert w.live.feed.frame_size == (640, 480)
    assert len(w.live.chart.history("hole")) >= 5


def test_provider_switch_and_unavailable_provider_said_plainly(make_window, qtbot, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'c.png', fabric_like(3))}")
    first = w.state.inspector
    w.state.set_provider("cpu")
    qtbot.waitUntil(lambda: w.state.inspector is not first, timeout=10000)
    assert w.state.inspector.provider_report.active == "cpu"
    assert w.settings.value("provider") == "cpu"
    second = w.state.inspector
    w.state.set_provider("tensorrt")  # not in this ONNX Runtime build
    qtbot.waitUntil(lambda: w.state.inspector is not second, timeout=10000)
    assert w.state.inspector.provider_report.active == "cpu"
    assert "tensorrt was requested" in w.live.banner.text()
    assert w.live.banner.isVisible()
    w.update_status()
    assert "fell back" in w.provider_label.text()
    qtbot.waitUntil(lambda: w.live.current is not None, timeout=10000)


def test_freeze_and_snapshot(make_window, qtbot, tmp_path):
    w = make_window(source="demo")
    qtbot.waitUntil(lambda: w.live.results >= 2, timeout=15000)
    w.live.set_frozen(True)
    frozen = w.live.current
    painted = w.live.feed.frames_painted
    received = w.live.slot.received
    qtbot.wait(300)
    assert w.live.current is frozen
    assert w.live.slot.received == received  # the source's frames are not taken while frozen
    assert w.live.feed.frames_painted <= painted + 1
    out = w.live.snapshot()
    assert out is not None and out.parent == tmp_path / "snaps"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["frame.png", "heatmap-hole.png", "heatmap-wrinkle.png", "inspection.json"]
    data = json.loads((out / "inspection.json").read_text())
    assert set(data["heads"]) == {"hole", "wrinkle"}
    assert data["heads"]["hole"]["prob"] == frozen[1].head("hole").prob
    assert np.array_equal(np.asarray(Image.open(out / "frame.png")), frozen[0])
    w.live.set_frozen(False)
    qtbot.waitUntil(lambda: w.live.current is not frozen, timeout=10000)


def test_failing_sources_are_said_and_the_app_goes_on(make_window, qtbot, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _save(folder / "a.png", fabric_like(1))
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    _save(folder / "c.png", fabric_like(2, hole_at=(1, 1)))
    w = make_window(source=f"images:{folder}")
    qtbot.waitUntil(lambda: w.live.current is not None, timeout=10000)
    w.live.step_image(1)  # the broken file: a message, the last good frame stays
    assert w.live.banner.isVisible() and "b.png" in w.live.banner.text()
    w.live.step_image(1)
    qtbot.waitUntil(lambda: _verdict(w, "hole") == "FAIL", timeout=10000)
    # a "video" that is not one: the player's error is shown, the window lives on
    fake = tmp_path / "broken.avi"
    fake.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 10)
    assert w.open_paths([fake])
    qtbot.waitUntil(lambda: w.live.banner.isVisible() and "broken.avi" in w.live.banner.text(), timeout=10000)
    assert w.live.open_source_key("demo")
    results = w.live.results
    qtbot.waitUntil(lambda: w.live.results > results, timeout=15000)


def test_broken_model_is_refused_and_the_old_one_kept(make_window, qtbot, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'c.png', fabric_like(3))}")
    old = w.state.inspector
    broken = build_toy_model(tmp_path / "broken.onnx", drop_outputs=("hole_prob",))
    w.models.load(broken)
    qtbot.waitUntil(lambda: "hole_prob" in w.live.banner.text(), timeout=10000)
    assert "Still using toy.onnx" in w.live.banner.text()
    assert w.state.inspector is old
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    w.models.load(garbage)
    qtbot.waitUntil(lambda: "garbage.onnx" in w.live.banner.text(), timeout=10000)
    assert w.state.inspector is old and list(w.live.panels) == ["hole", "wrinkle"]


def test_a_one_head_model_gets_one_panel(make_window, qtbot, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'c.png', fabric_like(4, hole_at=(2, 2)))}")
    heads = json.loads(toy_metadata()["fabricscope.heads"])[:1]
    one = build_toy_model(tmp_path / "one.onnx", metadata=toy_metadata(heads=heads))
    w.models.load(one)
    qtbot.waitUntil(lambda: list(w.live.panels) == ["hole"], timeout=10000)
    qtbot.waitUntil(lambda: w.live.current is not None and _verdict(w, "hole") == "FAIL", timeout=10000)
    assert [h.name for h in w.live.current[1].heads] == ["hole"]


def test_clicking_a_cell_draws_its_receptive_field(make_window, qtbot, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'c.png', fabric_like(5, size=448))}")
    qtbot.waitUntil(lambda: w.live.current is not None and w.live.feed.frame_size == (448, 448), timeout=10000)
    panel = w.live.panels["hole"]
    with qtbot.waitSignal(panel.cellClicked) as blocker:
        centre = panel.view.mapViewToScene(pg_point(2.5, 3.5))
        panel._on_mouse_clicked(_Click(centre))
    assert blocker.args == ["hole", 3, 2]
    rect = w.live.feed.field.rect()
    assert w.live.feed.field.isVisible()
    # toy model: receptive field 32 px of a 224 input -> 64 px of a 448 image, centred on the cell
    assert (rect.width(), rect.height()) == (64.0, 64.0)
    assert (rect.center().x(), rect.center().y()) == (2.5 * 64, 3.5 * 64)


def pg_point(x: float, y: float):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


class _Click:
    def __init__(self, pos) -> None:
        self._pos = pos

    def scenePos(self):
        return self._pos


def test_settings_are_remembered(make_window, qtbot, settings, tmp_path):
    img = _save(tmp_path / "c.png", fabric_like(6))
    w = make_window(source=f"images:{img}")
    w.state.set_threshold("wrinkle", 0.8)
    w.live.overlay_box.setCurrentIndex(w.live.overlay_box.findData("wrinkle"))
    w.live.opacity.setValue(70)
    w.state.set_provider("cpu")
    qtbot.waitUntil(lambda: w.state.inspector.provider_report.requested == "cpu", timeout=10000)
    w.close()
    again = make_window(source=None)
    assert again.state.source.name == "c.png"
    assert again.state.thresholds["wrinkle"] == 0.8
    assert again.live.panels["wrinkle"].threshold.value() == 0.8
    assert again.live.overlay_box.currentData() == "wrinkle"
    assert again.live.opacity.value() == 70
    assert again.live.provider_box.currentText() == "cpu"


def test_keyboard_freeze_snapshot_and_arrow_keys(make_window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    folder = tmp_path / "imgs"
    folder.mkdir()
    _save(folder / "a.png", fabric_like(1))
    _save(folder / "b.png", fabric_like(2, hole_at=(2, 6)))
    w = make_window(source=f"images:{folder}")
    w.activateWindow()
    qtbot.waitUntil(lambda: w.live.current is not None, timeout=10000)
    qtbot.keyClick(w, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: w.state.source.index == 1 and _verdict(w, "hole") == "FAIL", timeout=10000)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.live.frozen and w.live.freeze_button.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_S)
    snaps = list((tmp_path / "snaps").iterdir())
    assert len(snaps) == 1 and (snaps[0] / "inspection.json").exists()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not w.live.frozen
    qtbot.keyClick(w, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: _verdict(w, "hole") == "PASS", timeout=10000)


def test_pooling_lab_shows_both_poolings_of_the_same_map(make_window, qtbot, tmp_path):
    w = make_window(source=f"images:{_save(tmp_path / 'h.png', fabric_like(7, hole_at=(3, 3)))}")
    qtbot.waitUntil(lambda: w.live.current is not None, timeout=10000)
    hole = w.live.current[1].head("hole")
    lab = w.live.panels["hole"].lab
    # one dark hole: max pooling says hole, the average of 49 cells dilutes it away
    assert float(lab.values["max"].text()) == round(hole.prob_if_pooled("max"), 2) > 0.5
    assert float(lab.values["avg"].text()) == round(hole.prob_if_pooled("avg"), 2) < 0.5
    assert lab.bars["max"].value() > lab.bars["avg"].value()


def test_dropping_a_video_file_opens_it(make_window, qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    video = write_mjpeg_avi(tmp_path / "drop.avi", _frames(10, hole=False), fps=20)
    w = make_window(source="demo")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(video))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    assert w.state.source.name == "drop.avi"
    qtbot.waitUntil(lambda: w.live.current is not None and w.live.current[0].shape == (224, 224, 3), timeout=10000)
    assert _verdict(w, "hole") == "PASS"
    assert w.settings.value("source") == f"video:{video}"


def test_a_remembered_camera_that_is_gone_falls_back_to_the_demo_feed(make_window, qtbot, settings):
    settings.setValue("source", "camera:no-such-camera")
    w = make_window(source=None)
    assert w.state.source.name == "Demo feed"
    assert w.live.banner.isVisible()
    assert w.live.banner.text() == "the camera used last time is not connected; showing the demo feed"
