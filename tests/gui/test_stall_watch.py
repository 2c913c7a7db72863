"""The stall watch measures GUI-thread blocks and names the code that caused them."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from fabricscope.gui.stall_watch import StallWatch


def block_the_gui_thread_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # busy, holding the GIL like Python work on the GUI thread does
        pass


def test_a_deliberate_block_is_measured_and_its_code_is_caught(qtbot) -> None:
    watch = StallWatch(beat_ms=5, catch_ms=40)
    watch.start()
    QTimer.singleShot(100, lambda: block_the_gui_thread_for(0.15))
    qtbot.wait(400)
    report = watch.stop()
    assert report.beats > 20
    assert 140 <= report.worst_ms < 400
    assert report.over(50.0) == 1
    assert any("block_the_gui_thread_for" in stack for stack in report.stacks)
    summary = report.summary()
    assert summary["gaps_over_50ms"] == 1 and summary["gap_ms_max"] >= 140

