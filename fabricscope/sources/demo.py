"""The demo feed: procedural fabric sliding past as if under a camera (no camera, no files needed)."""

from __future__ import annotations

import threading
import time

import numpy as np

from fabricscope.sources.base import FrameSource

STRIP_LENGTH = 4000  # rows; ~20 s of fabric at the default speed before it loops


class DemoFeed(FrameSource):
    """``width x height`` frames at ``fps`` from a strip made by :func:`fabricscope.synth.render_strip`.

    Holes and wrinkled stretches come from the generator; the strip loops,
    its first frame's worth of rows repeated at its end so the seam is smooth.
    The strip is rendered on the feed's own thread (a few seconds), not the caller's.
    """

    name = "Demo feed"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0, speed: int = 6, seed: int = 0) -> None:
        super().__init__()
        self.width, self.height, self.fps, self.speed, self.seed = width, height, fps, speed, seed
        self._strip: np.ndarray | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.frames_sent = 0

    def strip(self) -> np.ndarray:
        if self._strip is None:
            from fabricscope.synth import render_strip

            rgb, _ = render_strip(self.seed, self.width, STRIP_LENGTH)
            self._strip = np.ascontiguousarray(np.concatenate([rgb, rgb[: self.height]], axis=0))
        return self._strip

    def top_row(self, index: int) -> int:
        """The strip row at the top of frame ``index`` (the strip loops every STRIP_LENGTH rows)."""
        return (index * self.speed) % STRIP_LENGTH

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` of the feed (a view into the strip: no copy)."""
        top = self.top_row(index)
        return self.strip()[top : top + self.height]

    def start(self, sink, on_error) -> None:  # noqa: ANN001 - same signature as FrameSource
        super().start(sink, on_error)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="demo-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        super().stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        try:
            self.strip()
        except Exception as exc:  # the generator failing must not take the app down
            self.error(f"could not render the demo fabric: {exc}")
            return
        period = 1.0 / self.fps
        next_t = time.perf_counter()
        index = 0
        while not self._stop.is_set():
            self.emit(self.frame(index))
            self.frames_sent += 1
            index += 1
            next_t += period
            delay = next_t - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_t = time.perf_counter()  # behind: do not burst to catch up
