"""Live feed robustness: frames that change size or format mid-stream, rapid switching."""

from __future__ import annotations

import threading
import time

import numpy as np
from toy_model import fabric_like

from fabricscope.sources.base import FrameSource


class ShiftingSource(FrameSource):
    """A thread that emits frames of changing sizes, with one malformed frame among them."""

    name = "shifting test source"

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self.sent = 0

    def start(self, sink, on_error) -> None:
        super().start(sink, on_error)
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        super().stop()

    def _run(self) -> None:
        sizes = [(480, 640), (240, 320), (720, 1280), (224, 224), (101, 333)]
        while not self._stop.is_set():
            i = self.sent
            if i == 7:
                frame = np.zeros((100, 100, 4), np.uint8)  # RGBA: not a frame this pipeline takes
            elif i == 9:
                frame = np.zeros((100, 100), np.uint8)  # grey, 2-D
            else:
                h, w = sizes[i % len(sizes)]
                frame = np.ascontiguousarray(fabric_like(i, size=max(h, w))[:h, :w])
            self.emit(frame)
            self.sent += 1
            time.sleep(0.01)


def test_frames_changing_size_and_format_mid_stream(make_window, qtbot):
    w = make_window(source="demo")
    source = ShiftingSource()
    w.state.set_source(source, "test:shifting")
    qtbot.waitUntil(lambda: source.sent > 40, timeout=15000)
    seen = set()

    def sizes_seen() -> bool:
        if w.live.current is not None:
            frame, inspection = w.live.current
            assert frame.ndim == 3 and frame.shape[2] == 3
            assert inspection.image_size == (frame.shape[1], frame.shape[0])
            seen.add(frame.shape[:2])
        return len(seen) >= 3

    qtbot.waitUntil(sizes_seen, timeout=20000)
    results = w.live.results
    qtbot.waitUntil(lambda: w.live.results > results + 3, timeout=10000)  # still inspecting
    assert w.isVisible()
    source.stop()


def test_rapid_source_and_provider_switching(make_window, qtbot, tmp_path):
    from PIL import Image

    still = tmp_path / "still.png"
    Image.fromarray(fabric_like(5, hole_at=(1, 1))).save(still)
    w = make_window(source="demo")
    for i in range(12):
        w.live.open_source_key("demo" if i % 2 else f"images:{still}")
        w.state.set_provider("cpu" if i % 3 else "auto")
        qtbot.wait(20)
    # the last choices win: a still image, on cpu, and inspection goes on
    w.live.open_source_key(f"images:{still}")
    w.state.set_provider("cpu")
    qtbot.waitUntil(lambda: w.state.inspector is not None and w.state.inspector.provider == "cpu", timeout=15000)
    qtbot.waitUntil(
        lambda: w.live.current is not None and w.live.current[0].shape == (224, 224, 3)
        and w.live.current[1].head("hole").strongest == (1, 1),
        timeout=15000,
    )
    assert w.settings.value("provider") == "cpu"
