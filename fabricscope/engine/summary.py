"""What a run did, in numbers and in words: :class:`Summary`; and durations as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .row_schema import Row, RowSchema


def duration_text(seconds: float | None, compact: bool = False) -> str:
    """'45 s', '3 min 05 s', '1 h 02 min' (compact, for a terminal line: '45s', '3m05s', '1h02m'); '--' unknown."""
    if seconds is None:
        return "--"
    s = round(seconds)
    h, m, sec, gap = ("h", "m", "s", "") if compact else (" h", " min", " s", " ")
    if s >= 3600:
        return f"{s // 3600}{h}{gap}{s % 3600 // 60:02d}{m}"
    if s >= 60:
        return f"{s // 60}{m}{gap}{s % 60:02d}{sec}"
    return f"{s}{sec}"


MAX_ERRORS_KEPT = 1000


@dataclass
class Summary:
    """What a run did. Counts cover every row of the report, rows resumed from an earlier run included."""

    total: int = 0  # files in the run
    scored: int = 0  # scored by this run
    resumed: int = 0  # skipped because the report already held them
    ok: int = 0
    errors: int = 0
    flagged: int = 0  # images with any head flagged
    flagged_per_head: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    stopped: bool = False  # cancelled or interrupted before the end
    heatmaps_written: int = 0
    heatmap_errors: list[str] = field(default_factory=list)
    error_rows: list[dict[str, Any]] = field(default_factory=list)  # path and error, the first MAX_ERRORS_KEPT

    @property
    def images_per_s(self) -> float:
        return self.scored / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def count(self, row: Row, schema: RowSchema) -> None:
        """Count one report row (``schema``: the row's columns)."""
        if row.get("status") == "ok":
            self.ok += 1
            if row.get("flagged"):
                self.flagged += 1
            for h in schema.flagged_heads(row):
                self.flagged_per_head[h] = self.flagged_per_head.get(h, 0) + 1
        else:
            self.errors += 1
            if len(self.error_rows) < MAX_ERRORS_KEPT:
                self.error_rows.append({"path": row.get("path"), "error": row.get("error")})

    def lines(self) -> list[str]:
        """The summary in words, a few lines."""
        errors = "1 error" if self.errors == 1 else f"{self.errors} errors"
        out = [f"{self.total} images: {self.ok} ok, {errors}, {self.flagged} flagged"]
        if self.flagged_per_head:
            out.append("flagged per head: " + ", ".join(f"{h} {n}" for h, n in self.flagged_per_head.items()))
        rate = f"{self.scored} scored in {self.elapsed_s:.1f} s ({self.images_per_s:.1f} images/s)"
        if self.resumed:
            rate += f"; {self.resumed} already in the report (resumed)"
        out.append(rate)
        if self.heatmaps_written or self.heatmap_errors:
            out.append(f"{self.heatmaps_written} heatmap overlays written, {len(self.heatmap_errors)} failed")
        if self.stopped:
            out.append(f"stopped early: {self.total - self.ok - self.errors} images not scored")
        return out
