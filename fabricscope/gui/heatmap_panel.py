"""One head's panel: its live 7x7 map on a fixed 0..1 scale, verdict, threshold, pooling lab.

The map is a pyqtgraph ImageItem fed the engine's cell scores
(:attr:`HeadResult.cells`) with fixed levels and the lookup table set once.
What is drawn is what the headline states: a max-pooled head's P is the
maximum of its drawn map, an average-pooled head's P is sigmoid of the mean of
its cells' margins (see :mod:`fabricscope.engine.pooling`). Hovering a cell shows its
value (and, for an average head, its margin); clicking one emits
:attr:`HeadPanel.cellClicked` (the main view then draws the region of the
frame that cell sees).

On the live view the badge has a small hysteresis (``hold``): it turns FAIL at
``P >= threshold`` and back to PASS only once ``P < threshold - hold``, so it
does not flicker while P hovers at the threshold. Batch verdicts, reports and
the CLI never use it: they are always ``P >= threshold``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from fabricscope.engine.contract import HeadSpec
from fabricscope.engine.inspector import HeadResult
from fabricscope.gui.colors import FAIL_COLOUR, LUT, PASS_COLOUR, color_map
from fabricscope.gui.pooling_lab import PoolingLab
from fabricscope.gui.steady import steady_label

#: The live badge's hysteresis: once FAIL, it stays FAIL until P drops below threshold - LIVE_HOLD.
LIVE_HOLD = 0.02
PANEL_WIDTH = 340  # what each panel asks for; all ask the same
TITLE_LINES = 2  # every panel's title takes two lines, wrapped or not, so the maps line up


def hold_note(hold: float) -> str:
    """The badge tooltip's words for a hysteresis of ``hold``."""
    if hold <= 0:
        return "FAIL when P ≥ threshold."
    return (
        f"Live badge: turns FAIL at P ≥ threshold and back to PASS only when P < threshold − {hold:.2f}, "
        "so it does not flicker while P hovers at the threshold (shown as 'held'). "
        "Batch verdicts, reports and the CLI use P ≥ threshold exactly."
    )


HOVER_HINT = "Hover a cell for its value; click it to see the part of the image it sees."


class HeadPanel(QFrame):
    cellClicked = Signal(str, int, int)  # head name, row, col
    thresholdChanged = Signal(str, float)

    def __init__(self, spec: HeadSpec, threshold: float, parent: QWidget | None = None, *, hold: float = 0.0) -> None:
        super().__init__(parent)
        self.spec = spec
        self.head: HeadResult | None = None
        self.verdict_text = ""
        self.hold = hold
        self.held = False  # the badge says FAIL only because of the hysteresis
        self._failing = False
        self._judged_at: float | None = None  # the threshold the badge state belongs to
        self.hover_cell: tuple[int, int] | None = None
        self.setObjectName("headPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Every panel asks for the same width (sizeHint), whatever its title's and lab's natural widths:
        # side by side with equal stretch they get equal shares, so their maps come out the same size.
        self.setMinimumWidth(240)
        layout = QVBoxLayout(self)
        self.title = QLabel(spec.display_title)
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        title_font = QFont(self.title.font())
        title_font.setPixelSize(15)  # as the style sheet's QLabel#panelTitle
        title_font.setBold(True)
        self.title.setFixedHeight(QFontMetrics(title_font).lineSpacing() * TITLE_LINES + 4)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.verdict = QLabel("–")
        self.verdict.setObjectName("verdict")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setMinimumWidth(86)
        self.verdict.setToolTip(hold_note(hold))
        head_row = QHBoxLayout()
        head_row.addWidget(self.title, 1)
        head_row.addWidget(self.verdict)
        layout.addLayout(head_row)
        self.pooled = steady_label("–", min_chars=24, lines=2)
        self.pooled.setObjectName("pooled")
        self.pooled.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.pooled.setToolTip(self._pooled_tip())
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

        self.hover = steady_label(HOVER_HINT, min_chars=24, lines=2)
        self.hover.setObjectName("hint")
        self.hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.hover)

        trow = QHBoxLayout()
        trow.addWidget(QLabel(f"FAIL at P({spec.labels[1]}) ≥"))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(threshold)
        self.threshold.setToolTip(hold_note(hold))
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

    def sizeHint(self) -> QSize:
        return QSize(PANEL_WIDTH, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(240, super().minimumSizeHint().height())

    def _pooled_tip(self) -> str:
        word = self.spec.labels[1]
        if self.spec.pooling == "max":
            return (
                f"Max pooling: the model takes the largest 'defect' score and the largest 'fine' score over "
                f"the map, then P({word}) = σ(max defect − max fine). Each cell is drawn as "
                "σ(its defect score − the map's max fine score), so the brightest cell is P and the "
                "outlined cell is the one that sets it."
            )
        return (
            f"Average pooling: P({word}) = σ(mean defect − mean fine) = σ(mean of the cells' margins), "
            "a cell's margin being its defect score minus its fine score. Each cell is drawn as σ(its margin): "
            "P is not the mean of the drawn values but σ of the mean of their margins (hover a cell for it)."
        )

    def _judge(self, head: HeadResult, threshold: float) -> bool:
        """The badge's verdict: ``P >= threshold``, held at FAIL until P < threshold - hold (live view only)."""
        flag = head.prob >= threshold
        if self.hold <= 0 or self._judged_at != threshold or not self._failing:
            fail = flag  # no hysteresis, a new threshold, or not failing yet: judge afresh
        else:
            fail = head.prob >= threshold - self.hold
        self._judged_at = threshold
        self._failing = fail
        self.held = fail and not flag
        return fail

    def reset_hold(self) -> None:
        """Forget the badge's history (a new source or model): the next result is judged afresh."""
        self._judged_at = None
        self._failing = False
        self.held = False

    def show_head(self, head: HeadResult, threshold: float) -> None:
        """Show a head's map and its verdict at ``threshold``."""
        self.head = head
        cells = head.cells
        if cells.shape != self._cells.shape:
            self._set_grid(*cells.shape)
            self.hover_cell = None
        self._cells = cells
        self.image.setImage(cells, autoLevels=False, levels=(0.0, 1.0))
        if not self.image.isVisible():
            self.image.setVisible(True)
        r, c = head.strongest
        self.marker.setRect(c, r, 1, 1)
        self.marker.setVisible(self.spec.pooling == "max")
        self.pooled.setText(head.headline)
        fail = self._judge(head, threshold)
        verdict = "FAIL" if fail else "PASS"
        label = self.spec.labels[1] if fail else self.spec.labels[0]
        text = f"{verdict}\n{label} · held" if self.held else f"{verdict}\n{label}"
        if self.verdict.text() != text:
            self.verdict.setText(text)
        if verdict != self.verdict_text:  # restyling re-polishes the widget: only when the verdict changes
            self.verdict_text = verdict
            colour = FAIL_COLOUR if fail else PASS_COLOUR
            self.verdict.setStyleSheet(
                f"background: {colour}; color: white; font-weight: bold; font-size: 15px; "
                "border-radius: 5px; padding: 3px;"
            )
        if self.hover_cell is not None:
            self.hover.setText(self.hover_text(*self.hover_cell))
        self.lab.show_head(head)

    def clear(self) -> None:
        """Show nothing: no map, no probability, no verdict (e.g. a file that could not be inspected)."""
        self.head = None
        self.hover_cell = None
        self.reset_hold()
        self._cells = np.zeros_like(self._cells)
        self.image.setImage(self._cells, autoLevels=False, levels=(0.0, 1.0))
        self.image.setVisible(False)  # an empty grid, not a map of zeros
        self.marker.setVisible(False)
        self.pooled.setText(f"P({self.spec.labels[1]}) = –")
        self.hover.setText(HOVER_HINT)
        self.verdict_text = ""
        self.verdict.setText("–")
        self.verdict.setStyleSheet("")
        self.lab.clear()

    def hover_text(self, r: int, c: int) -> str:
        """What the hover line says about cell (r, c): its drawn value, and how it makes P."""
        head = self.head
        if head is None:
            return HOVER_HINT
        value = float(self._cells[r, c])
        if self.spec.pooling == "max":
            if (r, c) == head.strongest:
                return f"cell ({r}, {c}): σ(defect − max fine) = {value:.3f}, the map's max: P"
            return f"cell ({r}, {c}): σ(defect − max fine) = {value:.3f}; the map's max is P = {head.prob:.3f}"
        margin = float(head.cell_logits[r, c])
        mean = float(head.cell_logits.mean())
        return f"cell ({r}, {c}): margin {margin:+.2f}, σ = {value:.3f}; mean margin {mean:+.2f} → P = {head.prob:.3f}"

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view.mapSceneToView(scene_pos)
        h, w = self._cells.shape
        r, c = int(np.floor(p.y())), int(np.floor(p.x()))
        return (r, c) if 0 <= r < h and 0 <= c < w else None

    def _on_mouse_moved(self, pos: QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is not None and self.head is not None:
            self.hover_cell = cell
            self.hover.setText(self.hover_text(*cell))

    def _on_mouse_clicked(self, event: object) -> None:
        cell = self.cell_at(event.scenePos())  # type: ignore[attr-defined]
        if cell is not None:
            self.cellClicked.emit(self.spec.name, *cell)
