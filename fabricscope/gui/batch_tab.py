"""The Batch tab: score a folder in the background, review the rows, export.

Built on the engine's batch driver (:func:`batch.score_folder`, the code
behind ``fabricscope score``): a :class:`ScoringThread` runs it, a GUI-thread
timer moves finished rows into the table in chunks and redraws progress and
the summary. The model and the thresholds are the app state's (:class:`AppState`):
a threshold changed here or in the live tab re-judges the stored probabilities;
nothing is re-run.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QItemSelection, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..engine.contract import ModelSpec
from ..engine.export import ExportItem, export_overlays, write_table
from ..engine.imaging import decode_image
from ..engine.inspector import Inspector
from ..engine.report import FORMATS
from ..engine.results import BatchEntry
from ..engine.summary import duration_text
from ..engine.thresholds import Thresholds
from ..state import AppState
from .batch_detail import BatchDetail
from .batch_model import BatchFilterProxy, BatchTableModel
from .batch_summary import BatchSummary
from .batch_worker import ExportThread, ScoringThread, ThumbnailLoader
from .steady import steady_label

Progress = Callable[[int, int], None]
Stop = Callable[[], bool]

#: Rows moved into the table per timer tick at most: bounds the time one tick can take.
ROWS_PER_TICK = 2000
TICK_MS = 100
SUMMARY_EVERY_S = 0.5
RESORT_EVERY_S = 1.0
THUMB_SIDE = 40


class _DecodeJob(QRunnable):
    """Re-decode the selected file off the GUI thread (a 40 MP PNG takes a while)."""

    def __init__(self, token: int, path: Path, side: int, done: Signal) -> None:
        super().__init__()
        self.token, self.path, self.side, self.done = token, path, side, done

    def run(self) -> None:
        try:
            rgb, error = decode_image(self.path, target=self.side).rgb, ""
        except Exception as exc:
            rgb, error = None, str(exc)
        self.done.emit(self.token, rgb, error)


class BatchTab(QWidget):
    """Choose or drop a folder, watch it score, filter and sort the rows, export them."""

    #: A row was selected and decoded: (rgb array, its Inspection, path).
    selection_ready = Signal(object, object, object)
    _decoded = Signal(int, object, str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.run_spec: ModelSpec | None = None
        self.worker: ScoringThread | None = None
        self.exporter: ExportThread | None = None
        self.total = 0
        self._summary_drawn = 0.0
        self._sorted_at = 0.0
        self._root: Path | None = None
        self._decode_token = 0
        self._decode_pool = QThreadPool(self)
        self._decode_pool.setMaxThreadCount(1)
        self._decoded.connect(self._on_decoded)
        self.setAcceptDrops(True)

        # --- controls
        self.choose_button = QPushButton("Choose folder…")
        self.recursive_box = QCheckBox("Include subfolders")
        self.recursive_box.setChecked(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m")
        self.status = steady_label("Choose a folder of fabric photos, or drop one here.", min_chars=30)
        top = QHBoxLayout()
        for w in (self.choose_button, self.recursive_box, self.stop_button):
            top.addWidget(w)
        top.addWidget(self.progress, 1)
        top.addWidget(self.status, 1)

        self.filter_box = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file names")
        self.search.setClearButtonEnabled(True)
        self.shown_label = steady_label(min_chars=18)
        self.export_table_button = QPushButton("Export table…")
        self.export_table_button.setToolTip(
            "Write the rows shown as CSV, JSON or JSON lines (the columns of `fabricscope score`)"
        )
        self.export_overlays_button = QPushButton("Export flagged overlays…")
        self.export_overlays_button.setToolTip("Write a heatmap overlay for each flagged row shown into a folder")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter_box)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.shown_label)
        bar.addWidget(self.export_table_button)
        bar.addWidget(self.export_overlays_button)

        # --- table
        self.model = BatchTableModel()
        self.proxy = BatchFilterProxy()
        self.proxy.setSourceModel(self.model)
        self.thumbnails = ThumbnailLoader(side=THUMB_SIDE)
        self.thumbnails.ready.connect(self.model.thumbnail_changed)
        self.model.thumbnail_for = lambda entry: self.thumbnails.get(entry, self.model.results.entries[entry].path)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # scan order first
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vh = self.table.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row measuring on 10,000 rows
        vh.setDefaultSectionSize(THUMB_SIDE + 4)
        vh.hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # No bold header sections for the selected row: with whole rows selected every section would turn
        # bold, and bold titles no longer fit their columns ("Wrinkles F", "Strongest cel").
        header.setHighlightSections(False)
        # Long names lose their middle, not their end: hole_and_wrinkled_1 and _2 stay told apart.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)

        # --- selected row (the live view's widgets) + summary
        self.detail = BatchDetail()
        self.detail_title = self.detail.title
        self.detail.thresholdChanged.connect(lambda head, value: self.state.update_thresholds({head: value}))
        self.summary = BatchSummary()

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.table)
        left.addWidget(self.summary)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([830, 770])  # the table's columns fit without scrolling at 1600 px

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

        self.choose_button.clicked.connect(self.choose_folder)
        self.stop_button.clicked.connect(lambda: self.request_stop(confirm=True))
        self.filter_box.currentIndexChanged.connect(self._filter_changed)
        self.search.textChanged.connect(self._search_changed)
        self.summary.thresholds_changed.connect(self.state.update_thresholds)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.export_table_button.clicked.connect(self.choose_export_table)
        self.export_overlays_button.clicked.connect(self.choose_export_overlays)
        app = QApplication.instance()
        if isinstance(app, QObject):
            app.aboutToQuit.connect(self.shutdown)
        state.inspector_changed.connect(self._on_inspector)
        state.thresholds_changed.connect(self._on_thresholds)
        self._on_inspector(state.inspector)

    # --- model -----------------------------------------------------------------------------
    @property
    def inspector(self) -> Inspector | None:
        """The app's model: the next run's."""
        return self.state.inspector

    @property
    def judge(self) -> Thresholds:
        """The thresholds the rows are shown at: the state's (the run's shipped ones for a head it lacks)."""
        if self.run_spec is None:
            return self.state.thresholds
        return Thresholds.of(self.run_spec).merged(self.state.thresholds)

    def _on_inspector(self, inspector: Inspector | None) -> None:
        """Use this model for the next run (the table keeps the rows it has until then)."""
        self.choose_button.setEnabled(inspector is not None)
        if inspector is not None and not len(self.model.results):
            self._reset_table(None)
        self._update_buttons()

    def _reset_table(self, root: Path | None) -> None:
        assert self.inspector is not None
        self.run_spec = self.inspector.spec  # the heads the rows were scored with, for export
        judge = self.judge
        self.thumbnails.clear()
        self.model.reset(self.run_spec.heads, root)
        self.model.set_thresholds(judge)
        self.summary.set_heads(self.run_spec.heads, judge)
        self.detail.set_model(self.run_spec, judge)
        self.summary.update_from(self.model.results, judge)
        self._fill_filters()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.model.column_of("thumb"), QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(self.model.column_of("thumb"), THUMB_SIDE + 8)
        self.table.setColumnWidth(self.model.column_of("file"), 150)
        metrics = QFontMetrics(header.font())  # sections are never bold (setHighlightSections(False))
        sample = QFontMetrics(self.table.font()).horizontalAdvance("hole (6, 6), wrinkle (map)") + 12
        for c, col in enumerate(self.model.columns):
            wanted = {"prob": 52, "verdict": 60, "strongest": sample}.get(col.kind)
            if wanted is not None:
                # the title, the sort arrow and the section's margins
                self.table.setColumnWidth(c, max(wanted, metrics.horizontalAdvance(col.title) + 26))
        self._clear_detail("Select a row to see its heatmaps.")

    def _fill_filters(self) -> None:
        self.filter_box.blockSignals(True)
        self.filter_box.clear()
        for text, key in (("All", "all"), ("Flagged", "flagged"), ("Clean", "clean"), ("Errors", "errors")):
            self.filter_box.addItem(text, key)
        for head in self.model.results.heads:
            self.filter_box.addItem(f"Flagged: {head.labels[1]}", f"head:{head.name}")
        self.filter_box.blockSignals(False)
        self.proxy.set_mode("all")

    # --- running ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of images to score")
        if folder:
            self.start([Path(folder)], recursive=self.recursive_box.isChecked())

    def start(self, paths: Sequence[Path], recursive: bool = True, batch_size: int = 16, workers: int = 2) -> bool:
        """Score ``paths`` (folders or files) in the background; False if it cannot start now."""
        if self.inspector is None or self.running:
            return False
        paths = [Path(p) for p in paths]
        root = paths[0] if len(paths) == 1 and paths[0].is_dir() else None
        self._reset_table(root)
        self.total = 0
        worker = ScoringThread(self.inspector, paths, recursive=recursive, batch_size=batch_size, workers=workers)
        worker.found.connect(self._on_found)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.progress.setRange(0, 0)  # busy until the file list is known
        self.status.setText(f"Looking for images in {', '.join(str(p) for p in paths)}…")
        self._update_buttons()
        worker.start()
        self.timer.start()
        return True

    def request_stop(self, confirm: bool = True) -> bool:
        """Cancel the run (after a yes to the prompt when ``confirm``); rows scored so far stay."""
        if self.worker is None:
            return False
        if confirm:
            done = len(self.model.results) + self.worker.pending
            answer = QMessageBox.question(
                self,
                "Stop scoring?",
                f"Stop scoring this folder? The {done} rows scored so far are kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes or self.worker is None:
                return False
        self.worker.cancel()
        self.status.setText("Stopping after the current batch…")
        self.stop_button.setEnabled(False)
        return True

    def shutdown(self) -> None:
        """Stop any run and wait for the threads (the app is closing)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(10_000)
        if self.exporter is not None:
            self.exporter.cancel()
            self.exporter.wait(10_000)
        self.thumbnails.wait(5_000)
        self._decode_pool.waitForDone(5_000)

    def _on_found(self, total: int) -> None:
        self.total = total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(0)
        if total == 0:
            self.status.setText(
                "No image files found" + ("" if self.recursive_box.isChecked() else " (try Include subfolders)")
            )

    def _on_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Batch scoring", message)

    def _tick(self) -> None:
        """GUI thread: move finished rows into the table, redraw progress and summary."""
        if self.worker is not None:
            self._take_rows(self.worker, ROWS_PER_TICK)
            p = self.worker.progress
            if p is not None and self.total:
                self.progress.setValue(min(len(self.model.results), self.total))
                self.status.setText(
                    f"{p.images_per_s:.1f} images/s · {duration_text(p.eta_s)} left"
                    f" · {duration_text(p.elapsed_s)} so far"
                )
        if self.exporter is not None and self.exporter.total:
            self.progress.setRange(0, self.exporter.total)
            self.progress.setValue(self.exporter.done)

    def _take_rows(self, worker: ScoringThread, limit: int | None) -> None:
        """Move scored rows into the table; ``limit`` None: all of them, and finish sorting and the summary."""
        scored = worker.take_rows(limit)
        now = time.monotonic()
        final = limit is None
        if scored:
            # A sorted table is re-sorted at most every RESORT_EVERY_S while rows stream in (and at the end).
            resort = final or now - self._sorted_at >= RESORT_EVERY_S
            if resort:
                self._sorted_at = now
            entries = [BatchEntry(s.index, s.path, s.inspection, s.row.get("error") or "") for s in scored]
            self.model.append(entries, keep_sorted=resort)
        elif final and self.model.sort_column >= 0:
            self.model.sort(self.model.sort_column, self.model.sort_order)
        if final or (scored and now - self._summary_drawn >= SUMMARY_EVERY_S):  # histograms: not every tick
            self._summary_drawn = now
            self.summary.update_from(self.model.results, self.judge, self.total)
        self._update_shown()

    def _on_finished(self) -> None:
        worker = self.worker
        if worker is None:
            return
        self._take_rows(worker, None)
        self.worker = None
        self.timer.stop()
        s = worker.summary
        n = len(self.model.results)
        self.progress.setRange(0, max(self.total, 1))
        self.progress.setValue(n)
        if s is not None and s.stopped and self.total:
            self.status.setText(f"Stopped: {n} of {self.total} files scored (rows kept)")
        elif s is not None and self.total:
            self.status.setText(f"Done: {n} files in {duration_text(s.elapsed_s)} ({s.images_per_s:.1f} images/s)")
        worker.deleteLater()
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.worker is not None or self.exporter is not None
        self.choose_button.setEnabled(self.inspector is not None and not busy)
        self.stop_button.setEnabled(self.worker is not None and not self.worker.cancelled)
        has_rows = len(self.model.results) > 0
        self.export_table_button.setEnabled(has_rows and not busy)
        self.export_overlays_button.setEnabled(has_rows and not busy)

    # --- filters and thresholds --------------------------------------------------------------
    def _filter_changed(self) -> None:
        self.proxy.set_mode(str(self.filter_box.currentData() or "all"))
        self._update_shown()

    def _search_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        self._update_shown()

    def _update_shown(self) -> None:
        self.shown_label.setText(f"{self.proxy.rowCount()} of {len(self.model.results)} shown")

    def _on_thresholds(self, _thresholds: Thresholds) -> None:
        """Re-judge every row at the state's thresholds (no model run); the filter follows."""
        judge = self.judge
        if judge == self.model.judge:
            return
        self.model.set_thresholds(judge)
        self.summary.set_thresholds(judge)
        self.detail.set_thresholds(judge)
        self.summary.update_from(self.model.results, judge, self.total or None)
        self.proxy.refilter()
        self._update_shown()
        self._show_title()

    # --- the selected row --------------------------------------------------------------------
    def selected_entry(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.entry_at(self.proxy.mapToSource(rows[0]).row()) if rows else None

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self._show_current()

    def _show_current(self) -> None:
        row = self.selected_entry()
        if row is None:
            return
        entry = self.model.results.entries[row]
        if entry.inspection is None:
            name = html.escape(self.model.results.names[row])
            self._clear_detail(
                f"<b>{name}</b> — not inspected",
                f"<b>{name}</b> could not be inspected:<br><br>{html.escape(entry.error or 'unknown error')}"
                f"<br><br><span style='color:#9aa0a6'>{html.escape(str(entry.path))}</span>",
            )
            return
        self._decode_token += 1
        self.detail_title.setText(f"<b>{self.model.results.names[row]}</b> — loading…")
        side = max(self.inspector.input_size if self.inspector else 224, 1024)
        self._decode_pool.start(_DecodeJob(self._decode_token, entry.path, side, self._decoded))

    def _on_decoded(self, token: int, rgb: object, error: str) -> None:
        if token != self._decode_token:
            return  # a newer selection won
        row = self.selected_entry()
        if row is None:
            return
        name = self.model.results.names[row]
        if rgb is None:
            self._clear_detail(
                f"<b>{html.escape(name)}</b> — cannot be shown",
                f"<b>{html.escape(name)}</b> was inspected, but cannot be shown any more:<br><br>{html.escape(error)}",
            )
            return
        entry = self.model.results.entries[row]
        assert entry.inspection is not None  # error rows are never decoded
        self.detail.show_result(rgb, entry.inspection)  # type: ignore[arg-type]
        self._show_title()  # after show_result: the title needs the detail's inspection
        self.selection_ready.emit(rgb, entry.inspection, entry.path)

    def _show_title(self) -> None:
        """The selected row's name and verdicts above its image."""
        row = self.selected_entry()
        inspection = self.model.results.entries[row].inspection if row is not None else None
        if row is None or inspection is None or self.detail.inspection is None:
            return
        judge = self.judge
        verdicts = ", ".join(
            f"{h.name} {h.prob:.3f} {'<b>' + h.spec.labels[1] + '</b>' if judge.flag(h) else h.spec.labels[0]}"
            for h in inspection.heads
        )
        self.detail_title.setText(f"<b>{self.model.results.names[row]}</b> — {verdicts}")

    def _clear_detail(self, text: str, message: str = "") -> None:
        self.detail.clear(text, message)

    # --- export --------------------------------------------------------------------------------
    def _shown_items(self, flagged_only: bool = False) -> list[ExportItem]:
        res = self.model.results
        flags = res.flags(self.judge).any(axis=1) if res.heads else None
        items = []
        for r in range(self.proxy.rowCount()):
            src = self.model.entry_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
            if flagged_only and (flags is None or not flags[src]):
                continue
            entry = res.entries[src]
            items.append(ExportItem(entry.path, entry.inspection, entry.error))
        return items

    def choose_export_table(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the rows shown", "batch-report.csv", "CSV (*.csv);;JSON (*.json);;JSON lines (*.jsonl)"
        )
        if not path:
            return
        out = Path(path)
        if out.suffix.lower() not in FORMATS:
            out = out.with_name(
                out.name + (".json" if "(*.json)" in chosen else ".jsonl" if "jsonl" in chosen else ".csv")
            )
        self.export_table(out)

    def choose_export_overlays(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the flagged images' heatmap overlays")
        if folder:
            self.export_overlays(Path(folder))

    def export_table(self, out: Path) -> bool:
        """Write the rows shown, in the order shown, at the current thresholds (a background thread)."""
        if self.run_spec is None or self.exporter is not None:
            return False
        spec, thresholds = self.run_spec, self.judge
        items = self._shown_items()

        def job(report: Progress, should_stop: Stop) -> str:
            n = write_table(out, items, spec, thresholds, report, should_stop)
            return f"{n} rows written to {out}"

        return self._run_export(job, f"Exporting {len(items)} rows…")

    def export_overlays(self, folder: Path, fmt: str = "jpg") -> bool:
        """Write the heatmap overlay of each flagged row shown into ``folder`` (a background thread)."""
        if self.exporter is not None:
            return False
        thresholds = self.judge
        items = [i for i in self._shown_items(flagged_only=True) if i.inspection is not None]

        def job(report: Progress, should_stop: Stop) -> str:
            written, errors = export_overlays(folder, items, thresholds, report, should_stop, fmt)
            text = f"{written} overlays written to {folder}"
            return text + (f"; {len(errors)} failed: {errors[0]}" if errors else "")

        return self._run_export(job, f"Writing {len(items)} overlays…")

    def _run_export(self, job: Callable[[Progress, Stop], str], text: str) -> bool:
        exporter = ExportThread(job)
        exporter.failed.connect(lambda msg: QMessageBox.warning(self, "Export", f"Export failed: {msg}"))
        exporter.finished.connect(self._on_export_finished)
        self.exporter = exporter
        self.status.setText(text)
        self._update_buttons()
        exporter.start()
        self.timer.start()
        return True

    def _on_export_finished(self) -> None:
        exporter = self.exporter
        self.exporter = None
        if exporter is None:
            return
        self.status.setText(exporter.result or "Export failed: nothing written")
        if self.worker is None:
            self.timer.stop()
        exporter.deleteLater()
        self._update_buttons()

    # --- drag and drop ---------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.inspector is not None and not self.running:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.start(paths, recursive=self.recursive_box.isChecked()):
            event.acceptProposedAction()
