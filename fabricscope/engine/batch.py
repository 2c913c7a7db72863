"""A whole batch run, for the CLI and the GUI batch tab alike: :func:`score_folder`.

It scores files with a :data:`Scorer` (by default :func:`.pipeline.iter_scores` on this
machine; :mod:`.ray_engine` provides one that runs on Ray) and adds what a run needs around
it: the report (rows of :class:`.row_schema.RowSchema`, written by :mod:`.report`), resume,
heatmap overlays, progress callbacks, cancellation and a :class:`.summary.Summary`. No Qt here.

The parts, in the order a file meets them: :mod:`.discovery` (which files),
:mod:`.decode_pool` (decoding, with a time limit), :mod:`.pipeline` (batched inference, in
input order), :mod:`.row_schema` (the report row), :mod:`.report` (the report file),
:mod:`.summary` (what the run did).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .decode_pool import DECODE_TIMEOUT_S
from .imaging import MAX_PIXELS
from .inspector import Inspection, Inspector
from .pipeline import Scored, iter_scores
from .report import ReportError, ReportWriter, path_key
from .row_schema import RowSchema
from .summary import Summary
from .thresholds import Thresholds

#: Scores files in input order, one :class:`Scored` per file, ``index`` its place in the
#: files given: ``scorer(files, should_stop)``. :func:`iter_scores` bound to an inspector
#: is the local one; :mod:`.ray_engine` provides one that runs on Ray.
Scorer = Callable[[Sequence[Path], Callable[[], bool] | None], Iterator[Scored]]


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for progress bars: ``done`` of ``total`` (resumed rows included)."""

    done: int
    total: int
    images_per_s: float  # this run's scoring rate
    eta_s: float | None  # None until a rate is known
    elapsed_s: float


def overlay_names(files: Sequence[Path], suffix: str) -> dict[Path, Path]:
    """Relative overlay file names: each image's path relative to the files' common folder.

    Keeps names recognisable and unique (``sub/a.jpg`` -> ``sub/a.jpg.heatmap.jpg``),
    and the same for a resumed run over the same inputs.
    """
    if not files:
        return {}
    absolute = [Path(os.path.abspath(f)) for f in files]
    common = Path(os.path.commonpath([str(a.parent) for a in absolute]))
    return {
        f: a.relative_to(common).with_name(a.name + f".heatmap{suffix}") for f, a in zip(files, absolute, strict=True)
    }


def score_folder(
    inspector: Inspector,
    files: Sequence[Path],
    *,
    report: Path | None = None,
    resume: bool = False,
    heatmaps: Path | None = None,
    heatmap_format: str = "jpg",
    heatmaps_for: str = "all",
    batch_size: int = 16,
    workers: int = 2,
    max_pixels: int = MAX_PIXELS,
    decode_timeout_s: float = DECODE_TIMEOUT_S,
    should_stop: Callable[[], bool] | None = None,
    on_row: Callable[[Scored], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    scorer: Scorer | None = None,
    thresholds: Thresholds | None = None,
) -> Summary:
    """Score ``files`` (from :func:`.discovery.find_images`) into an optional report; return a Summary.

    ``resume``: rows already in ``report`` are kept and their files skipped.
    ``heatmaps``: a folder for overlay images (``heatmaps_for`` ``"all"`` or
    ``"flagged"``), named by :func:`overlay_names`. ``on_row`` gets every
    newly scored file in order; ``on_progress`` is called after each batch.
    ``scorer``: what scores the files (default: :func:`iter_scores` on this machine).
    ``thresholds`` judge the rows and choose the flagged overlays (default: the model's shipped ones);
    a ``scorer`` given here judges its rows itself.
    Ctrl-C (KeyboardInterrupt) finishes the report before it propagates.
    Raises :class:`report.ReportError` before scoring anything if the report
    or the heatmap folder cannot be written, and ``ModelError`` if the model
    fails at run time (rows scored so far stay in the report). On resume,
    overlays that a kill left unwritten are made again (the report keeps no maps).
    """
    from .heatmap_render import write_overlay  # numpy + Pillow; imported only when used

    if heatmaps_for not in ("all", "flagged"):
        raise ValueError(f"heatmaps_for must be 'all' or 'flagged', got {heatmaps_for!r}")
    schema = RowSchema.of(inspector.spec)
    judge = thresholds if thresholds is not None else Thresholds.of(inspector.spec)
    summary = Summary(total=len(files), flagged_per_head=dict.fromkeys(schema.heads, 0))
    names: dict[Path, Path] = {}
    if heatmaps is not None:
        try:
            heatmaps.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"cannot create the heatmap folder {heatmaps}: {exc.strerror or exc}") from None
        names = overlay_names(files, "." + heatmap_format.lower().lstrip("."))
    writer = ReportWriter(report, schema.columns, resume=resume) if report is not None else None
    todo = list(files)
    redo: list[Path] = []  # resumed images whose overlay a kill left unwritten
    if writer is not None and resume:
        previous = {path_key(r["path"]): r for r in writer.previous}
        todo = [f for f in files if path_key(f) not in previous]
        summary.resumed = len(files) - len(todo)
        for f in files:
            row = previous.get(path_key(f))
            if row is None:
                continue
            summary.count(row, schema)
            wants_overlay = row.get("status") == "ok" and (heatmaps_for == "all" or row.get("flagged"))
            if names and wants_overlay and not (heatmaps / names[f]).exists():  # type: ignore[operator]
                redo.append(f)
    overlay_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fabricscope-overlay") if names else None
    overlays: deque[tuple[Path, Future[Path]]] = deque()

    def collect(block_over: int) -> None:
        while overlays and (len(overlays) > block_over or overlays[0][1].done()):
            path, fut = overlays.popleft()
            try:
                fut.result()
                summary.heatmaps_written += 1
            except Exception as exc:  # a failed overlay is reported, never fatal
                summary.heatmap_errors.append(f"{path}: {exc}")

    def overlay(path: Path, inspection: Inspection) -> None:
        if overlay_pool is not None and (heatmaps_for == "all" or judge.flagged(inspection)):
            out = heatmaps / names[path]  # type: ignore[operator]
            job = overlay_pool.submit(write_overlay, path, inspection, judge, out, max_pixels=max_pixels)
            overlays.append((path, job))
            collect(block_over=2 * batch_size)

    if scorer is None:

        def scorer(some: Sequence[Path], stop: Callable[[], bool] | None) -> Iterator[Scored]:
            return iter_scores(
                inspector,
                some,
                batch_size=batch_size,
                workers=workers,
                should_stop=stop,
                max_pixels=max_pixels,
                decode_timeout_s=decode_timeout_s,
                thresholds=judge,
            )

    start = time.perf_counter()
    last_index = -1
    try:
        # Overlays only: these rows are in the report already, their maps are not.
        for scored in scorer(redo, None) if redo else ():
            if scored.inspection is not None:
                overlay(scored.path, scored.inspection)
        for scored in scorer(todo, should_stop):
            if writer is not None:
                writer.write(scored.row)
            summary.scored += 1
            summary.count(scored.row, schema)
            if scored.inspection is not None:
                overlay(scored.path, scored.inspection)
            if on_row is not None:
                on_row(scored)
            last_index = scored.index
            end_of_batch = (scored.index + 1) % batch_size == 0 or scored.index == len(todo) - 1
            if end_of_batch:
                if writer is not None:
                    writer.sync()
                if on_progress is not None:
                    on_progress(_progress(summary, start))
    except BaseException:
        summary.stopped = True
        raise
    finally:
        summary.elapsed_s = time.perf_counter() - start
        if last_index + 1 < len(todo):
            summary.stopped = True
        if overlay_pool is not None:
            overlay_pool.shutdown(wait=True)
            collect(block_over=0)
        if writer is not None:
            writer.close()
    return summary


def _progress(summary: Summary, start: float) -> Progress:
    elapsed = time.perf_counter() - start
    rate = summary.scored / elapsed if elapsed > 0 else 0.0
    done = summary.ok + summary.errors
    eta = (summary.total - done) / rate if rate > 0 else None
    return Progress(done=done, total=summary.total, images_per_s=rate, eta_s=eta, elapsed_s=elapsed)
