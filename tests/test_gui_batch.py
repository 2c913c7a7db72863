"""The Batch tab, offscreen: score a folder with bad files, filter, sort, re-judge, cancel, export."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from toy_model import fabric_like

from fabricscope.engine import batch, discovery, row_schema
from fabricscope.engine.inspector import Inspector
from fabricscope.engine.report import read_rows
from fabricscope.engine.thresholds import Thresholds
from fabricscope.gui.batch_model import SORT_ROLE
from fabricscope.gui.batch_tab import BatchTab
from fabricscope.state import AppState

HOLED = {"a03.png", "a07.png", "sub/b01.png"}
BAD = {"corrupt.jpg": b"\xff\xd8\xff\xe0 not really a jpeg" * 3, "empty.png": b"", "notes.jpg": b"hello, not a picture"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    (root / "sub").mkdir()
    for i in range(10):
        name = f"a{i:02d}.png"
        Image.fromarray(fabric_like(i, hole_at=(3, 4) if name in HOLED else None)).save(root / name)
    for i in range(3):
        name = f"sub/b{i:02d}.png"
        Image.fromarray(fabric_like(20 + i, hole_at=(1, 1) if name in HOLED else None)).save(root / name)
    for name, data in BAD.items():
        (root / name).write_bytes(data)
    # A truncated PNG: the header is there, the pixels are not.
    good = (root / "a00.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 3])
    return root


class CountingInspector(Inspector):
    """A real inspector that counts model runs (to prove re-judging runs nothing)."""

    runs = 0

    def run(self, batch, image_sizes=None):  # type: ignore[no-untyped-def]
        CountingInspector.runs += 1
        return super().run(batch, image_sizes)


@pytest.fixture
def inspector(toy_model: Path) -> Inspector:
    return CountingInspector(toy_model, provider="cpu", threads=1)


@pytest.fixture
def tab(qtbot, inspector: Inspector) -> BatchTab:
    widget = BatchTab(AppState(inspector))
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    yield widget
    widget.shutdown()


def score(qtbot, tab: BatchTab, paths: list[Path], **kw) -> None:
    assert tab.start(paths, **kw)
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)


def shown_names(tab: BatchTab) -> list[str]:
    col = tab.model.column_of("file")
    return [tab.proxy.index(r, col).data() for r in range(tab.proxy.rowCount())]


def test_scores_every_file_and_bad_files_become_error_rows(qtbot, tab: BatchTab, folder: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    files = discovery.find_images([folder], recursive=True)
    res = tab.model.results
    assert len(res) == tab.proxy.rowCount() == len(files) == 17
    assert [e.path for e in res.entries] == files
    errors = {n: e.error for n, e in zip(res.names, res.entries, strict=True) if e.error}
    assert set(errors) == {*BAD, "truncated.png"}
    assert "empty" in errors["empty.png"]
    assert all(e.inspection is None for e in res.entries if e.error)
    err_col = tab.model.column_of("error")
    row = res.names.index("notes.jpg")
    assert "not an image" in tab.model.index(row, err_col).data()
    assert tab.model.index(row, tab.model.column_of("verdict", 0)).data() == "error"
    assert tab.progress.value() == 17
    assert tab.status.text().startswith("Done: 17 files")
    # Not recursive: the subfolder is left out.
    score(qtbot, tab, [folder], recursive=False)
    assert len(tab.model.results) == 14


def test_filters_search_and_sorting(qtbot, tab: BatchTab, folder: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    tab.proxy.set_mode("flagged")
    assert set(shown_names(tab)) == HOLED
    tab.proxy.set_mode("errors")
    assert set(shown_names(tab)) == {*BAD, "truncated.png"}
    tab.proxy.set_mode("head:hole")
    assert set(shown_names(tab)) == HOLED
    tab.proxy.set_mode("clean")
    assert len(shown_names(tab)) == 17 - 4 - len(HOLED)
    # The combo box drives the same filters.
    tab.filter_box.setCurrentIndex(tab.filter_box.findData("errors"))
    assert tab.proxy.rowCount() == 4
    assert tab.shown_label.text() == "4 of 17 shown"
    tab.filter_box.setCurrentIndex(tab.filter_box.findData("all"))
    qtbot.keyClicks(tab.search, "SUB/")
    assert shown_names(tab) == ["sub/b00.png", "sub/b01.png", "sub/b02.png"]
    tab.search.clear()
    assert tab.proxy.rowCount() == 17
    # Sort by the hole probability, highest first: the holed files lead, error rows trail.
    prob_col = tab.model.column_of("prob", 0)
    tab.table.sortByColumn(prob_col, Qt.SortOrder.DescendingOrder)
    names = shown_names(tab)
    assert set(names[:3]) == HOLED
    assert set(names[-4:]) == {*BAD, "truncated.png"}
    values = [tab.proxy.index(r, prob_col).data(SORT_ROLE) for r in range(17)]
    assert values == sorted(values, reverse=True)
    # The selection follows its row through a sort.
    tab.table.selectRow(0)
    picked = tab.selected_entry()
    tab.table.sortByColumn(tab.model.column_of("file"), Qt.SortOrder.AscendingOrder)
    assert shown_names(tab) == sorted(names, key=str.lower)
    assert tab.selected_entry() == picked


def test_thresholds_rejudge_without_running_the_model(qtbot, tab: BatchTab, folder: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    runs = CountingInspector.runs
    verdict = tab.model.column_of("verdict", 0)
    holed_row = tab.model.results.names.index("a03.png")
    assert tab.model.index(holed_row, verdict).data() == "hole"
    tab.proxy.set_mode("flagged")
    with qtbot.waitCallback() as changed:
        tab.state.thresholds_changed.connect(changed)
        tab.state.update_thresholds({"hole": 0.999, "wrinkle": 0.999})
    tab.state.thresholds_changed.disconnect(changed)
    assert tab.proxy.rowCount() == 0
    assert tab.model.index(holed_row, verdict).data() == "intact"
    assert tab.model.results.counts(tab.judge)["flagged"] == 0
    # The summary's spin box is another way in; the histogram line follows it.
    tab.summary.histograms[0].spin.setValue(0.01)
    assert tab.state.thresholds["hole"] == pytest.approx(0.01)
    assert tab.summary.histograms[0].line.value() == pytest.approx(0.01)
    assert tab.proxy.rowCount() == 13  # every readable image
    assert CountingInspector.runs == runs


def test_cancel_stops_promptly_and_keeps_the_rows_done(qtbot, tab: BatchTab, tmp_path: Path, monkeypatch) -> None:
    for i in range(400):
        Image.fromarray(fabric_like(i % 7, size=96)).save(tmp_path / f"f{i:03d}.png")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    assert tab.start([tmp_path], batch_size=4, workers=1)
    qtbot.waitUntil(lambda: len(tab.model.results) >= 8, timeout=30_000)
    assert tab.request_stop(confirm=True)
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: not tab.running, timeout=10_000)
    stop_s = time.perf_counter() - t0
    res = tab.model.results
    assert asked and "kept" in asked[0][2]
    assert 8 <= len(res) < 400
    assert [e.index for e in res.entries] == list(range(len(res)))
    assert all(e.inspection is not None for e in res.entries)
    assert tab.status.text().startswith(f"Stopped: {len(res)} of 400")
    assert stop_s < 5.0, f"took {stop_s:.1f} s to stop"


def test_no_prompt_answer_keeps_running(qtbot, tab: BatchTab, folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert tab.start([folder])
    assert not tab.request_stop(confirm=True)
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    assert len(tab.model.results) == 17


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl"])
def test_export_round_trips_with_the_cli_columns(qtbot, tab: BatchTab, inspector, folder, tmp_path, suffix) -> None:
    score(qtbot, tab, [folder], recursive=True)
    tab.state.update_thresholds({"hole": 0.3})
    out = tmp_path / f"table{suffix}"
    assert tab.export_table(out)
    qtbot.waitUntil(lambda: tab.exporter is None, timeout=30_000)
    got = read_rows(out)
    # The engine's own report of the same folder at the same thresholds, as `fabricscope score` writes it.
    at = Thresholds.of(inspector.spec).with_("hole", 0.3)
    cli = tmp_path / f"cli{suffix}"
    batch.score_folder(inspector, discovery.find_images([folder], True), report=cli, thresholds=at)
    want = read_rows(cli)
    assert len(got) == 17
    assert list(got[0]) == row_schema.columns(inspector.spec)
    assert got == want
    # Filtered and sorted: the rows shown, in the order shown.
    tab.proxy.set_mode("flagged")
    tab.table.sortByColumn(tab.model.column_of("file"), Qt.SortOrder.DescendingOrder)
    assert tab.export_table(out)
    qtbot.waitUntil(lambda: tab.exporter is None, timeout=30_000)
    assert [Path(r["path"]).name for r in read_rows(out)] == ["b01.png", "a07.png", "a03.png"]


def test_export_flagged_overlays(qtbot, tab: BatchTab, folder: Path, tmp_path: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    assert tab.export_overlays(tmp_path / "overlays")
    qtbot.waitUntil(lambda: tab.exporter is None, timeout=30_000)
    written = sorted(p.relative_to(tmp_path / "overlays").as_posix() for p in (tmp_path / "overlays").rglob("*.jpg"))
    assert written == sorted(f"{n}.heatmap.jpg" for n in HOLED)
    img = Image.open(tmp_path / "overlays" / "a03.png.heatmap.jpg")
    assert img.width > img.height  # one panel per head, side by side (under a title bar)
    assert "3 overlays written" in tab.status.text()


def test_selecting_a_row_decodes_it_and_shows_its_inspection(qtbot, tab: BatchTab, folder: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    row = tab.model.results.names.index("a07.png")
    with qtbot.waitSignal(tab.selection_ready, timeout=10_000) as sig:
        tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(row, 0)).row())
    rgb, inspection, path = sig.args
    assert path == folder / "a07.png"
    assert rgb.shape == (224, 224, 3)
    assert tab.judge.flag(inspection.head("hole")) and inspection.head("hole").strongest == (3, 4)
    assert "a07.png" in tab.detail_title.text()
    # the first selection's title carries its verdicts, not the "loading" it showed while decoding
    assert "loading" not in tab.detail_title.text() and "hole" in tab.detail_title.text()
    # The live view's widgets: the frame with the deciding head's overlay, one 7x7 panel per head.
    detail = tab.detail
    assert detail.feed.frame_size == (224, 224)
    assert detail.feed.overlay.isVisible() and detail.feed.strongest.isVisible()
    assert detail.overlay_head() == "hole"
    assert [p.spec.name for p in detail.panels] == ["hole", "wrinkle"]
    assert detail.panels[0].verdict_text == "FAIL" and detail.panels[1].verdict_text == "PASS"
    assert detail.panels[0].head.prob == pytest.approx(inspection.head("hole").prob)
    # A panel's threshold re-judges the table too.
    detail.panels[0].threshold.setValue(1.0)
    assert tab.state.thresholds["hole"] == pytest.approx(1.0)
    assert tab.summary.histograms[0].threshold == pytest.approx(1.0)
    assert tab.model.index(row, tab.model.column_of("verdict", 0)).data() == "intact"
    qtbot.waitUntil(lambda: detail.panels[0].verdict_text == "PASS", timeout=10_000)
    # An error row says why, without decoding anything.
    bad = tab.model.results.names.index("empty.png")
    tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(bad, 0)).row())
    assert "empty" in tab.detail_title.text()


def test_thumbnails_load_for_visible_rows(qtbot, tab: BatchTab, folder: Path) -> None:
    score(qtbot, tab, [folder], recursive=True)
    index = tab.model.index(0, tab.model.column_of("thumb"))
    qtbot.waitUntil(lambda: index.data(Qt.ItemDataRole.DecorationRole) is not None, timeout=10_000)
    pix = index.data(Qt.ItemDataRole.DecorationRole)
    assert max(pix.width(), pix.height()) == tab.thumbnails.side


def test_large_folder_keeps_the_gui_responsive(qtbot, tab: BatchTab, tmp_path: Path) -> None:
    """2,000 tiny images: the longest gap between 10 ms heartbeats while scoring (printed)."""
    rng = np.random.default_rng(0)
    for i in range(2000):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(tmp_path / f"t{i:04d}.png")
    tab.table.sortByColumn(tab.model.column_of("prob", 0), Qt.SortOrder.DescendingOrder)
    gaps: list[float] = []
    clock = QElapsedTimer()
    beat = QTimer()
    beat.setInterval(10)

    def tick() -> None:
        gaps.append(clock.restart())

    beat.timeout.connect(tick)
    clock.start()
    beat.start()
    t0 = time.perf_counter()
    score(qtbot, tab, [tmp_path], batch_size=32)
    wall = time.perf_counter() - t0
    beat.stop()
    assert len(tab.model.results) == 2000
    # Rows that streamed in while sorted end up in order.
    col = tab.model.column_of("prob", 0)
    values = [tab.proxy.index(r, col).data(SORT_ROLE) for r in range(2000)]
    assert values == sorted(values, reverse=True)
    worst = max(gaps)
    print(f"\n2,000 images in {wall:.1f} s; longest GUI-thread stall {worst:.0f} ms over {len(gaps)} heartbeats")
    assert worst < 1500, f"GUI thread stalled {worst:.0f} ms"


def test_main_window_batch_tab_takes_drops_and_shares_thresholds(qtbot, toy_model, folder, tmp_path) -> None:
    """In the app: the Batch tab gets the live tab's model, scores a dropped folder, thresholds go both ways."""
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    from fabricscope.gui.main_window import MainWindow
    from fabricscope.gui.settings import open_settings

    win = MainWindow(open_settings(tmp_path / "settings.ini"), model=toy_model, source="demo")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    tab = win.batch
    assert isinstance(tab, BatchTab)
    qtbot.waitUntil(lambda: tab.inspector is not None, timeout=10_000)
    win.tabs.setCurrentWidget(tab)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    tab.dropEvent(drop)
    assert tab.running
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    assert len(tab.model.results) == 17
    tab.state.update_thresholds({"hole": 0.8})
    assert win.state.thresholds["hole"] == pytest.approx(0.8)  # the live view judges at the same threshold
    win.state.set_threshold("hole", 0.6)
    win.tabs.setCurrentWidget(win.live)
    win.tabs.setCurrentWidget(tab)  # coming back picks up the live view's change
    assert tab.judge["hole"] == pytest.approx(0.6)
    win.close()


def test_export_to_an_unwritable_place_says_so(qtbot, tab: BatchTab, folder: Path, tmp_path: Path, monkeypatch) -> None:
    score(qtbot, tab, [folder], recursive=True)
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    assert tab.export_table(tmp_path / "no-such-folder" / "table.csv")
    qtbot.waitUntil(lambda: tab.exporter is None, timeout=10_000)
    assert warned and "does not exist" in warned[0]
    assert tab.status.text().startswith("Export failed")
    assert tab.export_table_button.isEnabled()  # the table is still there to export elsewhere


def test_histogram_count_axis_grows_in_steps_not_with_every_row(qtbot) -> None:
    """Re-ranging an axis redraws its tick text (tens of ms on the GUI thread): the count axis
    changes only when the tallest bar passes 5, 10, 20, 50, ...; the bars show the exact counts."""
    from fabricscope.engine.contract import HeadSpec
    from fabricscope.gui.batch_summary import HeadHistogram, axis_top

    assert [axis_top(n) for n in (0, 5, 6, 11, 21, 51, 101, 2001)] == [5, 5, 10, 20, 50, 100, 200, 5000]
    spec = HeadSpec(
        name="hole",
        pooling="max",
        labels=("intact", "hole"),
        map_output="hole_map",
        prob_output="hole_prob",
        threshold=0.5,
    )
    h = HeadHistogram(spec)
    qtbot.addWidget(h)
    ranges = set()
    rng = np.random.default_rng(0)
    probs = np.zeros(0)
    for _ in range(60):  # rows streaming in: 60 summary redraws
        probs = np.concatenate([probs, rng.random(25)])
        h.update_counts(probs, 0)
        ranges.add(round(h.plot.getViewBox().viewRange()[1][1]))
    tallest = int(np.histogram(probs, bins=20, range=(0, 1))[0].max())
    assert len(ranges) <= 5  # 5, 10, 20, 50, 100 at most (~75 per bin); auto-ranging gave one per redraw
    assert max(ranges) >= tallest
    heights = h.bars.opts["height"]
    assert np.array_equal(heights, np.histogram(probs, bins=20, range=(0, 1))[0].astype(float))


def test_an_error_row_clears_the_detail_and_says_why_in_full(qtbot, tab: BatchTab, folder: Path) -> None:
    """Issue #27: an error row must not keep the previous image's badges, probabilities and maps."""
    score(qtbot, tab, [folder], recursive=True)
    res, detail = tab.model.results, tab.detail
    holed = res.names.index("a03.png")
    with qtbot.waitSignal(tab.selection_ready, timeout=10_000):
        tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(holed, 0)).row())
    assert detail.panels[0].verdict_text == "FAIL" and detail.feed.overlay.isVisible()
    bad = res.names.index("notes.jpg")
    tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(bad, 0)).row())
    error = res.entries[bad].error
    assert len(error) > 20
    assert detail.inspection is None
    assert detail.stack.currentWidget() is detail.message and detail.message.wordWrap()
    assert error in detail.message.text().replace("&#x27;", "'")  # all of it, not cut
    for panel in detail.panels:
        assert panel.head is None and panel.verdict_text == "" and panel.verdict.text() == "–"
        assert not panel.image.isVisible() and panel.pooled.text().endswith("= –")
    assert not detail.feed.overlay.isVisible() and not detail.feed.strongest.isVisible()
    assert "notes.jpg" in tab.detail_title.text()
    # back to a good row: the image and the maps come back
    with qtbot.waitSignal(tab.selection_ready, timeout=10_000):
        tab.table.selectRow(tab.proxy.mapFromSource(tab.model.index(holed, 0)).row())
    assert detail.stack.currentWidget() is detail.feed and detail.panels[0].image.isVisible()


def test_table_headers_fit_names_elide_in_the_middle_and_fails_at_only_on_fails(
    qtbot, tab: BatchTab, folder: Path
) -> None:
    score(qtbot, tab, [folder], recursive=True)
    header = tab.table.horizontalHeader()
    tab.table.selectRow(0)
    assert not header.highlightSections()  # selected rows do not embolden (and so clip) the titles
    metrics = header.fontMetrics()
    for c, col in enumerate(tab.model.columns):
        if col.title and col.kind != "error":
            assert header.sectionSize(c) >= metrics.horizontalAdvance(col.title) + 16, col.title
    assert tab.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    res = tab.model.results
    file_col, fails_col = tab.model.column_of("file"), tab.model.column_of("strongest")
    row = res.names.index("sub/b01.png")
    assert tab.model.index(row, file_col).data(Qt.ItemDataRole.ToolTipRole) == str(folder / "sub" / "b01.png")
    assert tab.model.headerData(fails_col, Qt.Orientation.Horizontal) == "Fails at"
    assert tab.model.index(res.names.index("a03.png"), fails_col).data() == "hole (3, 4)"
    assert tab.model.index(res.names.index("a00.png"), fails_col).data() is None  # passes: nothing to explain
    assert tab.model.index(res.names.index("empty.png"), fails_col).data() is None
    tab.state.update_thresholds({"wrinkle": 0.0})  # every inspected row now fails on its whole wrinkle map too
    assert tab.model.index(res.names.index("a03.png"), fails_col).data() == "hole (3, 4), wrinkle (map)"
    assert tab.model.index(res.names.index("a00.png"), fails_col).data() == "wrinkle (map)"


def test_deciding_head_shows_a_failing_hole_before_a_failing_wrinkle() -> None:
    from toy_model import HEADS

    from fabricscope.engine.inspector import HeadResult
    from fabricscope.gui.batch_detail import deciding_head

    hole_spec, wrinkle_spec = HEADS
    cmap = np.zeros((2, 7, 7), np.float32)

    def heads(p_hole: float, p_wrinkle: float) -> tuple[HeadResult, ...]:
        return (HeadResult(hole_spec, cmap, p_hole), HeadResult(wrinkle_spec, cmap, p_wrinkle))

    at = Thresholds.from_mapping({"hole": 0.5, "wrinkle": 0.5})
    assert deciding_head(heads(0.7, 0.99), at).name == "hole"  # both fail: the hole, which the wrinkle map would hide
    assert deciding_head(heads(0.2, 0.99), at).name == "wrinkle"  # only the wrinkle head fails
    assert deciding_head(heads(0.2, 0.3), at).name == "wrinkle"  # both pass: the higher P
    assert deciding_head((), at) is None
