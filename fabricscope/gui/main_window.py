"""The main window: the app state, a tab widget (Live, Batch), the File menu, drag and drop, the status bar.

The window owns the one :class:`~fabricscope.state.AppState` (model, thresholds, provider, source),
the :class:`~.model_control.ModelControl` that opens models into it, and the settings file that
remembers it (:func:`~.settings.remember`). The tabs are handed the state; neither knows the other.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QTabWidget, QWidget

from fabricscope.engine.inspector import DEFAULT_MODEL
from fabricscope.gui.live_tab import LiveTab
from fabricscope.gui.model_control import ModelControl
from fabricscope.gui.settings import get_str, remember
from fabricscope.gui.steady import steady_label
from fabricscope.sources.factory import VIDEO_SUFFIXES, camera_id, key_for_paths
from fabricscope.sources.qt_video import cameras
from fabricscope.state import AppState


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings, model: Path | None = None, source: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.state = AppState(provider=get_str(settings, "provider", "auto"))
        remember(self.state, settings)
        self.models = ModelControl(self.state, settings, self)
        self.setWindowTitle("FabricScope")
        self.setAcceptDrops(True)
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.live = LiveTab(self.state, settings)
        self.live.openRequested.connect(self.open_dialog)
        self.add_tab(self.live, "Live")
        self._add_batch_tab()

        # Permanent widgets: transient messages (showMessage) never hide which model is running.
        self.model_label = steady_label("no model", min_chars=16)
        self.provider_label = steady_label(min_chars=20)
        self.perf_label = steady_label(min_chars=20)
        for w in (self.model_label, self.provider_label, self.perf_label):
            self.statusBar().addPermanentWidget(w)
        for messages in (self.live.message, self.models.message):
            messages.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.models.failed.connect(lambda text: self.live.show_error(text, kind="model"))
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.update_status)
        self.status_timer.start(500)
        self._build_menu()

        cams = [(camera_id(d), d.description()) for d in cameras()]
        self.live.populate_sources(cams)
        model_path = model or Path(get_str(settings, "model", "") or DEFAULT_MODEL)
        if not model_path.exists() and model is None:
            model_path = DEFAULT_MODEL
        if model_path.exists():
            self.models.load(model_path)
        else:
            self.live.show_error(f"No model at {model_path}: use File > Open Model… to choose one.", kind="model")
        key = source or get_str(settings, "source", "")
        if not key:  # first run: the first camera; the demo feed when no camera is present
            key = f"camera:{cams[0][0]}" if cams else "demo"
        if not self.live.open_source_key(key):  # says why (camera gone, file missing) and keeps saying it
            message = self.live.last_error
            self.live.open_source_key("demo")
            self.live.show_error(f"{message}; showing the demo feed" if message else "showing the demo feed")

    def add_tab(self, widget: QWidget, title: str) -> int:
        return self.tabs.addTab(widget, title)

    def _add_batch_tab(self) -> None:
        try:
            from fabricscope.gui.batch_tab import BatchTab
        except ImportError:  # the batch tab is optional; the live view works without it
            self.batch = None
            return
        self.batch = BatchTab(self.state)
        self.add_tab(self.batch, "Batch")

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        actions = [
            ("Open &Model…", "Ctrl+M", self.open_model_dialog),
            ("Open &Video…", "Ctrl+O", lambda: self.open_dialog("video")),
            ("Open &Images…", "Ctrl+I", lambda: self.open_dialog("images")),
            ("Open &Folder…", "Ctrl+F", lambda: self.open_dialog("folder")),
            ("&Demo feed", "Ctrl+D", lambda: self.live.open_source_key("demo")),
            ("Snapshot folder…", None, self.choose_snapshot_dir),
            ("&Quit", "Ctrl+Q", self.close),
        ]
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            file_menu.addAction(action)
        keys = [
            ("Space", lambda: self.live.set_frozen(not self.live.frozen)),
            ("S", lambda: self.live.snapshot()),
            ("Right", lambda: self.live.step_image(1)),
            ("Left", lambda: self.live.step_image(-1)),
        ]
        for key, slot in keys:
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", str(DEFAULT_MODEL.parent), "ONNX models (*.onnx)")
        if path:
            self.models.load(path)

    def open_dialog(self, kind: str) -> None:
        start = get_str(self.settings, "last_dir", str(Path.home()))
        if kind == "video":
            pattern = "Videos (" + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ")"
            path, _ = QFileDialog.getOpenFileName(self, "Open video", start, pattern)
            paths = [path] if path else []
        elif kind == "images":
            paths, _ = QFileDialog.getOpenFileNames(self, "Open images", start)
        else:
            folder = QFileDialog.getExistingDirectory(self, "Open folder of images", start)
            paths = [folder] if folder else []
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_paths(self, paths: list[Path]) -> bool:
        """A video file becomes the video source; image files and folders the image source."""
        if not paths:
            return False
        self.settings.setValue("last_dir", str(paths[0].parent if paths[0].is_file() else paths[0]))
        return self.live.open_source_key(key_for_paths(paths))

    def choose_snapshot_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save snapshots in", get_str(self.settings, "snapshot_dir"))
        if folder:
            self.settings.setValue("snapshot_dir", folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.tabs.currentWidget() is self.live:
            self.open_paths(paths)
            event.acceptProposedAction()

    def update_status(self) -> None:
        inspector = self.state.inspector
        if inspector is None:
            self.model_label.setText("no model")
            self.model_label.setToolTip("")
            self.provider_label.setText("")
        else:
            if self.model_label.text() != f"model: {inspector.path.name}":
                self.model_label.setText(f"model: {inspector.path.name}")
                self.model_label.setToolTip(str(inspector.path))
            report = inspector.provider_report
            text = f"provider: {report.active}"
            if report.note:
                text += f" (asked for {report.requested}: fell back)"
            self.provider_label.setText(text)
            self.provider_label.setToolTip(report.note or ", ".join(report.used))
        s = self.live.stats()
        parts = [f"{s['fps']:.1f} fps displayed" if self.live.source_is_live() else "still image"]
        if inspector is not None and s["infer_ms"] == s["infer_ms"]:  # not NaN: results have arrived
            parts[:0] = [
                f"model {s['infer_ms']:.1f} ms",
                f"frame→heatmap {s['latency_median']:.0f} ms (p95 {s['latency_p95']:.0f})",
            ]
            parts.append(f"{int(s['dropped'])} frames dropped")
        self.perf_label.setText("  ·  ".join(parts))

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.live.shutdown()
        self.state.close()
        self.models.shutdown()
        if self.batch is not None:
            self.batch.shutdown()
        self.settings.sync()
        super().closeEvent(event)
