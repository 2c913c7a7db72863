"""What the app remembers between runs (QSettings): source, camera, thresholds, provider, overlay, model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings

from fabricscope.engine.thresholds import Thresholds

if TYPE_CHECKING:
    from fabricscope.engine.contract import ModelSpec
    from fabricscope.engine.inspector import Inspector
    from fabricscope.state import AppState


def open_settings(path: str | Path | None = None) -> QSettings:
    """The user's settings, or an INI file at ``path`` (tests, ``--settings``)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings("FabricScope", "FabricScope")


def get_str(settings: QSettings, key: str, default: str = "") -> str:
    value = settings.value(key, default)
    return str(value) if value is not None else default


def get_float(settings: QSettings, key: str, default: float) -> float:
    try:
        return float(settings.value(key, default))
    except (TypeError, ValueError):
        return default


def get_bool(settings: QSettings, key: str, default: bool) -> bool:
    value = settings.value(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def saved_thresholds(settings: QSettings, spec: ModelSpec, current: Thresholds) -> Thresholds:
    """A model's thresholds as remembered: the saved value per head, else the current one, else the shipped one."""
    shipped = Thresholds.of(spec).merged(current)
    return shipped.merged({h: get_float(settings, f"thresholds/{h}", v) for h, v in shipped.items()})


def remember(state: AppState, settings: QSettings) -> None:
    """Keep ``settings`` in step with ``state``: the model file, the provider, the source, and each
    threshold the user changes (a model's own thresholds are not written when it loads)."""
    last = [state.thresholds]

    def thresholds_changed(new: Thresholds) -> None:
        old, last[0] = last[0], new
        if old.names != new.names:  # another model: its thresholds came from here or from the model
            return
        for head, value in new.items():
            if value != old[head]:
                settings.setValue(f"thresholds/{head}", value)

    def inspector_changed(inspector: Inspector | None) -> None:
        if inspector is not None:
            settings.setValue("model", str(inspector.path))

    state.thresholds_changed.connect(thresholds_changed)
    state.inspector_changed.connect(inspector_changed)
    state.provider_changed.connect(lambda provider: settings.setValue("provider", provider))
    state.source_changed.connect(lambda _source: settings.setValue("source", state.source_key))
