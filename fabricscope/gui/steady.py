"""Labels whose changing text never re-lays out the window.

When a label's text changes width (a count, a rate, a file name), Qt asks its
parents for a new layout; with pyqtgraph plots in the window every pass
resizes and redraws their axes, tens of milliseconds on the GUI thread, several
times a second while a batch streams in. A steady label takes its size from
the layout and a fixed number of lines instead of from its text.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


def steady_label(text: str = "", *, min_chars: int = 8, lines: int = 1) -> QLabel:
    """A QLabel sized by the layout (at least ``min_chars`` wide) and exactly ``lines`` lines high."""
    label = QLabel(text)
    label.setWordWrap(lines > 1)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    metrics = label.fontMetrics()
    label.setMinimumWidth(metrics.averageCharWidth() * min_chars)
    margins = label.contentsMargins()
    label.setFixedHeight(metrics.lineSpacing() * lines + margins.top() + margins.bottom() + 2)
    return label
