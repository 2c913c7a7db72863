"""The dark theme greys out disabled widgets (a finished batch's Stop button must not look live)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QImage


def _brightest(image: QImage) -> int:
    return max(
        image.pixelColor(x, y).lightness() for x in range(image.width()) for y in range(image.height())
    )


def test_disabled_button_looks_different_from_an_enabled_one(qtbot):
    from PySide6.QtWidgets import QApplication, QPushButton

    from fabricscope.gui.app import apply_theme

    app = QApplication.instance()
    palette, sheet, style = app.palette(), app.styleSheet(), app.style().name()
    try:
        apply_theme(app)
        live, dead = QPushButton("Stop"), QPushButton("Stop")
        dead.setEnabled(False)
        for b in (live, dead):
            qtbot.addWidget(b)
            b.resize(80, 28)
        # the label is the brightest thing on a dark button: a disabled one's must be dimmer
        brightest = [_brightest(w.grab().toImage()) for w in (live, dead)]
        assert brightest[1] < brightest[0] - 60, brightest
    finally:
        app.setStyle(style)
        app.setPalette(palette)
        app.setStyleSheet(sheet)
