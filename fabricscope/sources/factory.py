"""Every source is opened here, by the key the settings store it under.

Keys: ``demo``, ``camera:ID`` (a Qt camera device id), ``video:PATH``, ``images:PATH|PATH|...`` (files
or folders). :func:`open_source` returns the source, not started, or raises :class:`SourceError`
saying in words why it cannot be opened. Qt Multimedia is imported only for a camera or a video.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fabricscope.sources.base import FrameSource

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_RESOLUTION = (640, 480)


class SourceError(Exception):
    """A source that cannot be opened, with the reason in words."""


def key_for_paths(paths: Sequence[Path]) -> str:
    """The key of dropped or chosen paths: one video file is a video, anything else images."""
    if len(paths) == 1 and paths[0].suffix.lower() in VIDEO_SUFFIXES:
        return f"video:{paths[0]}"
    return "images:" + "|".join(str(p) for p in paths)


def label_for_key(key: str) -> str:
    """How the source menu names a file source: "Video: a.mp4", "Images: folder"."""
    kind, _, rest = key.partition(":")
    return f"{kind.capitalize()}: {Path(rest.split('|')[0]).name}"


def camera_id(device: object) -> str:
    """A Qt camera device's id as the keys write it."""
    return bytes(device.id().data()).decode(errors="replace")  # type: ignore[attr-defined]


def open_source(key: str, *, loop: bool = True, resolution: tuple[int, int] | None = DEFAULT_RESOLUTION) -> FrameSource:
    """The source named by ``key``; ``loop`` for a video, ``resolution`` for a camera (the largest it
    offers when it does not offer this one)."""
    kind, _, rest = key.partition(":")
    if key == "demo":
        from fabricscope.sources.demo import DemoFeed

        return DemoFeed()
    if kind == "camera":
        from fabricscope.sources.qt_video import CameraSource, camera_resolutions, cameras

        device = next((d for d in cameras() if camera_id(d) == rest), None)
        if device is None:
            raise SourceError("the camera used last time is not connected")
        sizes = camera_resolutions(device)
        chosen = resolution if resolution in sizes else (sizes[0] if sizes else None)
        return CameraSource(device, chosen)
    if kind == "video":
        from fabricscope.sources.qt_video import VideoFileSource

        if not Path(rest).is_file():
            raise SourceError(f"video file not found: {rest}")
        return VideoFileSource(rest, loop=loop)
    if kind == "images":
        from fabricscope.sources.stills import StillImages

        paths = [Path(p) for p in rest.split("|")]
        source = StillImages(paths)
        if not source.paths:
            raise SourceError(f"no image files in {', '.join(p.name for p in paths)}")
        return source
    raise SourceError(f"unknown source {key!r}")
