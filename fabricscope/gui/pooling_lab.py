"""The pooling lab: one head's map pooled both ways, side by side.

A single hole lights one cell: max pooling keeps it, average pooling dilutes it
by 49. Wrinkles light many cells: the average says "wrinkled" while a lone
crease or one odd cell does not tip it. The numbers come from the engine
(:meth:`HeadResult.prob_if_pooled`); this widget only shows them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from fabricscope.gui.steady import steady_label
from fabricscope.inspector import HeadResult

POOLINGS = (("max", "max pooling"), ("avg", "average pooling"))


class PoolingLab(QWidget):
    def __init__(self, own_pooling: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.own_pooling = own_pooling
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.bars: dict[str, QProgressBar] = {}
        self.values: dict[str, QLabel] = {}
        for row, (key, words) in enumerate(POOLINGS):
            label = QLabel(f"{words}{'  (this head)' if key == own_pooling else ''}")
            if key == own_pooling:
                label.setStyleSheet("font-weight: bold")
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            value = steady_label("–", min_chars=5)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(44)
            grid.addWidget(label, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(value, row, 2)
            self.bars[key], self.values[key] = bar, value
        grid.setColumnStretch(1, 1)
        self.setToolTip(
            "The same 7x7 map pooled both ways. Max pooling: one strong cell is enough (a single hole). "
            "Average pooling: the whole surface counts (wrinkles), one odd cell does not."
        )

    def show_head(self, head: HeadResult) -> dict[str, float]:
        probs = {key: head.prob_if_pooled(key) for key, _ in POOLINGS}
        for key, p in probs.items():
            self.bars[key].setValue(round(p * 1000))
            self.values[key].setText(f"{p:.2f}")
        return probs
