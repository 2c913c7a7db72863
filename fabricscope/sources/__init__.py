"""Frame sources for the live view: each delivers RGB ``H x W x 3`` uint8 frames to a sink.

:func:`~.factory.open_source` opens any of them by key (``demo``, ``camera:ID``, ``video:PATH``,
``images:PATHS``); what one can do (pause, loop, step, choose a resolution) is in its
:class:`~.base.Capabilities`. Pure-Python sources (no Qt): :class:`~.demo.DemoFeed` (synthetic
fabric sliding past), :class:`~.stills.StillImages` (image files and folders). Qt Multimedia
sources live in :mod:`.qt_video` (webcam, video file) and import no widgets.
Frames go into a :class:`~.latest.LatestFrame` slot: the newest frame replaces
one not yet taken, so a slow model never sees stale frames.
"""

from fabricscope.sources.base import Capabilities, FrameSource
from fabricscope.sources.factory import SourceError, key_for_paths, open_source
from fabricscope.sources.latest import LatestFrame, TakenFrame

__all__ = ["Capabilities", "FrameSource", "LatestFrame", "SourceError", "TakenFrame", "key_for_paths", "open_source"]
