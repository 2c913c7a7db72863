"""Opening models for the app: in the background, into the app state, and again when the provider changes.

:class:`ModelControl` belongs to the main window. A model opens on a :class:`~.worker.ModelLoader`
thread; once open it becomes the state's model, judged at the thresholds the settings remember.
A model that fails to open is said in words (:attr:`ModelControl.failed`) and the one before stays.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from fabricscope.engine.inspector import Inspector
from fabricscope.gui.settings import saved_thresholds
from fabricscope.gui.worker import ModelLoader
from fabricscope.state import AppState


class ModelControl(QObject):
    message = Signal(str)  # short status-bar messages
    failed = Signal(str)  # why a model did not open, and which one is still in use

    def __init__(self, state: AppState, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.settings = settings
        self.loaders: list[ModelLoader] = []
        self._reverting = False
        state.provider_changed.connect(self._provider_changed)

    def load(self, path: str | Path, reason: str = "model") -> None:
        """Open a model on the state's provider in the background; the current one stays until it is ready."""
        provider = self.state.provider
        loader = ModelLoader(Path(path), provider, reason)
        loader.loaded.connect(self._loaded)
        loader.failed.connect(self._failed)
        loader.finished.connect(lambda: self.loaders.remove(loader) if loader in self.loaders else None)
        self.loaders.append(loader)
        self.message.emit(f"opening {Path(path).name} on {provider}…")
        loader.start()

    def _provider_changed(self, _provider: str) -> None:
        if self.state.inspector is not None and not self._reverting:
            self.load(self.state.inspector.path, reason="provider")

    def _loaded(self, inspector: Inspector, _reason: str) -> None:
        self.state.set_inspector(inspector, saved_thresholds(self.settings, inspector.spec, self.state.thresholds))
        self.message.emit(f"{inspector.path.name} on {inspector.provider_report.active}")

    def _failed(self, message: str, reason: str) -> None:
        current = self.state.inspector
        kept = f" Still using {current.path.name}." if current is not None else ""
        self.failed.emit(f"{message}.{kept}" if not message.endswith(".") else f"{message}{kept}")
        if reason == "provider" and current is not None:
            self._reverting = True  # the provider menu goes back; the model in use stays open
            try:
                self.state.set_provider(current.provider_report.requested)
            finally:
                self._reverting = False

    def shutdown(self) -> None:
        for loader in list(self.loaders):
            loader.wait(10000)
