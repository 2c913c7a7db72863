"""The report row: its columns, their types, how a row is made from an Inspection and read back.

One :class:`RowSchema` per model; the report writers and readers (:mod:`.report`), the run's
:class:`~.summary.Summary`, the CLI's table and the GUI's export all go through it, so a column's
name and type are written down here and nowhere else.

Columns: ``path, status, width, height, flagged``, then per head ``<head>_prob`` (P(defect),
6 decimals), ``<head>_flag`` and ``<head>_cell`` (the strongest map cell as ``"row,col"``, 0-based
from the top-left), then ``error`` (empty for ``ok`` rows). ``width``/``height`` are the upright
original image size. An error row (``status`` ``"error"``) has no values but ``path`` and ``error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: reading and writing reports needs no ONNX Runtime
    from .contract import ModelSpec
    from .inspector import Inspection
    from .thresholds import Thresholds

Row = dict[str, Any]

#: The columns before the heads' and their types.
LEADING: dict[str, type] = {"path": str, "status": str, "width": int, "height": int, "flagged": bool}
#: Each head's columns, ``<head>_<field>``, and their types.
HEAD_FIELDS: dict[str, type] = {"prob": float, "flag": bool, "cell": str}
#: The columns after the heads'.
TRAILING: dict[str, type] = {"error": str}
#: Columns read back as text even when empty (never None).
ALWAYS_TEXT = frozenset({"path", "status", "error"})


@dataclass(frozen=True)
class RowSchema:
    """The row of a model with these heads (in the model's order)."""

    heads: tuple[str, ...]

    @classmethod
    def of(cls, spec: ModelSpec) -> RowSchema:
        return cls(tuple(spec.head_names))

    @classmethod
    def from_columns(cls, names: Sequence[str]) -> RowSchema:
        """The schema a report's header was written with (its heads, from their ``<head>_<field>`` columns)."""
        heads: dict[str, None] = {}
        for name in names:
            head, _, fld = name.rpartition("_")
            if head and fld in HEAD_FIELDS and name not in LEADING and name not in TRAILING:
                heads[head] = None
        return cls(tuple(heads))

    @staticmethod
    def column(head: str, fld: str) -> str:
        """The column of one head's field: ``column("hole", "prob") == "hole_prob"``."""
        return f"{head}_{fld}"

    @cached_property
    def types(self) -> dict[str, type]:
        """Every column, in order, with the type of its values."""
        per_head = {self.column(h, f): t for h in self.heads for f, t in HEAD_FIELDS.items()}
        return {**LEADING, **per_head, **TRAILING}

    @property
    def columns(self) -> list[str]:
        return list(self.types)

    # --- making a row -------------------------------------------------------------------------

    def row(
        self, path: Path | str, inspection: Inspection | None, error: str = "", thresholds: Thresholds | None = None
    ) -> Row:
        """One row: the inspection's answers judged at ``thresholds``, or an error row (``inspection`` None)."""
        row: Row = dict.fromkeys(self.types)
        row["path"] = str(path)
        if inspection is None:
            row["status"] = "error"
            row["error"] = error or "unknown error"
            return row
        if thresholds is None:
            raise ValueError("a row for an inspected image needs the thresholds that judge it")
        row["status"] = "ok"
        row["error"] = ""
        row["width"], row["height"] = (int(v) for v in inspection.image_size)
        row["flagged"] = thresholds.flagged(inspection)
        for h in inspection.heads:
            r, c = h.strongest
            row[self.column(h.name, "prob")] = round(h.prob, 6)
            row[self.column(h.name, "flag")] = thresholds.flag(h)
            row[self.column(h.name, "cell")] = f"{r},{c}"
        return row

    # --- reading a row ------------------------------------------------------------------------

    def prob(self, row: Mapping[str, Any], head: str) -> float | None:
        return row.get(self.column(head, "prob"))

    def flag(self, row: Mapping[str, Any], head: str) -> bool:
        return bool(row.get(self.column(head, "flag")))

    def flagged_heads(self, row: Mapping[str, Any]) -> list[str]:
        return [h for h in self.heads if self.flag(row, h)]

    # --- as text (CSV) ------------------------------------------------------------------------

    @staticmethod
    def to_text(value: Any) -> str:
        """A value as a CSV cell: booleans ``true``/``false``, a missing value empty."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def from_text(self, cells: Mapping[str, str | None], names: Sequence[str] | None = None) -> Row:
        """A CSV row's cells (``names``, default: this schema's columns) back to the values :meth:`row` made."""
        types = self.types
        out: Row = {}
        for name in self.columns if names is None else names:
            text = cells.get(name) or ""
            kind = types.get(name, str)
            if name in ALWAYS_TEXT:
                out[name] = text
            elif text == "":
                out[name] = None
            elif kind is bool:
                out[name] = text.lower() == "true"
            elif kind in (int, float):
                out[name] = kind(text)
            else:
                out[name] = text
        return out


def columns(spec: ModelSpec) -> list[str]:
    """The report columns for a model: ``RowSchema.of(spec).columns``."""
    return RowSchema.of(spec).columns


def row_for(
    path: Path | str, inspection: Inspection | None, error: str, spec: ModelSpec, thresholds: Thresholds | None = None
) -> Row:
    """One report row for a model: ``RowSchema.of(spec).row(path, inspection, error, thresholds)``."""
    return RowSchema.of(spec).row(path, inspection, error, thresholds)
