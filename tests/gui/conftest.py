from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# test_stall_watch.py tests the benchmarks' instrument (benchmarks/stall_watch.py): the repository root
# must be importable under a bare `pytest` too (`python -m pytest` puts the working folder there).
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_MEDIA_BACKEND", "ffmpeg")


@pytest.fixture
def settings(tmp_path: Path):
    from fabricscope.gui.settings import open_settings

    s = open_settings(tmp_path / "settings.ini")
    s.setValue("snapshot_dir", str(tmp_path / "snaps"))
    return s


@pytest.fixture
def make_window(qtbot, settings, toy_model):
    """Build a MainWindow on the toy model with a temp settings file; closed at the end."""
    from fabricscope.gui.main_window import MainWindow

    windows = []

    def make(source: str = "demo", model: Path | None = None, settings=settings):
        w = MainWindow(settings, model=model or toy_model, source=source)
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        windows.append(w)
        qtbot.waitUntil(lambda: w.state.inspector is not None, timeout=10000)
        return w

    yield make
    for w in windows:
        w.close()
