"""Frame sources on their own: the latest-frame slot, the demo feed, stills, and video through QVideoSink."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope.sources import LatestFrame
from fabricscope.sources.demo import DemoFeed
from fabricscope.sources.stills import StillImages, images_in

sys.path.insert(0, str(Path(__file__).parent / "gui"))
from mjpeg_avi import write_mjpeg_avi


def test_latest_frame_wins_and_drops_are_counted():
    slot = LatestFrame()
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(5)]
    for f in frames:
        slot.put(f)
    item = slot.take(timeout=0)
    assert item is not None and item.seq == 5 and item.frame[0, 0, 0] == 4
    assert slot.dropped == 4 and slot.received == 5
    assert slot.take(timeout=0) is None  # nothing stale left
    assert slot.peek().seq == 5  # the painter still sees the newest frame


def test_latest_frame_take_wakes_on_put():
    slot = LatestFrame()
    got = []
    t = threading.Thread(target=lambda: got.append(slot.take(timeout=5)))
    t.start()
    slot.put(np.zeros((1, 1, 3), np.uint8))
    t.join(2)
    assert got and got[0].seq == 1


def test_demo_feed_slides_fabric_past_at_its_frame_rate():
    feed = DemoFeed(width=320, height=240, fps=50, speed=8)
    a, b = feed.frame(0), feed.frame(1)
    assert a.shape == (240, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a[8:], b[:-8])  # the fabric moved by `speed` rows
    got: list[np.ndarray] = []
    errors: list[str] = []
    done = threading.Event()

    def sink(frame: np.ndarray) -> None:
        got.append(frame)
        if len(got) >= 10:
            done.set()

    feed.start(sink, errors.append)
    assert done.wait(30)
    feed.stop()
    n = len(got)
    assert not errors and all(f.shape == (240, 320, 3) for f in got)
    assert len(got) == n  # nothing delivered after stop


def test_demo_feed_default_is_640x480():
    feed = DemoFeed()
    assert feed.frame(3).shape == (480, 640, 3)


def test_still_images_step_and_report_bad_files(tmp_path):
    Image.fromarray(fabric_like(0)).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    Image.fromarray(fabric_like(1, hole_at=(0, 0))).save(tmp_path / "c.png")
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in images_in([tmp_path])] == ["a.png", "b.jpg", "c.png"]
    frames, errors = [], []
    src = StillImages([tmp_path])
    src.start(frames.append, errors.append)
    assert len(frames) == 1 and frames[0].shape == (224, 224, 3)
    src.step(1)
    assert len(frames) == 1 and len(errors) == 1 and "b.jpg" in errors[0]
    src.step(1)
    assert len(frames) == 2 and frames[1][5, 5].max() < 40  # the hole's dark corner
    src.step(1)
    assert src.current.name == "a.png"  # wraps around


def test_empty_folder_is_said(tmp_path):
    errors = []
    StillImages([tmp_path]).start(lambda f: None, errors.append)
    assert errors and "no image files" in errors[0]


def test_video_file_frames_arrive_as_rgb_arrays(qtbot, tmp_path):
    from fabricscope.sources.qt_video import VideoFileSource

    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    frames = [np.full((96, 128, 3), colours[i // 4], np.uint8) for i in range(12)]
    path = write_mjpeg_avi(tmp_path / "rgb.avi", frames, fps=25)
    got: list[np.ndarray] = []
    errors: list[str] = []
    src = VideoFileSource(str(path), loop=False)
    src.start(got.append, errors.append)
    qtbot.waitUntil(lambda: len(got) >= 10, timeout=10000)
    src.stop()
    assert not errors
    assert all(f.shape == (96, 128, 3) and f.dtype == np.uint8 for f in got)
    mean_first = got[0].reshape(-1, 3).mean(axis=0)
    assert mean_first[0] > 150 and mean_first[1] < 80  # red first, in RGB order
    assert any(f.reshape(-1, 3).mean(axis=0)[2] > 150 for f in got)  # blue at the end


def test_not_a_video_is_reported(qtbot, tmp_path):
    from fabricscope.sources.qt_video import VideoFileSource

    path = tmp_path / "text.mp4"
    path.write_text("hello, not a video " * 20)
    errors: list[str] = []
    src = VideoFileSource(str(path))
    src.start(lambda f: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert errors[0].startswith("text.mp4:")


@pytest.mark.parametrize("module", ["fabricscope.sources.qt_video", "fabricscope.sources.demo"])
def test_sources_import_no_widgets(module):
    code = f"import sys, {module}; print('PySide6.QtWidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_video_loops_pauses_and_resumes(qtbot, tmp_path):
    from fabricscope.sources.qt_video import VideoFileSource

    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(5)]
    path = write_mjpeg_avi(tmp_path / "short.avi", frames, fps=25)
    got: list[np.ndarray] = []
    src = VideoFileSource(str(path), loop=True)
    src.start(got.append, lambda m: None)
    qtbot.waitUntil(lambda: len(got) >= 12, timeout=10000)  # more frames than the file has: it looped
    src.pause(True)
    qtbot.waitUntil(lambda: src.paused, timeout=5000)
    n = len(got)
    qtbot.wait(300)
    assert len(got) <= n + 1
    src.pause(False)
    qtbot.waitUntil(lambda: len(got) >= n + 5, timeout=10000)
    src.stop()


def test_missing_camera_is_said(qtbot):
    from PySide6.QtMultimedia import QCameraDevice

    from fabricscope.sources.qt_video import CameraSource

    errors: list[str] = []
    src = CameraSource(QCameraDevice())  # no device behind it, as when a camera has gone
    src.start(lambda f: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "camera" in errors[0].lower()
    src.stop()
