"""Each head's probability over the last minute, one curve per head, in preallocated ring buffers."""

from __future__ import annotations

import html
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

CAPACITY = 60 * 40  # a minute at up to 40 results a second
DASH = pg.QtCore.Qt.PenStyle.DashLine
PALETTE = ((240, 120, 60), (80, 170, 255), (120, 220, 120), (220, 120, 220), (230, 220, 90))


class StripChart(pg.PlotWidget):
    def __init__(self, window_s: float = 60.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.setMinimumHeight(130)
        self.setYRange(0, 1, padding=0.02)
        self.setXRange(-window_s, 0, padding=0)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setMenuEnabled(False)
        self.setLabel("bottom", "seconds ago")
        self.setLabel("left", "P(defect)")
        self.showGrid(x=True, y=True, alpha=0.2)
        # the axes never change while curves scroll: paint them from a cached pixmap, not by
        # replaying their tick text (2-3 ms a paint, and a strip chart repaints 5 times a second)
        for name in ("left", "bottom"):
            self.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # The key sits above the plot (the plot's title row), never over the curves.
        self.key_text = ""
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._lines: dict[str, pg.InfiniteLine] = {}
        self._t = np.zeros(CAPACITY)
        self._p: dict[str, np.ndarray] = {}
        self._n = 0
        self._start = 0
        self._dirty = False

    def set_heads(self, heads: list[tuple[str, str]], thresholds: dict[str, float]) -> None:
        """(name, title) per head; clears the history."""
        for item in (*self._curves.values(), *self._lines.values()):
            self.removeItem(item)
        self._curves.clear()
        self._lines.clear()
        self._p = {name: np.zeros(CAPACITY) for name, _ in heads}
        self._n = self._start = 0
        keys = []
        for k, (name, title) in enumerate(heads):
            colour = PALETTE[k % len(PALETTE)]
            self._curves[name] = self.plot([], [], pen=pg.mkPen(colour, width=2))
            line = pg.InfiniteLine(thresholds.get(name, 0.5), angle=0, pen=pg.mkPen(colour, style=DASH))
            self.addItem(line)
            self._lines[name] = line
            hex_colour = "#{:02x}{:02x}{:02x}".format(*colour)
            keys.append(f"<span style='color:{hex_colour}'>━━ {html.escape(title)}</span>")
        keys.append("<span style='color:#9aa0a6'>- - - threshold</span>")
        self.key_text = "&nbsp;&nbsp;&nbsp;&nbsp;".join(keys)
        self.setTitle(self.key_text, size="9pt")

    def set_threshold(self, name: str, value: float) -> None:
        if name in self._lines:
            self._lines[name].setValue(value)

    def add(self, probs: dict[str, float], t: float | None = None) -> None:
        t = time.monotonic() if t is None else t
        i = (self._start + self._n) % CAPACITY
        if self._n == CAPACITY:
            self._start = (self._start + 1) % CAPACITY
        else:
            self._n += 1
        self._t[i] = t
        for name, arr in self._p.items():
            arr[i] = probs.get(name, np.nan)
        self._dirty = True

    def refresh(self) -> None:
        """Redraw (called from a GUI timer a few times a second, not per result)."""
        if not self._dirty or not self._n:
            return
        self._dirty = False
        idx = (self._start + np.arange(self._n)) % CAPACITY
        t = self._t[idx]
        now = time.monotonic()
        keep = t >= now - self.window_s
        x = t[keep] - now
        for name, curve in self._curves.items():
            curve.setData(x, self._p[name][idx][keep])

    def history(self, name: str) -> np.ndarray:
        idx = (self._start + np.arange(self._n)) % CAPACITY
        return self._p[name][idx]
