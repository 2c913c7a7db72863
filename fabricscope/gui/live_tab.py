"""The Live tab: a frame source, the inference thread, the feed view and one panel per head.

Data flows one way: source -> LatestFrame slot -> InferenceWorker (model) ->
LiveResult signal -> panels, overlay, strip chart. The frame itself is painted
from a GUI timer (newest frame only), the heatmaps when a result arrives; no
inspection logic lives here, only calls into the engine.

The model, the thresholds, the provider and the source are the app's
:class:`~fabricscope.state.AppState`; this tab shows them and changes them
through the state, and keeps none of them itself.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fabricscope.engine import providers
from fabricscope.engine.contract import HeadSpec
from fabricscope.engine.heatmap_render import blend, save_image
from fabricscope.engine.inspector import Inspection, Inspector
from fabricscope.engine.pooling import cell_region
from fabricscope.engine.thresholds import Thresholds
from fabricscope.gui.feed_view import FeedView
from fabricscope.gui.heatmap_panel import LIVE_HOLD, HeadPanel
from fabricscope.gui.settings import get_bool, get_float, get_str
from fabricscope.gui.strip_chart import StripChart
from fabricscope.gui.worker import InferenceWorker, LiveResult
from fabricscope.sources import Capabilities, FrameSource, LatestFrame, SourceError, open_source
from fabricscope.sources.factory import label_for_key
from fabricscope.state import AppState


class LiveTab(QWidget):
    message = Signal(str)  # short status-bar messages
    openRequested = Signal(str)  # "video" or "images": the user wants a file dialog
    _source_error = Signal(str)  # from any thread

    def __init__(self, state: AppState, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.slot = LatestFrame()
        self.worker = InferenceWorker(self.slot)
        self.worker.resultReady.connect(self._on_result)
        self.worker.failed.connect(self.show_error)
        self.worker.start()
        self.panels: dict[str, HeadPanel] = {}
        self._heads: tuple[HeadSpec, ...] | None = None  # the heads the panels were built for
        self.current: tuple[np.ndarray, Inspection] | None = None
        self.frozen = False
        self.last_error = ""
        self.field_cell: tuple[str, int, int] | None = None
        self.latencies: deque[float] = deque(maxlen=300)
        self.latency_log: list[tuple[float, float]] | None = None  # (latency ms, model ms), set by benchmarks
        self.results = 0
        self._painted_seq = 0
        self._fps = 0.0
        self._fps_mark = (time.perf_counter(), 0)
        self._source_error.connect(self.show_error)
        self._build()
        self.paint_timer = QTimer(self)
        self.paint_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.paint_timer.timeout.connect(self._paint_frame)
        self.paint_timer.start(10)
        self.chart_timer = QTimer(self)
        self.chart_timer.timeout.connect(self.chart.refresh)
        self.chart_timer.start(200)
        state.inspector_changed.connect(self._on_inspector)
        state.thresholds_changed.connect(self._on_thresholds)
        state.provider_changed.connect(self._on_provider)
        state.source_changed.connect(self._on_source)

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.source_box = QComboBox()
        self.source_box.setToolTip("Where frames come from")
        self.resolution_box = QComboBox()
        self.resolution_box.setToolTip("Camera resolution")
        self.play_button = QPushButton("Pause")
        self.play_button.setCheckable(True)
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setChecked(True)
        self.provider_box = QComboBox()
        self.provider_box.addItems(["auto", *providers.available()])
        self._on_provider(self.state.provider)
        self.provider_box.setToolTip("ONNX Runtime execution provider (switching reopens the model in the background)")
        self.overlay_box = QComboBox()
        self.overlay_box.setToolTip("Heatmap drawn over the frame")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(get_float(self.settings, "overlay/opacity", 0.8) * 100))
        self.opacity.setFixedWidth(100)
        self.opacity.setToolTip("Overlay opacity")
        self.grid_box = QCheckBox("Grid")
        self.grid_box.setChecked(get_bool(self.settings, "overlay/grid", True))
        self.freeze_button = QPushButton("Freeze (Space)")
        self.freeze_button.setCheckable(True)
        self.snapshot_button = QPushButton("Snapshot (S)")
        for w in (self.play_button, self.freeze_button, self.snapshot_button, self.loop_box, self.grid_box):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        bar = QHBoxLayout()
        for label, w in (
            ("Source", self.source_box),
            (None, self.resolution_box),
            (None, self.play_button),
            (None, self.loop_box),
            ("Provider", self.provider_box),
            ("Overlay", self.overlay_box),
            (None, self.opacity),
            (None, self.grid_box),
        ):
            if label:
                bar.addWidget(QLabel(label))
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.freeze_button)
        bar.addWidget(self.snapshot_button)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self.feed = FeedView()
        self.field_hint = QLabel("Click a cell of a heatmap to see the region of the frame it sees.")
        self.field_hint.setObjectName("hint")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.feed, 1)
        lv.addWidget(self.field_hint)
        self.panel_area = QWidget()
        self.panel_layout = QHBoxLayout(self.panel_area)
        self.panel_layout.setContentsMargins(0, 0, 0, 0)
        self.no_model = QLabel("No model loaded: File > Open Model…")
        self.panel_layout.addWidget(self.no_model)
        top = QSplitter(Qt.Orientation.Horizontal)
        self.top_splitter = top
        top.addWidget(left)
        top.addWidget(self.panel_area)
        top.setStretchFactor(0, 5)
        top.setStretchFactor(1, 6)
        self.chart = StripChart()
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.chart)
        main.setStretchFactor(0, 5)
        main.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)

        self.play_button.toggled.connect(self._on_play_toggled)
        self.loop_box.toggled.connect(self._on_loop_toggled)
        self.provider_box.activated.connect(lambda _i: self.state.set_provider(self.provider_box.currentText()))
        self.overlay_box.currentIndexChanged.connect(self._on_overlay_changed)
        self.opacity.valueChanged.connect(self._on_overlay_changed)
        self.grid_box.toggled.connect(self._on_overlay_changed)
        self.freeze_button.toggled.connect(self.set_frozen)
        self.snapshot_button.clicked.connect(lambda: self.snapshot())
        self.source_box.activated.connect(self._on_source_chosen)
        self.resolution_box.activated.connect(self._on_resolution_chosen)
        self._update_source_controls(None)

    # ---------------------------------------------------------------- the state
    def _on_inspector(self, inspector: Inspector | None) -> None:
        """A model was opened: panels for its heads, the inference thread on it, its provider note said."""
        if inspector is None:
            return
        if self._heads != inspector.spec.heads:
            self._heads = inspector.spec.heads
            self._build_panels(inspector)
        self.worker.set_inspector(inspector)
        report = inspector.provider_report
        if report.note:
            self.show_error(report.note, kind="model")
        else:
            self.clear_error(kind="model")
        latest = self.slot.peek()
        if latest is not None and not self.source_is_live() and not self.frozen:
            self.slot.put(latest.frame)  # a still image: inspect it again with the new model

    def _build_panels(self, inspector: Inspector) -> None:
        for panel in self.panels.values():
            panel.setParent(None)
            panel.deleteLater()
        self.panels.clear()
        self.no_model.setVisible(False)
        thresholds = self.state.thresholds
        for spec in inspector.spec.heads:
            panel = HeadPanel(spec, thresholds[spec.name], hold=LIVE_HOLD)  # hysteresis: live badge only
            panel.thresholdChanged.connect(self.state.set_threshold)
            panel.cellClicked.connect(self.show_field)
            self.panel_layout.addWidget(panel, 1)
            self.panels[spec.name] = panel
        wanted = get_str(self.settings, "overlay/head", inspector.spec.heads[0].name)
        self.overlay_box.blockSignals(True)
        self.overlay_box.clear()
        self.overlay_box.addItem("none", "")
        for spec in inspector.spec.heads:
            self.overlay_box.addItem(spec.title or spec.name.capitalize(), spec.name)
        index = self.overlay_box.findData(wanted)
        self.overlay_box.setCurrentIndex(index if index >= 0 else 1)
        self.overlay_box.blockSignals(False)
        self.chart.set_heads([(s.name, s.display_title) for s in inspector.spec.heads], thresholds)
        self._share_width()
        self.field_cell = None
        self.feed.set_field(None)
        self.current = None

    def _share_width(self) -> None:
        """Give the new panels the width they ask for (the splitter was laid out before they existed)."""
        sizes = self.top_splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        feed_min = self.feed.minimumWidth()
        # the panels' own hints: new children are not shown yet, so panel_area's hint still leaves them out
        asked = sum(p.sizeHint().width() for p in self.panels.values())
        asked += self.panel_layout.spacing() * max(len(self.panels) - 1, 0)
        want = min(asked, max(total - feed_min, 0))
        self.top_splitter.setSizes([total - want, want])

    def _on_thresholds(self, thresholds: Thresholds) -> None:
        """Show the state's thresholds: spin boxes, chart lines, and what is shown re-judged (no model run)."""
        for head, value in thresholds.items():
            panel = self.panels.get(head)
            if panel is not None and abs(panel.threshold.value() - value) > 1e-9:
                panel.threshold.setValue(value)
            self.chart.set_threshold(head, value)
        if self.current is not None and all(h.name in thresholds for h in self.current[1].heads):
            self._show_inspection(*self.current)  # frozen frames included

    def _on_provider(self, provider: str) -> None:
        if self.provider_box.currentText() != provider and self.provider_box.findText(provider) >= 0:
            self.provider_box.setCurrentText(provider)

    # ---------------------------------------------------------------- sources
    def populate_sources(self, cameras: list[tuple[str, str]]) -> None:
        """Fill the source menu: (id, description) per camera, then the demo feed and files."""
        self.cameras = cameras
        self.source_box.blockSignals(True)
        self.source_box.clear()
        for cam_id, desc in cameras:
            self.source_box.addItem(f"Camera: {desc}", f"camera:{cam_id}")
        self.source_box.addItem("Demo feed (synthetic fabric)", "demo")
        self.source_box.addItem("Video file…", "video")
        self.source_box.addItem("Images…", "images")
        self.source_box.blockSignals(False)

    def _select_source_item(self, key: str) -> None:
        index = self.source_box.findData(key)
        if index < 0 and key.startswith(("video:", "images:")):
            self.source_box.insertItem(self.source_box.count() - 2, label_for_key(key), key)
            index = self.source_box.findData(key)
        self.source_box.blockSignals(True)
        self.source_box.setCurrentIndex(max(index, 0))
        self.source_box.blockSignals(False)

    def _on_source_chosen(self, index: int) -> None:
        key = self.source_box.itemData(index)
        if key in ("video", "images"):
            self.openRequested.emit(key)  # the window's file dialog; it opens what is chosen
            self._select_source_item(self.state.source_key)  # chosen or cancelled: show the source in use
        else:
            self.open_source_key(key)

    def _on_resolution_chosen(self, _index: int) -> None:
        res = self.resolution_box.currentData()
        source = self.state.source
        if res and source is not None and source.capabilities.camera_resolution:
            self.settings.setValue("camera/resolution", f"{res[0]}x{res[1]}")
            self.open_source_key(self.state.source_key)  # reopen the camera at the new size

    def open_source_key(self, key: str) -> bool:
        """Open a source named like the settings store it: demo, camera:ID, video:PATH, images:PATH."""
        text = get_str(self.settings, "camera/resolution", "640x480")
        width, _, height = text.partition("x")
        resolution = (int(width), int(height)) if width.isdigit() and height.isdigit() else None
        try:
            source = open_source(key, loop=self.loop_box.isChecked(), resolution=resolution)
        except SourceError as exc:
            self.show_error(str(exc))
            return False
        self.state.set_source(source, key)
        return True

    def _on_source(self, source: FrameSource | None) -> None:
        """The state's source changed: its controls, a fresh start for the badges, and its frames."""
        self._select_source_item(self.state.source_key)
        self.clear_error()
        self.field_cell = None
        self.feed.set_field(None)
        for panel in self.panels.values():
            panel.reset_hold()  # a new source: its first frame is judged afresh
        self._update_source_controls(source)
        if source is not None:
            source.start(self._deliver, self._source_error.emit)
            self.message.emit(f"source: {source.name}")

    def _deliver(self, frame: np.ndarray) -> None:
        if not self.frozen:
            self.slot.put(frame)

    def source_is_live(self) -> bool:
        return self.state.source is not None and self.state.source.live

    def step_image(self, delta: int) -> None:
        if self.state.source is not None:
            self.state.source.step(delta)

    def _update_source_controls(self, source: FrameSource | None) -> None:
        caps = source.capabilities if source is not None else Capabilities(live=False)
        self.resolution_box.setVisible(caps.camera_resolution)
        self.play_button.setVisible(caps.can_pause)
        self.loop_box.setVisible(caps.loops)
        self.play_button.setChecked(False)
        if caps.camera_resolution and source is not None:
            self.resolution_box.blockSignals(True)
            self.resolution_box.clear()
            for w, h in source.resolutions:
                self.resolution_box.addItem(f"{w}x{h}", (w, h))
            res = source.resolution
            if res is not None:
                self.resolution_box.setCurrentIndex(max(self.resolution_box.findData(res), 0))
                self.settings.setValue("camera/resolution", f"{res[0]}x{res[1]}")
            self.resolution_box.blockSignals(False)

    def _on_play_toggled(self, paused: bool) -> None:
        self.play_button.setText("Play" if paused else "Pause")
        if self.state.source is not None:
            self.state.source.pause(paused)

    def _on_loop_toggled(self, loop: bool) -> None:
        if self.state.source is not None:
            self.state.source.set_loop(loop)

    # ---------------------------------------------------------------- painting
    def _paint_frame(self) -> None:
        if self.frozen:
            return
        item = self.slot.peek()
        if item is None or item.seq == self._painted_seq:
            return
        self._painted_seq = item.seq
        self.feed.set_frame(item.frame)
        if self.field_cell is not None:
            self.show_field(*self.field_cell)

    def _on_result(self, result: LiveResult) -> None:
        try:
            inspector = self.state.inspector
            if self.frozen or inspector is None:
                return
            if tuple(h.spec for h in result.inspection.heads) != tuple(inspector.spec.heads):
                return  # made by a model that has just been replaced (same first head or not)
            if not self.source_is_live():
                self.feed.set_frame(result.frame)
            self._show_inspection(result.frame, result.inspection)
            self.chart.add({h.name: h.prob for h in result.inspection.heads})
            self.results += 1
            latency = (time.perf_counter() - result.arrived) * 1000.0
            self.latencies.append(latency)
            self.last_infer_ms = result.inspection.infer_ms
            if self.latency_log is not None:
                self.latency_log.append((latency, result.inspection.infer_ms))
        finally:
            self.worker.mark_painted()

    def _show_inspection(self, frame: np.ndarray, inspection: Inspection) -> None:
        """Show an inspection judged at the state's thresholds."""
        self.current = (frame, inspection)
        thresholds = self.state.thresholds
        for head in inspection.heads:
            panel = self.panels.get(head.name)
            if panel is not None:
                panel.show_head(head, thresholds[head.name])
        self._paint_overlay()

    def _paint_overlay(self) -> None:
        if self.current is None:
            return
        inspection = self.current[1]
        name = self.overlay_box.currentData()
        names = [h.name for h in inspection.heads]
        cells = inspection.head(name).cells if name in names else None
        shape = inspection.heads[0].cells.shape if inspection.heads else (7, 7)
        self.feed.set_grid(shape, self.grid_box.isChecked())
        self.feed.set_overlay(cells, self.opacity.value() / 100.0)
        max_head = next((h for h in inspection.heads if h.spec.pooling == "max"), None)
        if max_head is None:
            self.feed.set_strongest(None)
            return
        panel = self.panels.get(max_head.name)
        # as the (held) badge says
        failing = panel.verdict_text == "FAIL" if panel is not None else self.state.thresholds.flag(max_head)
        self.feed.set_strongest(max_head.strongest, failing)

    def _on_overlay_changed(self, *_args: object) -> None:
        self.settings.setValue("overlay/head", self.overlay_box.currentData() or "")
        self.settings.setValue("overlay/opacity", self.opacity.value() / 100.0)
        self.settings.setValue("overlay/grid", self.grid_box.isChecked())
        self._paint_overlay()

    def show_field(self, head: str, row: int, col: int) -> None:
        """Draw the region of the frame that map cell (row, col) sees (engine geometry)."""
        inspector = self.state.inspector
        if inspector is None or not self.feed.frame_size[0]:
            return
        self.field_cell = (head, row, col)
        spec = inspector.spec
        shape = self.feed.grid_shape
        region = cell_region(
            row, col, shape, self.feed.frame_size, receptive_field=spec.receptive_field, input_size=spec.input_size
        )
        self.feed.set_field(region, f"cell ({row}, {col}) sees this")
        self.field_hint.setText(
            f"Cell ({row}, {col}) sees a {spec.receptive_field}x{spec.receptive_field} px square of the "
            f"{spec.input_size}x{spec.input_size} model input (dashed); a map cell is {spec.stride} px apart."
        )

    # ---------------------------------------------------------------- freeze / snapshot
    def set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen
        if self.freeze_button.isChecked() != frozen:
            self.freeze_button.setChecked(frozen)
        if frozen and self.current is not None:
            self.feed.set_frame(self.current[0])  # show the frame the heatmaps belong to
        self.message.emit("frozen" if frozen else "live")

    def snapshot(self, folder: Path | None = None) -> Path | None:
        """Save the frame, each head's heatmap over it, and the inspection as JSON into a new folder."""
        if self.current is None:
            self.show_error("nothing to save yet: no inspected frame", kind="snapshot")
            return None
        frame, inspection = self.current
        root = Path(folder or get_str(self.settings, "snapshot_dir", str(Path.home() / "FabricScope snapshots")))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
        out = root / f"snapshot-{stamp}"
        try:
            out.mkdir(parents=True, exist_ok=False)
            save_image(frame, out / "frame.png")
            for head in inspection.heads:
                save_image(blend(frame, head.cells), out / f"heatmap-{head.name}.png")
            data = inspection.to_dict(self.state.thresholds)
            source, inspector = self.state.source, self.state.inspector
            data["source"] = source.name if source is not None else ""
            data["model"] = str(inspector.path) if inspector is not None else ""
            (out / "inspection.json").write_text(json.dumps(data, indent=2))
        except OSError as exc:
            self.show_error(f"snapshot not saved: {exc.strerror or exc} ({out})", kind="snapshot")
            return None
        self.message.emit(f"snapshot saved to {out}")
        return out

    # ---------------------------------------------------------------- status
    def show_error(self, text: str, kind: str = "source") -> None:
        """Say ``text`` in the window's banner; ``kind`` (source, model) decides what clears it."""
        self.last_error = text
        self._error_kind = kind
        self.banner.setText(text)
        self.banner.setVisible(True)
        self.message.emit(text)

    def clear_error(self, kind: str = "source") -> None:
        if getattr(self, "_error_kind", kind) == kind:
            self.last_error = ""
            self.banner.setVisible(False)

    def stats(self) -> dict[str, float]:
        """Displayed fps (frames painted per second), latency (median, p95), model ms, drops."""
        now = time.perf_counter()
        t0, n0 = self._fps_mark
        if now - t0 >= 0.5:
            self._fps = (self.feed.frames_painted - n0) / (now - t0)
            self._fps_mark = (now, self.feed.frames_painted)
        lat = sorted(self.latencies)
        return {
            "fps": self._fps,
            "latency_median": statistics.median(lat) if lat else float("nan"),
            "latency_p95": lat[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
            "infer_ms": getattr(self, "last_infer_ms", float("nan")),
            "dropped": float(self.slot.dropped),
        }

    def shutdown(self) -> None:
        self.paint_timer.stop()
        self.worker.stop()
