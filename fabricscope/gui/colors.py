"""The heatmap colour scale shared by the panels, the overlay and the saved snapshots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from fabricscope.heatmap_render import colormap

LUT: np.ndarray = colormap()  # 256 x 3 uint8, the same scale the CLI's overlays use
PASS_COLOUR = "#2e9d4f"
FAIL_COLOUR = "#d23c3c"


def color_map() -> pg.ColorMap:
    return pg.ColorMap(np.linspace(0.0, 1.0, len(LUT)), LUT)
