"""Webcam and video-file sources through Qt Multimedia: both end in one QVideoSink.

Imports QtCore/QtGui/QtMultimedia only (no widgets). Frames arrive on the GUI
thread from the sink; converting one 640x480 frame to numpy costs about a
millisecond, and the copy is needed because Qt reuses the frame's memory.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QMediaCaptureSession,
    QMediaDevices,
    QMediaPlayer,
    QVideoFrame,
    QVideoSink,
)

from fabricscope.sources.base import Capabilities, FrameSource


def frame_to_rgb(frame: QVideoFrame) -> np.ndarray | None:
    """A QVideoFrame as an RGB ``H x W x 3`` uint8 array (a copy), or None for an empty frame."""
    if not frame.isValid():
        return None
    image = frame.toImage()
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    stride = image.bytesPerLine()
    buf = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()  # a copy always: the QImage memory goes away


class _SinkSource(FrameSource):
    """Common part: a QVideoSink whose frames go to the source's sink."""

    def __init__(self) -> None:
        super().__init__()
        self._qobject = QObject()  # parent for Qt objects, so they die with the source
        self.video_sink = QVideoSink(self._qobject)
        self.video_sink.videoFrameChanged.connect(self._on_frame)
        self.frames_seen = 0

    def _on_frame(self, frame: QVideoFrame) -> None:
        if self._sink is None:
            return
        rgb = frame_to_rgb(frame)
        if rgb is not None:
            self.frames_seen += 1
            self.emit(rgb)


def cameras() -> list[QCameraDevice]:
    return list(QMediaDevices.videoInputs())


def camera_resolutions(device: QCameraDevice) -> list[tuple[int, int]]:
    """Distinct (width, height) the camera offers, largest first."""
    sizes = {(f.resolution().width(), f.resolution().height()) for f in device.videoFormats()}
    return sorted(sizes, key=lambda s: s[0] * s[1], reverse=True)


class CameraSource(_SinkSource):
    """A webcam. Missing, busy or unplugged cameras are reported through ``on_error``."""

    capabilities = Capabilities(camera_resolution=True)

    def __init__(self, device: QCameraDevice, resolution: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.resolutions = tuple(camera_resolutions(device))
        self.resolution = (int(resolution[0]), int(resolution[1])) if resolution is not None else None
        self.device = device
        self.device_id = bytes(device.id().data())
        self.name = device.description() or "camera"
        self.camera = QCamera(device, self._qobject)
        if resolution is not None:
            fmts = [
                f
                for f in device.videoFormats()
                if (f.resolution().width(), f.resolution().height()) == tuple(resolution)
            ]
            if fmts:
                self.camera.setCameraFormat(max(fmts, key=lambda f: f.maxFrameRate()))
        self.session = QMediaCaptureSession(self._qobject)
        self.session.setCamera(self.camera)
        self.session.setVideoSink(self.video_sink)
        self.camera.errorOccurred.connect(self._on_camera_error)
        self._devices = QMediaDevices(self._qobject)
        self._devices.videoInputsChanged.connect(self._on_inputs_changed)

    def start(self, sink, on_error) -> None:  # noqa: ANN001 - same signature as FrameSource
        super().start(sink, on_error)
        self.camera.start()
        if self.camera.error() != QCamera.Error.NoError:  # set before any signal could be connected
            self._on_camera_error(self.camera.error(), self.camera.errorString())

    def stop(self) -> None:
        super().stop()
        self.camera.stop()

    def _on_camera_error(self, error: QCamera.Error, text: str) -> None:
        if error != QCamera.Error.NoError:
            self.error(text or "the camera reported an error (busy or not available?)")

    def _on_inputs_changed(self) -> None:
        if self._sink is not None and self.device_id not in {bytes(d.id().data()) for d in cameras()}:
            self.error("the camera was unplugged")
            self.camera.stop()


class VideoFileSource(_SinkSource):
    """A video file played through QMediaPlayer (FFmpeg backend), optionally looping."""

    capabilities = Capabilities(can_pause=True, loops=True)

    def __init__(self, path: str, loop: bool = True) -> None:
        super().__init__()
        self.path = path
        self.name = QUrl.fromLocalFile(path).fileName()
        self.player = QMediaPlayer(self._qobject)
        self.player.setVideoOutput(self.video_sink)
        self.player.errorOccurred.connect(self._on_player_error)
        self.player.mediaStatusChanged.connect(self._on_status)
        self.set_loop(loop)

    def set_loop(self, loop: bool) -> None:
        self.loop = loop
        self.player.setLoops(QMediaPlayer.Loops.Infinite if loop else 1)

    def start(self, sink, on_error) -> None:  # noqa: ANN001 - same signature as FrameSource
        super().start(sink, on_error)
        self.player.setSource(QUrl.fromLocalFile(self.path))
        self.player.play()

    def stop(self) -> None:
        super().stop()
        self.player.stop()

    def pause(self, paused: bool) -> None:
        if paused:
            self.player.pause()
        else:
            self.player.play()

    @property
    def paused(self) -> bool:
        return self.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        # FFmpeg opens some broken files without an error but finds no picture in them
        if status == QMediaPlayer.MediaStatus.LoadedMedia and not self.player.hasVideo():
            self.error("no video stream found in this file (broken or not a video)")
            self.player.stop()

    def _on_player_error(self, error: QMediaPlayer.Error, text: str) -> None:
        if error != QMediaPlayer.Error.NoError:
            self.error(text or "the video cannot be played")


