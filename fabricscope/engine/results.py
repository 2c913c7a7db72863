"""The rows of one batch run as the GUI holds them, in plain Python and numpy (no Qt).

Each file's path, its :class:`Inspection` (small: a 2 x 7 x 7 map per head) or the reason it could
not be read, and the heads' probabilities in one float array. Verdicts are never stored: they are
``prob >= threshold`` at the :class:`.Thresholds` passed in, so changing a threshold re-judges every
row without a model run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .contract import HeadSpec
from .inspector import Inspection
from .thresholds import Thresholds


@dataclass(frozen=True)
class BatchEntry:
    """One scored file as the table receives it: an inspection or an error, never both."""

    index: int  # position in the scan order
    path: Path
    inspection: Inspection | None
    error: str = ""


class BatchResults:
    """The rows of one batch run, with the heads of the model that scored them."""

    def __init__(self, heads: Sequence[HeadSpec], root: Path | None = None) -> None:
        self.heads: tuple[HeadSpec, ...] = tuple(heads)
        self.root = root
        self.entries: list[BatchEntry] = []
        self.names: list[str] = []
        self._probs = np.full((256, len(self.heads)), np.nan, np.float64)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def probs(self) -> np.ndarray:
        """[rows, heads] P(defect); NaN on error rows."""
        return self._probs[: len(self.entries)]

    def display_name(self, path: Path) -> str:
        if self.root is not None:
            try:
                return path.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.name

    def extend(self, entries: Iterable[BatchEntry]) -> int:
        """Add rows; returns how many were added."""
        new = list(entries)
        need = len(self.entries) + len(new)
        if need > len(self._probs):
            grown = np.full((max(need, 2 * len(self._probs)), len(self.heads)), np.nan, np.float64)
            grown[: len(self.entries)] = self.probs
            self._probs = grown
        start = len(self.entries)
        for k, entry in enumerate(new):
            if entry.inspection is not None:
                self._probs[start + k] = [entry.inspection.head(h.name).prob for h in self.heads]
            self.names.append(self.display_name(entry.path))
        self.entries.extend(new)
        return len(new)

    def threshold_array(self, thresholds: Thresholds) -> np.ndarray:
        """[heads] the thresholds of these rows' heads (NaN for a head ``thresholds`` lacks: never flagged)."""
        return thresholds.array([h.name for h in self.heads])

    def flags(self, thresholds: Thresholds) -> np.ndarray:
        """[rows, heads] bool: each head's verdict at ``thresholds`` (False on errors)."""
        with np.errstate(invalid="ignore"):
            return self.probs >= self.threshold_array(thresholds)

    def errors(self) -> np.ndarray:
        return np.isnan(self.probs[:, 0]) if self.heads else np.zeros(len(self), bool)

    def counts(self, thresholds: Thresholds) -> dict[str, Any]:
        """Counts per verdict at ``thresholds``: all, flagged, clean, errors, and flagged per head."""
        errors = self.errors()
        flags = self.flags(thresholds)
        any_flag = flags.any(axis=1) if self.heads else np.zeros(len(self), bool)
        return {
            "files": len(self),
            "flagged": int(any_flag.sum()),
            "clean": int((~any_flag & ~errors).sum()),
            "errors": int(errors.sum()),
            "per_head": {h.name: int(flags[:, k].sum()) for k, h in enumerate(self.heads)},
        }
