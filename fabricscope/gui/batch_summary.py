"""The batch summary: counts per verdict and, per head, a histogram of P(defect) with its threshold.

Each head's threshold is a spin box and a line on its histogram (drag it or
type a value); either emits :attr:`BatchSummary.thresholds_changed`, the tab
hands it to the app state, and the table is re-judged from the stored
probabilities, without a model run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..engine.contract import HeadSpec
from ..engine.results import BatchResults
from ..engine.thresholds import Thresholds
from .steady import steady_label

BINS = 20
_EDGES = np.linspace(0.0, 1.0, BINS + 1)
_FINE_BRUSH = pg.mkBrush(70, 150, 95)
_FLAG_BRUSH = pg.mkBrush(210, 70, 60)


def axis_top(count: int) -> int:
    """The smallest of 5, 10, 20, 50, 100, 200, ... that is at least ``count``."""
    top = 5
    while top < count:
        top = top * 2 if str(top)[0] in "15" else top * 5 // 2
    return top


def histogram(probs: np.ndarray) -> np.ndarray:
    """Counts of ``probs`` (NaN ignored) in :data:`BINS` equal bins over 0..1."""
    values = probs[~np.isnan(probs)]
    return np.histogram(np.clip(values, 0.0, 1.0), bins=_EDGES)[0]


class HeadHistogram(QWidget):
    """One head: title, threshold spin box, and the histogram with a draggable threshold line."""

    threshold_changed = Signal(str, float)

    def __init__(self, head: HeadSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.head = head
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.0, 1.0)
        self.spin.setSingleStep(0.05)
        self.spin.setDecimals(2)
        self.spin.setValue(head.threshold)
        self.spin.setKeyboardTracking(False)  # typing "0.35" judges once, not at "0.3" then "0.35"
        self.spin.setToolTip(f"{head.name}: flag an image when P({head.labels[1]}) is at least this")
        self.count_label = steady_label(min_chars=10)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel(f"<b>{head.title or head.name.capitalize()}</b> ({head.pooling} pooling)"))
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addWidget(QLabel("threshold"))
        top.addWidget(self.spin)

        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(110)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setXRange(0.0, 1.0, padding=0.02)
        self.plot.setLabel("bottom", f"P({head.labels[1]})")
        self.plot.setLabel("left", "images")
        # The count axis grows in 1-2-5 steps, not with every new row: re-ranging re-lays out the
        # axis and its tick text, which cost the GUI thread tens of ms per redraw while rows stream in.
        self.plot.enableAutoRange(y=False)
        self._top = axis_top(0)
        self.plot.setYRange(0, self._top, padding=0.02)
        # and between those steps the axes paint from a cached pixmap (as in the strip chart): the
        # stalls still caught while rows stream in were pyqtgraph laying out these axes' tick text
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.bars = pg.BarGraphItem(x0=_EDGES[:-1], x1=_EDGES[1:], height=np.zeros(BINS), brushes=self._brushes())
        self.plot.addItem(self.bars)
        self.line = pg.InfiniteLine(pos=head.threshold, angle=90, movable=True, pen=pg.mkPen(230, 230, 230, width=2))
        self.line.setBounds((0.0, 1.0))
        self.line.setToolTip("drag to change the threshold")
        self.plot.addItem(self.line)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot)

        self.spin.valueChanged.connect(self._from_spin)
        self.line.sigPositionChangeFinished.connect(self._from_line)

    @property
    def threshold(self) -> float:
        return float(self.spin.value())

    def _brushes(self, threshold: float | None = None) -> list[object]:
        t = self.head.threshold if threshold is None else threshold
        centres = (_EDGES[:-1] + _EDGES[1:]) / 2
        return [_FLAG_BRUSH if c >= t else _FINE_BRUSH for c in centres]

    def set_threshold(self, value: float) -> None:
        """Show a threshold set elsewhere (no signal)."""
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.line.blockSignals(True)
        self.line.setValue(value)
        self.line.blockSignals(False)
        self.bars.setOpts(brushes=self._brushes(value))

    def _from_spin(self, value: float) -> None:
        self.line.blockSignals(True)
        self.line.setValue(value)
        self.line.blockSignals(False)
        self.bars.setOpts(brushes=self._brushes(value))
        self.threshold_changed.emit(self.head.name, float(value))

    def _from_line(self) -> None:
        self.spin.setValue(round(float(self.line.value()), 2))  # emits through _from_spin

    def update_counts(self, probs: np.ndarray, flagged: int) -> None:
        counts = histogram(probs)
        top = axis_top(int(counts.max()) if len(counts) else 0)
        if top != self._top:
            self._top = top
            self.plot.setYRange(0, top, padding=0.02)
        self.bars.setOpts(height=counts.astype(float))
        self.count_label.setText(f"{flagged} flagged")


class BatchSummary(QWidget):
    """Counts per verdict and one histogram per head."""

    thresholds_changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts_label = steady_label("No batch yet: choose a folder, or drop one here.", min_chars=30, lines=2)
        self.counts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.counts_label)
        layout.addLayout(self._grid, 1)
        self.histograms: list[HeadHistogram] = []

    def set_heads(self, heads: Sequence[HeadSpec], thresholds: Mapping[str, float]) -> None:
        if [h.head for h in self.histograms] == list(heads):
            for h in self.histograms:
                h.set_threshold(thresholds.get(h.head.name, h.threshold))
            return
        for h in self.histograms:
            self._grid.removeWidget(h)
            h.deleteLater()
        self.histograms = []
        for k, head in enumerate(heads):
            h = HeadHistogram(head)
            h.set_threshold(thresholds.get(head.name, head.threshold))
            h.threshold_changed.connect(self._emit_thresholds)
            self._grid.addWidget(h, k // 2, k % 2)  # two per row: a user model may have many heads
            self.histograms.append(h)

    def thresholds(self) -> dict[str, float]:
        return {h.head.name: h.threshold for h in self.histograms}

    def set_thresholds(self, thresholds: Mapping[str, float]) -> None:
        for h in self.histograms:
            if h.head.name in thresholds:
                h.set_threshold(float(thresholds[h.head.name]))

    def _emit_thresholds(self, _name: str, _value: float) -> None:
        self.thresholds_changed.emit(self.thresholds())

    def update_from(self, results: BatchResults, thresholds: Thresholds, total: int | None = None) -> None:
        """Redraw counts and histograms from the table's rows at ``thresholds`` (cheap: numpy over the prob array)."""
        c = results.counts(thresholds)
        scored = c["files"]
        of = f" of {total}" if total is not None and total != scored else ""
        self.counts_label.setText(
            f"<b>{scored}</b>{of} files: "
            f"<span style='color:#d04a3c'><b>{c['flagged']}</b> flagged</span>, "
            f"<span style='color:#3f9a5a'><b>{c['clean']}</b> clean</span>, "
            f"<span style='color:#b08a00'><b>{c['errors']}</b> errors</span>"
        )
        probs = results.probs
        for k, h in enumerate(self.histograms):
            h.update_counts(probs[:, k] if len(probs) else np.zeros(0), c["per_head"].get(h.head.name, 0))
