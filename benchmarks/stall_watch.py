"""Measure how long the GUI thread is blocked, and catch what it was doing when it was.

A QTimer on the GUI thread beats every ``beat_ms``; each beat records the gap
since the previous one (a gap well above ``beat_ms`` is time the event loop
could not run). A plain Python thread watches the beats: when the GUI thread
has been silent for ``catch_ms`` it takes the GUI thread's Python stack
(``sys._current_frames``), so a stall comes with the code that caused it.

Used by ``benchmarks/bench_gui_stalls.py``, ``benchmarks/bench_live.py`` and
``tests/gui/test_stall_watch.py``; ``log_ms`` prints each stall longer than that.
Benchmarks drive Qt with :func:`run_event_loop`, which sleeps in the OS between
events as ``app.exec()`` does: a ``processEvents`` polling loop keeps one core
busy and so inflates the very stalls it measures.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QEventLoop, QObject, QTimer


@dataclass
class StallReport:
    beats: int
    gaps_ms: list[float]
    stacks: Counter[str] = field(default_factory=Counter)  # innermost frames of caught stalls -> count
    gc_ms: dict[int, list[float]] = field(default_factory=dict)  # garbage-collection pauses per generation

    def percentile(self, q: float) -> float:
        if not self.gaps_ms:
            return float("nan")
        s = sorted(self.gaps_ms)
        return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]

    @property
    def worst_ms(self) -> float:
        return max(self.gaps_ms, default=float("nan"))

    def over(self, ms: float) -> int:
        return sum(1 for g in self.gaps_ms if g > ms)

    def summary(self) -> dict[str, float]:
        return {
            "beats": self.beats,
            "gap_ms_p50": round(self.percentile(0.5), 1),
            "gap_ms_p99": round(self.percentile(0.99), 1),
            "gap_ms_max": round(self.worst_ms, 1),
            "gaps_over_50ms": self.over(50.0),
            **{f"gc_gen{g}_max_ms": round(max(v), 1) for g, v in sorted(self.gc_ms.items()) if v},
            **{f"gc_gen{g}_count": len(v) for g, v in sorted(self.gc_ms.items())},
        }


class StallWatch(QObject):
    """Start on the GUI thread; :meth:`stop` returns a :class:`StallReport`."""

    def __init__(self, beat_ms: int = 5, catch_ms: float = 40.0, log_ms: float | None = None) -> None:
        super().__init__()
        self.beat_ms = beat_ms
        self.catch_ms = catch_ms
        self.log_ms = log_ms
        self._timer = QTimer(self)
        self._timer.setInterval(beat_ms)
        self._timer.timeout.connect(self._beat)
        self._gaps: list[float] = []
        self._last = 0.0
        self._gui_ident = threading.get_ident()
        self._stacks: Counter[str] = Counter()
        self._caught_for = 0.0  # the beat time a stack was already taken for
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self._gc_ms: dict[int, list[float]] = {}
        self._gc_start = 0.0

    def start(self) -> None:
        self._gui_ident = threading.get_ident()
        self._last = time.perf_counter()
        self._running.set()
        self._timer.start()
        gc.callbacks.append(self._on_gc)
        self._thread = threading.Thread(target=self._watch, name="stall-watch", daemon=True)
        self._thread.start()

    def stop(self) -> StallReport:
        self._timer.stop()
        self._running.clear()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._thread is not None:
            self._thread.join(1.0)
        return StallReport(
            beats=len(self._gaps),
            gaps_ms=list(self._gaps),
            stacks=Counter(self._stacks),
            gc_ms={g: list(v) for g, v in self._gc_ms.items()},
        )

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self._gc_ms.setdefault(info["generation"], []).append((time.perf_counter() - self._gc_start) * 1000.0)

    def _beat(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000.0
        self._last = now
        self._gaps.append(gap)
        if self.log_ms is not None and gap > self.log_ms:
            print(f"fabricscope: GUI thread blocked {gap:.0f} ms", file=sys.stderr, flush=True)

    def _watch(self) -> None:
        while self._running.is_set():
            time.sleep(self.catch_ms / 4000.0)
            last = self._last
            if (time.perf_counter() - last) * 1000.0 < self.catch_ms or last == self._caught_for:
                continue
            frame = sys._current_frames().get(self._gui_ident)
            if frame is None:
                continue
            self._caught_for = last
            lines = traceback.format_stack(frame, limit=6)
            self._stacks["".join(lines[-4:])] += 1


def run_event_loop(seconds: float, until: Callable[[], bool] | None = None, poll_ms: int = 20) -> None:
    """Run the Qt event loop for ``seconds``, or until ``until()`` is true (checked every ``poll_ms``)."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, round(seconds * 1000)), loop.quit)
    check = QTimer()
    if until is not None:
        check.timeout.connect(lambda: until() and loop.quit())
        check.start(poll_ms)
    loop.exec()
    check.stop()
