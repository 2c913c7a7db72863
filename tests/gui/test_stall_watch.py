"""The stall watch measures GUI-thread blocks and names the code that caused them."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from benchmarks.stall_watch import StallWatch


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



def test_the_benchmarks_event_loop_sleeps_between_events(qtbot) -> None:
    """A processEvents polling loop burns a core and inflates the stalls it measures; run_event_loop
    blocks in the OS like app.exec(), runs timers, and stops on time or as soon as `until` holds."""
    from benchmarks.stall_watch import run_event_loop

    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run_event_loop(0.6)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    assert 0.55 < wall < 1.5
    assert cpu < 0.3 * wall  # a polling loop would use ~100% of a core here
    assert len(ticks) >= 15
    wall0 = time.perf_counter()
    run_event_loop(5.0, until=lambda: len(ticks) >= 40)
    assert time.perf_counter() - wall0 < 3.0 and len(ticks) >= 40
    timer.stop()
