"""Frame sources for the live view: each delivers RGB ``H x W x 3`` uint8 frames to a sink.

Pure-Python sources (no Qt): :class:`~.demo.DemoFeed` (synthetic fabric sliding
past), :class:`~.stills.StillImages` (image files and folders). Qt Multimedia
sources live in :mod:`.qt_video` (webcam, video file) and import no widgets.
Frames go into a :class:`~.latest.LatestFrame` slot: the newest frame replaces
one not yet taken, so a slow model never sees stale frames.
"""

from fabricscope.sources.base import FrameSource
from fabricscope.sources.latest import LatestFrame, TakenFrame

__all__ = ["FrameSource", "LatestFrame", "TakenFrame"]
