"""The heatmap colour scale shared by the panels, the overlay and the saved snapshots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from fabricscope.engine.heatmap_render import colormap

LUT: np.ndarray = colormap()  # 256 x 3 uint8, the same scale the CLI's overlays use
#: The overlay's RGBA table: cold cells barely tint the frame, hot ones cover it (as the CLI's overlays).
OVERLAY_LUT: np.ndarray = np.column_stack([LUT, np.round(255 * (0.1 + 0.75 * np.linspace(0, 1, 256)))]).astype(np.uint8)
PASS_COLOUR = "#2e9d4f"
FAIL_COLOUR = "#d23c3c"


def color_map() -> pg.ColorMap:
    return pg.ColorMap(np.linspace(0.0, 1.0, len(LUT)), LUT)
