"""Labels whose changing text never reflows the rows around them.

When a label's text changes width (a count, a rate, a file name), Qt asks its
parents for a new layout; with pyqtgraph plots in the window every pass
resizes and redraws their axes, tens of milliseconds on the GUI thread, several
times a second while a batch streams in. A steady label takes its height from
a fixed number of lines instead of from its text, so a new text never reflows
the rows above and below it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


def steady_label(text: str = "", *, min_chars: int = 8, lines: int = 1) -> QLabel:
    """A QLabel at least ``min_chars`` wide and exactly ``lines`` lines high, whatever its text."""
    label = QLabel(text)
    label.setWordWrap(lines > 1)
    # Fixed height: a longer text never changes the rows above and below (where the plots are);
    # its width may still move its neighbours in the same row, which is cheap.
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    metrics = label.fontMetrics()
    label.setMinimumWidth(metrics.averageCharWidth() * min_chars)
    margins = label.contentsMargins()
    label.setFixedHeight(metrics.lineSpacing() * lines + margins.top() + margins.bottom() + 2)
    return label
