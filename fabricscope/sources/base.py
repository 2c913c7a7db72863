"""The interface every frame source follows, and what each kind of source can do (:class:`Capabilities`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FrameSink = Callable[[np.ndarray], None]
ErrorSink = Callable[[str], None]


@dataclass(frozen=True)
class Capabilities:
    """What a source can do, so that the app asks it instead of testing its type."""

    #: Keeps producing frames (demo, camera, video); False for stills, delivered one at a time.
    live: bool = True
    #: :meth:`FrameSource.pause` pauses and resumes it (a video file).
    can_pause: bool = False
    #: :meth:`FrameSource.set_loop` turns looping at its end on or off (a video file).
    loops: bool = False
    #: :meth:`FrameSource.step` moves to the next or previous frame (image files).
    steps: bool = False
    #: It offers resolutions to choose from (:attr:`FrameSource.resolutions`, a camera).
    camera_resolution: bool = False


class FrameSource:
    """Delivers RGB uint8 frames to ``sink`` between :meth:`start` and :meth:`stop`.

    Errors are reported as sentences to ``on_error`` (possibly from another
    thread); a source never raises into the app once started. What else it can
    do is in :attr:`capabilities`; the methods below do nothing where it cannot.
    """

    name = "source"
    capabilities = Capabilities()
    #: The resolutions a camera offers, largest first, and the one it was opened at.
    resolutions: tuple[tuple[int, int], ...] = ()
    resolution: tuple[int, int] | None = None

    @property
    def live(self) -> bool:
        return self.capabilities.live

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

    def pause(self, paused: bool) -> None:
        """Pause or resume (only where ``capabilities.can_pause``)."""

    def set_loop(self, loop: bool) -> None:
        """Loop at the end or stop there (only where ``capabilities.loops``)."""

    def step(self, delta: int) -> None:
        """Move ``delta`` frames on (only where ``capabilities.steps``)."""

    def error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(f"{self.name}: {message}")
