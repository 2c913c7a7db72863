"""A one-frame mailbox between a source and the inference thread: the latest frame wins."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TakenFrame:
    frame: np.ndarray
    seq: int  # 1, 2, ... in arrival order
    arrived: float  # time.perf_counter() when the source delivered it


class LatestFrame:
    """Holds at most one pending frame; ``put`` replaces a pending one and counts it as dropped.

    ``take`` blocks (with a timeout) for the inference thread; ``peek`` gives the
    newest frame to the painter whether or not it was taken. Thread-safe.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: TakenFrame | None = None
        self._latest: TakenFrame | None = None
        self._seq = 0
        self.dropped = 0
        self.received = 0

    def put(self, frame: np.ndarray) -> None:
        with self._cond:
            self._seq += 1
            self.received += 1
            if self._pending is not None:
                self.dropped += 1
            item = TakenFrame(frame, self._seq, time.perf_counter())
            self._pending = item
            self._latest = item
            self._cond.notify()

    def take(self, timeout: float = 0.1) -> TakenFrame | None:
        with self._cond:
            if self._pending is None:
                self._cond.wait(timeout)
            item, self._pending = self._pending, None
            return item

    def peek(self) -> TakenFrame | None:
        with self._cond:
            return self._latest

    def wake(self) -> None:
        """Wake a blocked ``take`` (used when stopping)."""
        with self._cond:
            self._cond.notify_all()
