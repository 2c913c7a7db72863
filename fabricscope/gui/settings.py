"""What the app remembers between runs (QSettings): source, camera, thresholds, provider, overlay, model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings


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
