"""``fabricscope gui`` / ``python -m fabricscope``: start the desktop app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fabricscope import assets

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

STYLE = assets.style_sheet()

#: How long a Python thread may hold the GIL before handing it to a waiting one (CPython's default: 5 ms).
GIL_SWITCH_S = 0.0005


def share_the_gil() -> None:
    """Hand the GIL round more often, so the GUI thread waits less for it.

    Every paint calls back into Python (the table's ``data()``, pyqtgraph items) and
    each call-back must take the GIL. While a batch runs, the decoding and scoring
    threads hold it in 5 ms slices; a repaint that waits for it a few dozen times
    stalls the window. Measured with ``benchmarks/bench_gui_stalls.py`` (2,000 small
    PNGs, 5 runs each): GUI-thread gap p99 124 -> 88 ms; the larger part of the stalls
    was CPU, not the GIL (see :mod:`fabricscope.gui.background`).
    """
    sys.setswitchinterval(GIL_SWITCH_S)


def collect_garbage_on_gui_thread(interval_s: float = 1.0) -> object:
    """Run Python's cycle collector only on the GUI thread, from a timer; returns the object to keep.

    Left automatic, a collection runs on whichever thread happens to allocate, and may finalise
    Qt objects there. One such case deadlocked a CI run (a collection on a pipe-reading thread ran
    ``~QObject`` while the GUI thread held the GIL waiting for Qt's lock; see docs/RELIABILITY.md).
    pyqtgraph's ``GarbageCollector`` disables the automatic collector and runs gen 0/1/2 by the usual
    thresholds from a QTimer. A collection holds the GIL wherever it runs, so moving it here costs
    the GUI thread nothing it did not already wait for. Must be called after the QApplication exists.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=interval_s)


def apply_theme(app: object) -> None:
    """Fusion with a dark palette, then the style sheet (resources/style.qss, if present): titles, badges, panels."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")  # type: ignore[attr-defined]
    pal = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#202124"),
        (roles.WindowText, "#e8eaed"),
        (roles.Base, "#17181b"),
        (roles.AlternateBase, "#26272b"),
        (roles.Text, "#e8eaed"),
        (roles.Button, "#2d2e32"),
        (roles.ButtonText, "#e8eaed"),
        (roles.Highlight, "#3b82c4"),
        (roles.HighlightedText, "#ffffff"),
        (roles.ToolTipBase, "#303134"),
        (roles.ToolTipText, "#e8eaed"),
        (roles.PlaceholderText, "#9aa0a6"),
    ):
        pal.setColor(role, QColor(colour))
    # greyed text for disabled widgets: without it a disabled button (Stop after a batch) looks live
    for role in (roles.ButtonText, roles.WindowText, roles.Text):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
    app.setPalette(pal)  # type: ignore[attr-defined]
    if STYLE.exists():
        app.setStyleSheet(STYLE.read_text())  # type: ignore[attr-defined]


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="fabricscope gui", description="FabricScope desktop app: live fabric inspection")
    p.add_argument("--model", type=Path, help="ONNX model (default: the shipped model, or the last one opened)")
    p.add_argument("--demo", action="store_true", help="start on the synthetic demo feed")
    p.add_argument("--video", type=Path, help="start on this video file")
    p.add_argument("--images", type=Path, nargs="+", help="start on these image files or folders")
    p.add_argument("--provider", help="execution provider (auto, cpu, cuda, ...)")
    p.add_argument("--settings", type=Path, help="keep settings in this INI file instead of the user's settings")
    p.add_argument("--screenshot", type=Path, help="save a PNG of the window after --screenshot-after seconds")
    p.add_argument("--screenshot-after", type=float, default=4.0, metavar="SECONDS")
    p.add_argument("--quit-after", type=float, metavar="SECONDS", help="close the app after this many seconds")
    p.add_argument("--size", default="1600x1000", help="window size, WIDTHxHEIGHT")
    return p.parse_args(argv)


def make_app() -> tuple[QApplication, object]:
    """The QApplication as the app runs it (GIL sharing, pyqtgraph options, names, theme) and the
    garbage-collection guard, which the caller keeps alive while the app runs."""
    os.environ.setdefault("QT_MEDIA_BACKEND", "ffmpeg")
    share_the_gil()
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="#1e1f22", foreground="#d8d8d8")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("FabricScope")
    app.setOrganizationName("FabricScope")
    apply_theme(app)
    return app, collect_garbage_on_gui_thread()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    from fabricscope.gui.display import display_problem  # no Qt: it runs before Qt can abort

    problem = display_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        return 2
    app, _gc_guard = make_app()  # the guard must stay alive as long as the app runs
    from PySide6.QtCore import QTimer

    from fabricscope.gui.main_window import MainWindow
    from fabricscope.gui.settings import open_settings

    settings = open_settings(args.settings)
    if args.provider:
        settings.setValue("provider", args.provider)
    source = None
    if args.demo:
        source = "demo"
    elif args.video:
        source = f"video:{args.video}"
    elif args.images:
        source = "images:" + "|".join(str(p) for p in args.images)
    window = MainWindow(settings, model=args.model, source=source)
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
        window.resize(w, h)
    except ValueError:
        window.resize(1600, 1000)
    window.show()
    if args.screenshot:
        def grab() -> None:
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(args.screenshot))
            print(f"screenshot {'saved to' if ok else 'FAILED:'} {args.screenshot}", flush=True)

        QTimer.singleShot(int(args.screenshot_after * 1000), grab)
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    return int(app.exec())
