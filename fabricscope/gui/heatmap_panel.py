"""One head's panel: its live 7x7 map on a fixed 0..1 scale, verdict, threshold, pooling lab.

The map is a pyqtgraph ImageItem fed the engine's cell scores
(:attr:`HeadResult.cells`) with fixed levels and the lookup table set once.
Hovering a cell shows its value; clicking one emits :attr:`HeadPanel.cellClicked`
(the main view then draws the region of the frame that cell sees).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fabricscope.contract import HeadSpec
from fabricscope.gui.colors import FAIL_COLOUR, LUT, PASS_COLOUR, color_map
from fabricscope.gui.pooling_lab import PoolingLab
from fabricscope.gui.steady import steady_label
from fabricscope.inspector import HeadResult


class HeadPanel(QFrame):
    cellClicked = Signal(str, int, int)  # head name, row, col
    thresholdChanged = Signal(str, float)

    def __init__(self, spec: HeadSpec, threshold: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.head: HeadResult | None = None
        self.verdict_text = ""
        self.setObjectName("headPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title = QLabel(spec.display_title)
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        self.verdict = QLabel("–")
        self.verdict.setObjectName("verdict")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setMinimumWidth(86)
        head_row = QHBoxLayout()
        head_row.addWidget(self.title, 1)
        head_row.addWidget(self.verdict)
        layout.addLayout(head_row)
        self.pooled = steady_label("–", min_chars=24)
        self.pooled.setObjectName("pooled")
        layout.addWidget(self.pooled)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(220, 200)
        self.graphics.setAcceptDrops(False)
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(LUT)
        self.image.setLevels((0.0, 1.0))
        self._cells = np.zeros((7, 7), np.float32)
        self.image.setImage(self._cells, autoLevels=False, levels=(0.0, 1.0))
        self.view.addItem(self.image)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 255, 70), width=1), connect="pairs")
        self.view.addItem(self.grid)
        self.marker = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.marker.setPen(pg.mkPen("w", width=2, cosmetic=True))
        self.marker.setVisible(False)
        self.view.addItem(self.marker)
        # horizontal, under the map: the panels are narrower than tall, so the map gets the full width
        self.bar = pg.ColorBarItem(
            values=(0, 1), colorMap=color_map(), interactive=False, width=10, orientation="horizontal"
        )
        self.bar.setImageItem(self.image)
        self.graphics.nextRow()
        self.graphics.addItem(self.bar)
        self._set_grid(7, 7)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        layout.addWidget(self.graphics, 1)

        self.hover = steady_label("Hover a cell for its value; click it to see what it sees.", min_chars=24)
        self.hover.setObjectName("hint")
        layout.addWidget(self.hover)

        trow = QHBoxLayout()
        trow.addWidget(QLabel(f"FAIL at P({spec.labels[1]}) ≥"))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(threshold)
        self.threshold.valueChanged.connect(lambda v: self.thresholdChanged.emit(self.spec.name, float(v)))
        trow.addWidget(self.threshold)
        trow.addStretch(1)
        layout.addLayout(trow)

        lab_title = QLabel("Pooling lab: this map pooled both ways")
        lab_title.setObjectName("labTitle")
        layout.addWidget(lab_title)
        self.lab = PoolingLab(spec.pooling)
        layout.addWidget(self.lab)

    def _set_grid(self, h: int, w: int) -> None:
        xs, ys = [], []
        for c in range(1, w):
            xs += [c, c]
            ys += [0, h]
        for r in range(1, h):
            xs += [0, w]
            ys += [r, r]
        self.grid.setData(np.array(xs, float), np.array(ys, float))
        self.view.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)

    def show_head(self, head: HeadResult) -> None:
        self.head = head
        cells = head.cells
        if cells.shape != self._cells.shape:
            self._set_grid(*cells.shape)
        self._cells = cells
        self.image.setImage(cells, autoLevels=False, levels=(0.0, 1.0))
        r, c = head.strongest
        self.marker.setRect(c, r, 1, 1)
        self.marker.setVisible(self.spec.pooling == "max")
        pooling = "max" if self.spec.pooling == "max" else "average"
        self.pooled.setText(f"P({self.spec.labels[1]}) = {head.prob:.2f}  ({pooling} of the map)")
        fail = head.flag
        verdict = "FAIL" if fail else "PASS"
        if verdict != self.verdict_text:  # restyling re-polishes the widget: only when the verdict changes
            self.verdict_text = verdict
            self.verdict.setText(f"{verdict}\n{self.spec.labels[1] if fail else self.spec.labels[0]}")
            colour = FAIL_COLOUR if fail else PASS_COLOUR
            self.verdict.setStyleSheet(
                f"background: {colour}; color: white; font-weight: bold; font-size: 15px; "
                "border-radius: 5px; padding: 3px;"
            )
        self.lab.show_head(head)

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view.mapSceneToView(scene_pos)
        h, w = self._cells.shape
        r, c = int(np.floor(p.y())), int(np.floor(p.x()))
        return (r, c) if 0 <= r < h and 0 <= c < w else None

    def _on_mouse_moved(self, pos: QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is not None:
            r, c = cell
            self.hover.setText(f"cell (row {r}, col {c}): P({self.spec.labels[1]}) = {self._cells[r, c]:.3f}")

    def _on_mouse_clicked(self, event: object) -> None:
        cell = self.cell_at(event.scenePos())  # type: ignore[attr-defined]
        if cell is not None:
            self.cellClicked.emit(self.spec.name, *cell)
