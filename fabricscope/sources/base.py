"""The interface every frame source follows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FrameSink = Callable[[np.ndarray], None]
ErrorSink = Callable[[str], None]


class FrameSource:
    """Delivers RGB uint8 frames to ``sink`` between :meth:`start` and :meth:`stop`.

    Errors are reported as sentences to ``on_error`` (possibly from another
    thread); a source never raises into the app once started.
    """

    name = "source"
    #: True for feeds that keep producing frames (demo, camera, video), False for stills.
    live = True

    def __init__(self) -> None:
        self._sink: FrameSink | None = None
        self._on_error: ErrorSink | None = None

    def start(self, sink: FrameSink, on_error: ErrorSink) -> None:
        self._sink = sink
        self._on_error = on_error

    def stop(self) -> None:
        self._sink = None

    def emit(self, frame: np.ndarray) -> None:
        sink = self._sink
        if sink is not None:
            sink(frame)

    def error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(f"{self.name}: {message}")
