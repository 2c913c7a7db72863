"""The selected batch row, shown with the live view's own widgets.

The image goes into a :class:`FeedView` with one head's heatmap overlay, the
cell grid and that head's strongest cell; below it one :class:`HeadPanel` per
head (7x7 map, verdict, threshold, pooling lab). Clicking a panel cell draws
the region of the image that cell sees, as in the live view. Nothing here
re-runs the model: the row's stored Inspection is shown at the tab's thresholds.
A file that could not be inspected clears everything (image, maps, verdicts)
and says why in full, word-wrapped, where the image would be.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from ..engine.contract import ModelSpec
from ..engine.inspector import HeadResult, Inspection
from ..engine.pooling import cell_region
from ..engine.thresholds import Thresholds
from .feed_view import FeedView
from .heatmap_panel import HeadPanel
from .steady import steady_label

OVERLAY_OPACITY = 0.45
DECIDING_TIP = (
    "Deciding head: the map of the head that fails the image. When several fail, a max-pooled head "
    "(holes) is shown first: a hole is one small place, easy to miss in the photo and hidden under another "
    "head's overlay, while wrinkles spread over the surface and show in the photo itself. Choose a head "
    "to see its map. A row that passes shows the head with the highest P."
)


def deciding_head(heads: tuple[HeadResult, ...], thresholds: Thresholds) -> HeadResult | None:
    """The head whose overlay explains the verdict: failing max-pooled heads, then other failing heads, by P."""
    if not heads:
        return None
    return max(heads, key=lambda h: (thresholds.flag(h), thresholds.flag(h) and h.spec.pooling == "max", h.prob))


class BatchDetail(QWidget):
    """Image + overlay + per-head panels for one scored file, judged at the thresholds handed in."""

    thresholdChanged = Signal(str, float)  # a panel's spin box: head, value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec: ModelSpec | None = None
        self.inspection: Inspection | None = None
        self.judge = Thresholds()  # the thresholds shown (the app state's, from the tab)
        self.title = steady_label("Select a row to see its heatmaps.", min_chars=30, lines=2)
        self.overlay_box = QComboBox()
        self.overlay_box.setToolTip("Which head's heatmap is laid over the image. " + DECIDING_TIP)
        self.overlay_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.feed = FeedView()
        self.feed.setMinimumSize(360, 300)
        self.message = QLabel()
        self.message.setObjectName("detailMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setContentsMargins(16, 16, 16, 16)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.feed)
        self.stack.addWidget(self.message)
        self.panels: list[HeadPanel] = []
        self._panel_row = QHBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(QLabel("Overlay"))
        head.addWidget(self.overlay_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.stack, 3)
        layout.addLayout(self._panel_row, 2)
        self.overlay_box.currentIndexChanged.connect(self._draw_overlay)

    def set_model(self, spec: ModelSpec, thresholds: Thresholds) -> None:
        """One panel per head the model declares."""
        if self.spec is not None and self.spec.heads == spec.heads:
            self.set_thresholds(thresholds)
            return
        self.spec = spec
        for p in self.panels:
            self._panel_row.removeWidget(p)
            p.deleteLater()
        self.panels = []
        self.overlay_box.blockSignals(True)
        self.overlay_box.clear()
        self.overlay_box.addItem("Deciding head", "")
        self.overlay_box.setItemData(0, DECIDING_TIP, Qt.ItemDataRole.ToolTipRole)
        for h in spec.heads:
            panel = HeadPanel(h, thresholds.get(h.name, h.threshold))
            panel.thresholdChanged.connect(self.thresholdChanged)
            panel.cellClicked.connect(self._cell_clicked)
            self._panel_row.addWidget(panel, 1)
            self.panels.append(panel)
            self.overlay_box.addItem(h.title or h.name.capitalize(), h.name)
        self.overlay_box.addItem("None", "-")
        self.overlay_box.blockSignals(False)
        self.judge = thresholds

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Show these thresholds: the spin boxes, and the row shown re-judged."""
        self.judge = thresholds
        for p in self.panels:
            if p.spec.name in thresholds:
                p.threshold.blockSignals(True)
                p.threshold.setValue(float(thresholds[p.spec.name]))
                p.threshold.blockSignals(False)
        if self.inspection is not None:
            self._show_heads()

    def clear(self, text: str, message: str = "") -> None:
        """Show no image, maps or verdicts; ``message`` (if any) in full where the image would be."""
        self.inspection = None
        self.title.setText(text)
        self.feed.set_frame(np.zeros((8, 8, 3), np.uint8))
        self.feed.set_overlay(None, OVERLAY_OPACITY)
        self.feed.set_strongest(None)
        self.feed.set_field(None)
        for panel in self.panels:
            panel.clear()
        self.message.setText(message)
        self.stack.setCurrentWidget(self.message if message else self.feed)

    def show_result(self, rgb: np.ndarray, inspection: Inspection) -> None:
        """Show a decoded image with its inspection, judged at :attr:`judge`."""
        self.inspection = inspection
        self.stack.setCurrentWidget(self.feed)
        self.feed.set_frame(rgb)
        self.feed.set_field(None)
        self._show_heads()

    def _show_heads(self) -> None:
        assert self.inspection is not None
        for panel, head in zip(self.panels, self.inspection.heads, strict=False):
            panel.show_head(head, self.judge.get(head.name, head.spec.threshold))
        self._draw_overlay()

    def overlay_head(self) -> str | None:
        """The head whose map is laid over the image: chosen, or the deciding head (:func:`deciding_head`)."""
        if self.inspection is None:
            return None
        choice = self.overlay_box.currentData()
        if choice == "-":
            return None
        if choice:
            return str(choice)
        head = deciding_head(self.inspection.heads, self.judge)
        return head.name if head is not None else None

    def _draw_overlay(self) -> None:
        name = self.overlay_head()
        if self.inspection is None or name is None:
            self.feed.set_overlay(None, OVERLAY_OPACITY)
            self.feed.set_strongest(None)
            return
        head = self.inspection.head(name)
        self.feed.set_grid(head.cells.shape, self.feed.show_grid)
        self.feed.set_overlay(head.cells, OVERLAY_OPACITY)
        # One cell explains a max-pooled head's FAIL (it sets P); an average-pooled head has no such cell.
        failing = self.judge.flag(head)
        self.feed.set_strongest(head.strongest if failing and head.spec.pooling == "max" else None)

    def _cell_clicked(self, name: str, row: int, col: int) -> None:
        if self.inspection is None or self.spec is None or not self.feed.frame_size[0]:
            return
        head = self.inspection.head(name)
        region = cell_region(
            row,
            col,
            head.cells.shape,
            self.feed.frame_size,
            receptive_field=self.spec.receptive_field,
            input_size=self.spec.input_size,
        )
        self.feed.set_field(region, f"{name} cell ({row}, {col}): {head.cells[row, col]:.2f}")
