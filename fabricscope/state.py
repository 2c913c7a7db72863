"""The desktop app's state, in plain Python (no Qt): the model, the provider, the thresholds, the source.

One :class:`AppState` per window, owned by the main window. Widgets, the settings file and the model
loader observe it through its :class:`Event` attributes and change it through its methods; no widget
holds a copy of what it holds, and none reaches into another to learn it (napari's model/view split:
the model emits events and knows no widget). Every change happens on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Generic, TypeVar

from fabricscope.engine.thresholds import Thresholds

if TYPE_CHECKING:  # types only
    from fabricscope.engine.inspector import Inspector
    from fabricscope.sources.base import FrameSource

T = TypeVar("T")


class Event(Generic[T]):
    """Callbacks called, in connection order, with the new value."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> Callable[[T], object]:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[[T], object]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            callback(value)


class AppState:
    """What the app is working with; each change emits its event (only when the value changes)."""

    def __init__(self, inspector: Inspector | None = None, provider: str = "auto") -> None:
        self.inspector_changed: Event[Inspector | None] = Event()
        self.thresholds_changed: Event[Thresholds] = Event()
        self.provider_changed: Event[str] = Event()
        self.source_changed: Event[FrameSource | None] = Event()
        self._inspector = inspector
        self._thresholds = Thresholds.of(inspector.spec) if inspector is not None else Thresholds()
        self._provider = provider
        self._source: FrameSource | None = None
        self._source_key = ""

    # --- the model ------------------------------------------------------------------------------
    @property
    def inspector(self) -> Inspector | None:
        return self._inspector

    def set_inspector(self, inspector: Inspector, thresholds: Thresholds | None = None) -> None:
        """Use this model, judged at ``thresholds`` (default: its shipped ones, with the current
        values kept for the heads it shares with the model before)."""
        self._inspector = inspector
        self.set_thresholds(thresholds or Thresholds.of(inspector.spec).merged(self._thresholds))
        self.inspector_changed.emit(inspector)

    # --- the thresholds ---------------------------------------------------------------------------
    @property
    def thresholds(self) -> Thresholds:
        """The one set of thresholds every view and export of the app judges at."""
        return self._thresholds

    def set_thresholds(self, thresholds: Thresholds) -> None:
        if thresholds != self._thresholds:
            self._thresholds = thresholds
            self.thresholds_changed.emit(thresholds)

    def set_threshold(self, head: str, value: float) -> None:
        """One head's threshold (KeyError for a head the model lacks)."""
        self.set_thresholds(self._thresholds.with_(head, value))

    def update_thresholds(self, values: Mapping[str, float]) -> None:
        """The heads named in ``values`` that the model has; other names are ignored."""
        self.set_thresholds(self._thresholds.merged(values))

    # --- the execution provider ------------------------------------------------------------------
    @property
    def provider(self) -> str:
        """The provider asked for ("auto", "cpu", "cuda", ...); the model says what really runs."""
        return self._provider

    def set_provider(self, provider: str) -> None:
        if provider != self._provider:
            self._provider = provider
            self.provider_changed.emit(provider)

    # --- the frame source --------------------------------------------------------------------------
    @property
    def source(self) -> FrameSource | None:
        return self._source

    @property
    def source_key(self) -> str:
        """The source as the settings name it: ``demo``, ``camera:ID``, ``video:PATH``, ``images:PATHS``."""
        return self._source_key

    def set_source(self, source: FrameSource, key: str) -> None:
        """Use this source from now on; the one before is stopped."""
        old = self._source
        self._source, self._source_key = source, key
        if old is not None and old is not source:
            old.stop()
        self.source_changed.emit(source)

    def close(self) -> None:
        """Stop the source (the app is closing)."""
        if self._source is not None:
            self._source.stop()
