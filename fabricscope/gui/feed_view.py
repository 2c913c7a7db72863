"""The frame, with an optional heatmap overlay, the cell grid, the strongest cell and a receptive field.

Follows pyqtgraph's VideoSpeedTest: row-major images, fixed levels, no auto
levels, the overlay's lookup table set once. The overlay is the head's cell
scores upsampled smoothly (bilinear, cell centres on tile centres) to a quarter
of the frame size, then stretched over the frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem

from fabricscope.engine.heatmap_render import upsample
from fabricscope.engine.pooling import Region
from fabricscope.gui.colors import OVERLAY_LUT


class FeedView(pg.GraphicsLayoutWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(480, 360)
        self.setAcceptDrops(False)  # files dropped on the frame go to the main window
        self.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.frame_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.frame_item)
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setLookupTable(OVERLAY_LUT)
        self.overlay.setOpacity(0.8)
        self.overlay.setVisible(False)
        self.view.addItem(self.overlay)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 255, 90), width=1), connect="pairs")
        self.view.addItem(self.grid)
        self.strongest = QGraphicsRectItem()
        self._flag_pen = pg.mkPen((255, 60, 60), width=3, cosmetic=True)
        self._calm_pen = pg.mkPen((255, 255, 255, 110), width=1, style=Qt.PenStyle.DashLine, cosmetic=True)
        self.strongest.setPen(self._flag_pen)
        self.strongest.setVisible(False)
        self.view.addItem(self.strongest)
        self.field = QGraphicsRectItem()
        self.field.setPen(pg.mkPen((80, 220, 255), width=2, style=Qt.PenStyle.DashLine, cosmetic=True))
        self.field.setVisible(False)
        self.view.addItem(self.field)
        self.field_label = pg.TextItem(color=(80, 220, 255), fill=(20, 20, 24, 190), anchor=(0, 0))
        self.field_label.setVisible(False)
        self.view.addItem(self.field_label)
        self.frame_size: tuple[int, int] = (0, 0)  # (width, height)
        self.grid_shape: tuple[int, int] = (7, 7)
        self.show_grid = True
        self.frames_painted = 0

    def set_frame(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self.frame_item.setImage(frame, autoLevels=False, levels=(0, 255))
        if (w, h) != self.frame_size:
            self.frame_size = (w, h)
            self.view.setRange(QRectF(0, 0, w, h), padding=0)
            self._layout_grid()
            self.field.setVisible(False)
            self.field_label.setVisible(False)
        self.frames_painted += 1

    def set_overlay(self, cells: np.ndarray | None, opacity: float) -> None:
        w, h = self.frame_size
        if cells is None or not w:
            self.overlay.setVisible(False)
            return
        up = upsample(cells, max(8, h // 4), max(8, w // 4))
        self.overlay.setImage(up, autoLevels=False, levels=(0.0, 1.0))
        self.overlay.setRect(QRectF(0, 0, w, h))
        self.overlay.setOpacity(opacity)
        self.overlay.setVisible(True)

    def set_grid(self, shape: tuple[int, int], visible: bool) -> None:
        self.show_grid = visible
        if shape != self.grid_shape:
            self.grid_shape = shape
            self._layout_grid()
        self.grid.setVisible(visible)

    def _layout_grid(self) -> None:
        w, h = self.frame_size
        rows, cols = self.grid_shape
        xs, ys = [], []
        for c in range(1, cols):
            xs += [c * w / cols] * 2
            ys += [0, h]
        for r in range(1, rows):
            xs += [0, w]
            ys += [r * h / rows] * 2
        self.grid.setData(np.array(xs, float), np.array(ys, float))

    def set_strongest(self, cell: tuple[int, int] | None, flagged: bool = True) -> None:
        """Outline a map cell on the frame: solid red when its head flags a defect, dim dashed when not."""
        w, h = self.frame_size
        if cell is None or not w:
            self.strongest.setVisible(False)
            return
        self.strongest.setPen(self._flag_pen if flagged else self._calm_pen)
        rows, cols = self.grid_shape
        r, c = cell
        self.strongest.setRect(c * w / cols, r * h / rows, w / cols, h / rows)
        self.strongest.setVisible(True)

    def set_field(self, region: Region | None, text: str = "") -> None:
        if region is None:
            self.field.setVisible(False)
            self.field_label.setVisible(False)
            return
        self.field.setRect(region.left, region.top, region.width, region.height)
        self.field.setVisible(True)
        self.field_label.setText(text)
        self.field_label.setPos(region.left + 4, region.top + 4)
        self.field_label.setVisible(bool(text))
