"""The inference thread of the live view, and the thread that opens models.

:class:`InferenceWorker` takes the newest frame from a :class:`LatestFrame`
slot, runs the inspector and emits a :class:`LiveResult`. It never queues:
frames that arrive while the model runs replace each other (counted as
dropped), so the view is never behind by more than one model run. It also
waits for the GUI to paint the previous result before emitting another, so a
slow GUI cannot build a queue of results either.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThread, Signal

from fabricscope.engine.inspector import Inspection, Inspector, ModelError
from fabricscope.gui.background import lower_this_thread
from fabricscope.sources import LatestFrame


@dataclass(frozen=True)
class LiveResult:
    frame: np.ndarray
    inspection: Inspection
    seq: int
    arrived: float  # perf_counter when the source delivered the frame
    done: float  # perf_counter when the model finished


class InferenceWorker(QThread):
    resultReady = Signal(object)  # LiveResult
    failed = Signal(str)

    def __init__(self, slot: LatestFrame, inspector: Inspector | None = None) -> None:
        super().__init__()
        self.slot = slot
        self._inspector = inspector
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._painted = threading.Event()
        self._painted.set()

    @property
    def inspector(self) -> Inspector | None:
        with self._lock:
            return self._inspector

    def set_inspector(self, inspector: Inspector) -> None:
        """Swap the model between two runs (the next frame uses the new one)."""
        with self._lock:
            self._inspector = inspector

    def mark_painted(self) -> None:
        """The GUI has shown the last result; the next one may be emitted."""
        self._painted.set()

    def stop(self) -> None:
        self._stop.set()
        self._painted.set()
        self.slot.wake()
        self.wait(5000)

    def run(self) -> None:
        lower_this_thread()  # under load the GUI thread paints first; stale frames are dropped anyway
        while not self._stop.is_set():
            if not self._painted.wait(0.1):
                continue
            inspector = self.inspector
            if inspector is None:  # no model yet: leave the frame pending for the first one
                self._stop.wait(0.05)
                continue
            item = self.slot.take(timeout=0.1)
            if item is None:
                continue
            # The model may have been swapped while take() waited; the GUI swaps it before it puts the
            # frame to re-inspect, so the model read now is at least as new as the frame.
            inspector = self.inspector or inspector
            try:
                inspection = inspector.inspect(item.frame)
            except Exception as exc:  # a model failing on one frame must not end the thread
                self.failed.emit(f"inspection failed: {exc}")
                continue
            self._painted.clear()
            self.resultReady.emit(LiveResult(item.frame, inspection, item.seq, item.arrived, time.perf_counter()))


class ModelLoader(QThread):
    """Opens a model (and its ONNX Runtime session) off the GUI thread."""

    loaded = Signal(object, str)  # Inspector, reason ("model" or "provider")
    failed = Signal(str, str)  # message, reason

    def __init__(self, path: Path, provider: str, reason: str, threads: int | None = None) -> None:
        super().__init__()
        self.path, self.provider, self.reason, self.threads = Path(path), provider, reason, threads

    def run(self) -> None:
        lower_this_thread()  # ONNX Runtime's threads, made with the session, inherit this priority
        try:
            inspector = Inspector(self.path, provider=self.provider, threads=self.threads)
        except ModelError as exc:
            self.failed.emit(str(exc), self.reason)
        except Exception as exc:  # anything else opening a model is still the model's fault
            self.failed.emit(f"cannot open {self.path.name}: {exc}", self.reason)
        else:
            self.loaded.emit(inspector, self.reason)
