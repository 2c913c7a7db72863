"""Which files a run scores: image files under folders, in a stable order, each once."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .imaging import is_image_path


def _scan_folder(root: Path, recursive: bool) -> list[Path]:
    """Image files under ``root`` sorted by relative path; hidden names skipped; symlink loops cut."""
    found: list[tuple[str, Path]] = []
    if not recursive:
        try:
            entries = list(os.scandir(root))
        except OSError:
            return [root]  # kept as a row: decoding it says why it could not be listed
        for e in entries:
            if e.name.startswith(".") or not is_image_path(Path(e.name)):
                continue
            try:
                if e.is_file():
                    found.append((e.name, root / e.name))
            except OSError:
                continue
        return [p for _, p in sorted(found)]
    visited: set[tuple[int, int]] = set()

    def unlistable(exc: OSError) -> None:
        # A folder that cannot be listed (no permission, a path over the system's limit) is not
        # skipped in silence: it becomes one row, and decoding that row says why.
        folder = Path(os.fsdecode(exc.filename)) if exc.filename else root
        try:
            rel = folder.relative_to(root).as_posix()
        except ValueError:
            rel = str(folder)
        found.append((rel, folder))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:  # a symlink back to a folder already walked: a loop or an alias
            dirnames[:] = []
            continue
        visited.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not is_image_path(Path(name)):
                continue
            full = Path(dirpath) / name
            if full.is_file():
                found.append((full.relative_to(root).as_posix(), full))
    return [p for _, p in sorted(found)]


def find_images(paths: Sequence[Path], recursive: bool) -> list[Path]:
    """The files to score, in a stable order, each once.

    Arguments keep the order given; a folder contributes its image files
    (:data:`imaging.IMAGE_SUFFIXES`, hidden files skipped) sorted by relative
    path, with subfolders when ``recursive`` (symlinked folders are followed,
    loops skipped). A file named explicitly is kept whatever its suffix (a
    non-image then becomes an error row), and so is a path that does not exist
    (an error row "file not found"). The same file reached twice, by any path,
    is listed once, at its first place.
    """
    out: list[Path] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        try:
            key = os.path.normcase(str(p.resolve()))
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop on older Pythons
            key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            out.append(p)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in _scan_folder(p, recursive):
                add(f)
        else:
            add(p)
    return out
