"""Thresholds: the one value that turns probabilities into verdicts.

An :class:`~.inspector.Inspection` carries probabilities and maps only. A verdict is
``P >= threshold``, taken at the edges (a report row, an overlay, a panel's badge, the batch
table) from one immutable :class:`Thresholds`. Changing a threshold makes a new value
(:meth:`Thresholds.with_`); nothing already scored is run again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # types only
    from .contract import ModelSpec
    from .inspector import HeadResult, Inspection


@dataclass(frozen=True)
class Thresholds(Mapping[str, float]):
    """One threshold per head, in the model's head order; immutable, read like a ``dict``."""

    names: tuple[str, ...] = ()
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.names) != len(self.values):
            raise ValueError("one value per head")
        for name, value in zip(self.names, self.values, strict=True):
            _check(name, value)

    @classmethod
    def of(cls, spec: ModelSpec) -> Thresholds:
        """The shipped thresholds: each head's default from the model's metadata."""
        return cls(tuple(h.name for h in spec.heads), tuple(float(h.threshold) for h in spec.heads))

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Thresholds:
        return cls(tuple(values), tuple(float(v) for v in values.values()))

    # --- a Mapping ------------------------------------------------------------------------------
    def __getitem__(self, head: str) -> float:
        try:
            return self.values[self.names.index(head)]
        except ValueError:
            raise KeyError(head) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    # --- new values -----------------------------------------------------------------------------
    def with_(self, head: str, value: float) -> Thresholds:
        """The same thresholds with ``head`` at ``value``; KeyError for a head this model lacks."""
        if head not in self.names:
            raise KeyError(f"no head named {head!r}; this model has {list(self.names)}")
        _check(head, value)
        return Thresholds(self.names, tuple(float(value) if n == head else v for n, v in self.items()))

    def merged(self, values: Mapping[str, float]) -> Thresholds:
        """These thresholds with every head named in ``values`` replaced; other names are ignored."""
        return Thresholds(self.names, tuple(float(values.get(n, v)) for n, v in self.items()))

    # --- verdicts -------------------------------------------------------------------------------
    def flag(self, head: HeadResult) -> bool:
        """The head's verdict: ``P >= threshold``."""
        return head.prob >= self[head.name]

    def label(self, head: HeadResult) -> str:
        """The head's label for its verdict, e.g. "hole" or "intact"."""
        return head.spec.labels[1] if self.flag(head) else head.spec.labels[0]

    def flags(self, inspection: Inspection) -> dict[str, bool]:
        """Every head's verdict, by name."""
        return {h.name: self.flag(h) for h in inspection.heads}

    def flagged(self, inspection: Inspection) -> bool:
        """Whether any head flags the image."""
        return any(self.flag(h) for h in inspection.heads)

    def array(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """The thresholds of ``names`` as a float array (NaN for a head not held here)."""
        return np.array([self[n] if n in self.names else np.nan for n in names], np.float64)


def _check(head: str, value: float) -> None:
    if isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"threshold for {head!r} must be between 0 and 1, got {value}")
