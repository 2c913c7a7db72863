"""Python's cycle collector runs only on the GUI thread once the app has set it up."""

from __future__ import annotations

import gc
import threading


class _Cycle:
    def __init__(self, log: list[int]) -> None:
        self.me = self  # a reference cycle: only the cycle collector frees it
        self.log = log

    def __del__(self) -> None:
        self.log.append(threading.get_ident())


def test_cycles_made_on_a_worker_are_collected_on_the_gui_thread(qtbot):
    from fabricscope.gui.app import collect_garbage_on_gui_thread

    finalised_on: list[int] = []
    kept: list[object] = []

    def worker() -> None:
        _Cycle(finalised_on)
        # enough live allocations to set off several automatic collections on this thread
        kept.append([[] for _ in range(20 * gc.get_threshold()[0])])

    guard = collect_garbage_on_gui_thread(interval_s=0.05)
    try:
        assert not gc.isenabled()
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert finalised_on == []  # with the automatic collector this is [the worker's id]
        qtbot.waitUntil(lambda: bool(finalised_on), timeout=3000)
        assert finalised_on == [threading.get_ident()]
    finally:
        guard.timer.stop()  # type: ignore[attr-defined]
        gc.enable()
