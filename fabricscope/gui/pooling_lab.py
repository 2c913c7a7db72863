"""The pooling lab: one head's map pooled both ways, side by side, with the computation shown.

The model pools each channel of the map on its own (the 'fine' scores and the
'defect' scores), then P(defect) = σ(pooled defect − pooled fine), the
two-class softmax. The lab shows both pooled scores for max and for average
pooling of the same map: a single hole lights one cell, which max pooling
keeps and average pooling dilutes by 49; wrinkles light many cells, which the
average counts while a lone crease or one odd cell does not tip it. The
numbers come from the engine (:meth:`HeadResult.pooled`,
:meth:`HeadResult.prob_if_pooled`); this widget only shows them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from fabricscope.engine.inspector import HeadResult
from fabricscope.gui.steady import steady_label

POOLINGS = (("max", "max"), ("avg", "average"))
WORDS = {"max": "max", "avg": "mean"}


def formula(pooling: str, fine: float, defect: float) -> str:
    """E.g. 'σ(max defect 2.31 − max fine −0.12)': P from the two pooled scores."""
    w = WORDS[pooling]
    return f"σ({w} defect {defect:.2f} − {w} fine {fine:.2f})".replace("-", "−")


class PoolingLab(QWidget):
    def __init__(self, own_pooling: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.own_pooling = own_pooling
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(1)
        self.bars: dict[str, QProgressBar] = {}
        self.values: dict[str, QLabel] = {}
        self.formulas: dict[str, QLabel] = {}
        for k, (key, words) in enumerate(POOLINGS):
            row = 2 * k
            label = QLabel(f"{words}{' (this head)' if key == own_pooling else ''}")
            if key == own_pooling:
                label.setStyleSheet("font-weight: bold")
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            value = steady_label("–", min_chars=5)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(44)
            how = steady_label("", min_chars=20)
            how.setObjectName("hint")
            how.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            grid.addWidget(label, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(value, row, 2)
            grid.addWidget(how, row + 1, 0, 1, 3)
            self.bars[key], self.values[key], self.formulas[key] = bar, value, how
        grid.setColumnStretch(1, 1)
        self.setToolTip(
            "The same map pooled both ways. The model pools the 'fine' and the 'defect' scores of the map "
            "separately, then P = σ(pooled defect − pooled fine). Max pooling: one strong cell is enough "
            "(a single hole). Average pooling: the whole surface counts (wrinkles), one odd cell does not."
        )

    def show_head(self, head: HeadResult) -> dict[str, float]:
        probs = {key: head.prob_if_pooled(key) for key, _ in POOLINGS}
        for key, p in probs.items():
            self.bars[key].setValue(round(p * 1000))
            self.values[key].setText(f"{p:.2f}")
            fine, defect = head.pooled(key)
            self.formulas[key].setText(formula(key, fine, defect))
        return probs

    def clear(self) -> None:
        for key, _ in POOLINGS:
            self.bars[key].setValue(0)
            self.values[key].setText("–")
            self.formulas[key].setText("")
