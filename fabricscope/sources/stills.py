"""Image files and folders as a source: one frame at a time, stepped by the user."""

from __future__ import annotations

from pathlib import Path

from fabricscope.engine.imaging import ImageError, decode_image, is_image_path
from fabricscope.sources.base import Capabilities, FrameSource


def images_in(paths: list[Path]) -> list[Path]:
    """Image files named directly, or found (not recursively) in named folders, sorted by name."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted((f for f in p.iterdir() if f.is_file() and is_image_path(f)), key=lambda f: f.name.lower())
        elif p.is_file():
            found.append(p)
    return found


class StillImages(FrameSource):
    """A list of image files; :meth:`step` moves through them (arrow keys in the app)."""

    capabilities = Capabilities(live=False, steps=True)

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = images_in([Path(p) for p in paths])
        self.index = 0
        self.name = f"{len(self.paths)} image(s)" if len(self.paths) != 1 else self.paths[0].name if self.paths else ""

    @property
    def current(self) -> Path | None:
        return self.paths[self.index] if self.paths else None

    def start(self, sink, on_error) -> None:  # noqa: ANN001 - same signature as FrameSource
        super().start(sink, on_error)
        if not self.paths:
            self.error("no image files there")
            return
        self._deliver()

    def step(self, delta: int) -> None:
        if self.paths:
            self.index = (self.index + delta) % len(self.paths)
            self._deliver()

    def _deliver(self) -> None:
        path = self.paths[self.index]
        try:
            decoded = decode_image(path)
        except ImageError as exc:
            self.error(f"{path.name}: {exc}")
            return
        except OSError as exc:
            self.error(f"{path.name}: cannot read ({exc.strerror or exc})")
            return
        self.emit(decoded.rgb)
