"""Regression guard for the pinned PySide6.

PySide6 6.12.0 on Python 3.11 aborts the process ("Fatal Python error:
bool_dealloc") after about 2,000 emits of a Signal(bool); pyqtgraph's
ImageItem.setImage emits one per call, so a live view would die within a
minute. The emits run in a subprocess because the failure kills the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    class Emitter(QObject):
        changed = Signal(bool)

    app = QCoreApplication(sys.argv)
    received = []
    e = Emitter()
    e.changed.connect(lambda v: received.append(v))
    for i in range(20_000):
        e.changed.emit(i % 2 == 0)
    assert len(received) == 20_000 and received[:2] == [True, False], len(received)
    print("ok", len(received))
    """
)


def test_twenty_thousand_bool_signals_do_not_abort_the_interpreter() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.stdout.strip() == "ok 20000"


def test_pyqtgraph_image_updates_survive_many_frames() -> None:
    script = textwrap.dedent(
        """
        import numpy as np
        import pyqtgraph as pg
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        item = pg.ImageItem(axisOrder="row-major")
        frame = np.zeros((7, 7), np.float32)
        for i in range(5_000):
            frame[i % 7, (i // 7) % 7] = i % 3
            item.setImage(frame, autoLevels=False, levels=(0, 2))
        print("ok")
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    assert proc.stdout.strip().endswith("ok")
