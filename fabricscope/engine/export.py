"""Exporting rows already scored (the GUI batch tab's table at its thresholds): a report or overlays.

The same writer, columns and overlay names as a run of ``fabricscope score``: a table exported from
the batch tab reads back like the CLI's report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .batch import overlay_names
from .contract import ModelSpec
from .heatmap_render import write_overlay
from .inspector import Inspection
from .report import ReportWriter
from .row_schema import RowSchema
from .thresholds import Thresholds


@dataclass(frozen=True)
class ExportItem:
    """One table row to export: the file, its inspection (judged by the export's thresholds) or its error."""

    path: Path
    inspection: Inspection | None
    error: str


def write_table(
    out: Path,
    items: Sequence[ExportItem],
    spec: ModelSpec,
    thresholds: Thresholds,
    report: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Write rows at ``thresholds`` with the engine's writer and columns (the format follows the suffix).

    Returns the number of rows written.
    """
    n = 0
    schema = RowSchema.of(spec)
    with ReportWriter(out, schema.columns) as writer:
        for item in items:
            if should_stop is not None and should_stop():
                break
            writer.write(schema.row(item.path, item.inspection, item.error, thresholds))
            n += 1
            if report is not None and n % 200 == 0:
                report(n, len(items))
    return n


def export_overlays(
    folder: Path,
    items: Sequence[ExportItem],
    thresholds: Thresholds,
    report: Callable[[int, int], None],
    should_stop: Callable[[], bool],
    fmt: str = "jpg",
) -> tuple[int, list[str]]:
    """Write each item's heatmap overlay at ``thresholds`` into ``folder`` with the engine's renderer and names."""
    names = overlay_names([i.path for i in items], "." + fmt)
    written, errors = 0, []
    for k, item in enumerate(items):
        if should_stop():
            break
        if item.inspection is None:
            continue
        try:
            write_overlay(item.path, item.inspection, thresholds, folder / names[item.path])
            written += 1
        except Exception as exc:  # a file gone since scoring: reported, the rest go on
            errors.append(f"{item.path}: {exc}")
        report(k + 1, len(items))
    return written, errors
