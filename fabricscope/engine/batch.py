"""Folder scoring: find images, decode them in parallel, run the model in batches, report.

The pipeline (:func:`iter_scores`): a thread pool decodes files ahead of the
model (Pillow and ONNX Runtime both release the GIL, so decoding overlaps
inference), JPEGs are decoded at the smallest DCT scale that still covers the
model input, and read-ahead is bounded, so memory does not grow with the
folder. Results come out in input order, one per file; a file that cannot be
read becomes an error row and the batch goes on.

:func:`score_folder` drives a whole run for the CLI and the GUI batch tab: the
report (see :mod:`fabricscope.engine.report`), resume, heatmap overlays, progress
callbacks, cancellation and a :class:`Summary`. No Qt here.

Report columns (:func:`columns`): ``path, status, width, height, flagged``,
then per head ``<head>_prob`` (P(defect), 6 decimals), ``<head>_flag`` and
``<head>_cell`` (the strongest map cell as ``"row,col"``, 0-based from the
top-left), then ``error`` (empty for ``ok`` rows). ``width``/``height`` are
the upright original image size.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .contract import ModelSpec
from .imaging import MAX_PIXELS, ImageError, decode_image, fit_to_input, is_image_path
from .inspector import Inspection, Inspector, ModelError
from .report import ReportError, ReportWriter, path_key

# --- finding files ----------------------------------------------------------------------------


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


# --- one file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One file decoded and fitted to the model input, or the reason it could not be."""

    path: Path
    array: np.ndarray | None  # size x size x 3 uint8, None on error
    original_size: tuple[int, int] | None  # (width, height) upright, None on error
    error: str = ""


def prepare_file(path: Path, size: int, *, max_pixels: int = MAX_PIXELS, data: bytes | None = None) -> Prepared:
    """Decode ``path`` no larger than needed and fit it to ``size``; never raises.

    ``data``: the file's bytes, already read (e.g. from an object store); ``path`` then only names it.
    """
    try:
        decoded = decode_image(path if data is None else data, target=size, max_pixels=max_pixels)
        return Prepared(path, fit_to_input(decoded.rgb, size), decoded.original_size)
    except ImageError as exc:
        return Prepared(path, None, None, str(exc))
    except Exception as exc:  # one bad file must never stop a batch
        return Prepared(path, None, None, f"unexpected error: {type(exc).__name__}: {exc}")


# --- rows -------------------------------------------------------------------------------------


def columns(spec: ModelSpec) -> list[str]:
    """Report columns for a model (see the module docstring)."""
    cols = ["path", "status", "width", "height", "flagged"]
    for h in spec.heads:
        cols += [f"{h.name}_prob", f"{h.name}_flag", f"{h.name}_cell"]
    return [*cols, "error"]


def row_for(path: Path | str, inspection: Inspection | None, error: str, spec: ModelSpec) -> dict[str, Any]:
    """One report row: the inspection's answers, or an error row (``inspection`` None)."""
    row: dict[str, Any] = dict.fromkeys(columns(spec))
    row["path"] = str(path)
    if inspection is None:
        row["status"] = "error"
        row["error"] = error or "unknown error"
        return row
    row["status"] = "ok"
    row["error"] = ""
    row["width"], row["height"] = (int(v) for v in inspection.image_size)
    row["flagged"] = inspection.flagged
    for h in inspection.heads:
        r, c = h.strongest
        row[f"{h.name}_prob"] = round(h.prob, 6)
        row[f"{h.name}_flag"] = h.flag
        row[f"{h.name}_cell"] = f"{r},{c}"
    return row


# --- the pipeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One file's result: its place in the input, the report row, the inspection (None on error)."""

    index: int
    path: Path
    row: dict[str, Any]
    inspection: Inspection | None


#: A file still decoding this long after its decoding began is given up (an error row).
DECODE_TIMEOUT_S = 60.0
#: Decoders given up on keep their thread until the decoder returns; past this many the run stops waiting
#: for a free thread and fails, rather than hang (only a decoder that never returns gets here).
MAX_ABANDONED = 4


@dataclass
class _DecodeJob:
    path: Path
    future: Future[Prepared]
    started: float = 0.0  # monotonic time its decoding began; 0 while queued
    given_up: bool = False
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Decoders:
    """A decoding pool with a time limit per file.

    Pillow cannot be interrupted, so a file over the limit is *given up*: its
    row becomes an error and the run goes on, while its thread finishes in the
    background. ``workers`` decodes run at once (a semaphore); the pool has
    :data:`MAX_ABANDONED` spare threads so given-up decodes do not starve the rest.
    """

    def __init__(self, workers: int, size: int, max_pixels: int, timeout_s: float) -> None:
        self.size, self.max_pixels, self.timeout_s = size, max_pixels, timeout_s
        self.slots = threading.Semaphore(workers)
        self.abandoned = 0
        self.pool = ThreadPoolExecutor(max_workers=workers + MAX_ABANDONED, thread_name_prefix="fabricscope-decode")

    def submit(self, path: Path) -> _DecodeJob:
        job = _DecodeJob(path, Future())
        job.future = self.pool.submit(self._run, job)
        return job

    def _run(self, job: _DecodeJob) -> Prepared:
        self.slots.acquire()
        job.started = time.monotonic()
        try:
            return prepare_file(job.path, self.size, max_pixels=self.max_pixels)
        finally:
            with job.lock:
                job.finished = True
                release = not job.given_up  # a given-up job's slot was handed back already
            if release:
                self.slots.release()

    def result(self, job: _DecodeJob) -> Prepared:
        while True:
            try:
                return job.future.result(timeout=min(1.0, self.timeout_s))
            except FutureTimeout:
                started = job.started
                if not started or time.monotonic() - started < self.timeout_s:
                    continue
            with job.lock:
                give_up = not job.finished
                job.given_up = give_up
            if not give_up:  # it finished just now
                return job.future.result()
            self.slots.release()  # let the next file decode while this one runs on
            self.abandoned += 1
            if self.abandoned > MAX_ABANDONED:
                raise RuntimeError(f"{self.abandoned} files never finished decoding; giving up the run")
            return Prepared(
                job.path, None, None, f"decoding took longer than {self.timeout_s:g} s: given up (file skipped)"
            )

    def close(self, pending: deque[_DecodeJob]) -> None:
        for job in pending:
            job.future.cancel()
        # Given-up decodes may still be running: do not wait for them.
        self.pool.shutdown(wait=self.abandoned == 0, cancel_futures=True)


def iter_scores(
    inspector: Inspector,
    files: Sequence[Path],
    *,
    batch_size: int = 16,
    workers: int = 2,
    should_stop: Callable[[], bool] | None = None,
    max_pixels: int = MAX_PIXELS,
    decode_timeout_s: float = DECODE_TIMEOUT_S,
) -> Iterator[Scored]:
    """Score ``files`` in input order, decoding ahead of the model on ``workers`` threads.

    At most ``2 * batch_size + workers`` images are decoded or decoding at any
    time. ``should_stop`` is checked before each batch; when it returns true
    the iterator ends (rows already yielded stand). Closing the iterator early
    cancels the decoding still queued. A file still decoding ``decode_timeout_s``
    after its decoding began becomes an error row and the run goes on (see
    :class:`_Decoders`).
    """
    if batch_size < 1 or workers < 1:
        raise ValueError("batch_size and workers must be at least 1")
    files = list(files)
    size, spec = inspector.input_size, inspector.spec
    ahead = 2 * batch_size + workers
    decoders = _Decoders(workers, size, max_pixels, decode_timeout_s)
    pending: deque[_DecodeJob] = deque()
    next_file = 0

    def fill() -> None:
        nonlocal next_file
        while next_file < len(files) and len(pending) < ahead:
            pending.append(decoders.submit(files[next_file]))
            next_file += 1

    try:
        for start in range(0, len(files), batch_size):
            if should_stop is not None and should_stop():
                return
            fill()
            batch = [decoders.result(pending.popleft()) for _ in range(min(batch_size, len(files) - start))]
            fill()  # keep the decoders busy while the model runs on this batch
            ok = [p for p in batch if p.array is not None]
            results: list[Inspection] = []
            if ok:
                arrays = np.stack([p.array for p in ok])  # type: ignore[misc]
                try:
                    results = inspector.run(arrays, [p.original_size for p in ok])  # type: ignore[misc]
                except Exception as exc:  # ORT raises several types; say it in words
                    raise ModelError(f"the model failed on a batch of {len(ok)} images: {exc}") from None
            by_path = iter(results)
            for offset, prep in enumerate(batch):
                ins = next(by_path) if prep.array is not None else None
                yield Scored(start + offset, prep.path, row_for(prep.path, ins, prep.error, spec), ins)
    finally:
        decoders.close(pending)


# --- a whole run ------------------------------------------------------------------------------

#: Scores files in input order, one :class:`Scored` per file, ``index`` its place in the
#: files given: ``scorer(files, should_stop)``. :func:`iter_scores` bound to an inspector
#: is the local one; :mod:`fabricscope.engine.ray_engine` provides one that runs on Ray.
Scorer = Callable[[Sequence[Path], Callable[[], bool] | None], Iterator[Scored]]


@dataclass(frozen=True)
class Progress:
    """Where a run stands, for progress bars: ``done`` of ``total`` (resumed rows included)."""

    done: int
    total: int
    images_per_s: float  # this run's scoring rate
    eta_s: float | None  # None until a rate is known
    elapsed_s: float


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

    def count(self, row: dict[str, Any], heads: Sequence[str]) -> None:
        if row.get("status") == "ok":
            self.ok += 1
            if row.get("flagged"):
                self.flagged += 1
            for h in heads:
                if row.get(f"{h}_flag"):
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
) -> Summary:
    """Score ``files`` (from :func:`find_images`) into an optional report; return a Summary.

    ``resume``: rows already in ``report`` are kept and their files skipped.
    ``heatmaps``: a folder for overlay images (``heatmaps_for`` ``"all"`` or
    ``"flagged"``), named by :func:`overlay_names`. ``on_row`` gets every
    newly scored file in order; ``on_progress`` is called after each batch.
    ``scorer``: what scores the files (default: :func:`iter_scores` on this machine).
    Ctrl-C (KeyboardInterrupt) finishes the report before it propagates.
    Raises :class:`report.ReportError` before scoring anything if the report
    or the heatmap folder cannot be written, and ``ModelError`` if the model
    fails at run time (rows scored so far stay in the report). On resume,
    overlays that a kill left unwritten are made again (the report keeps no maps).
    """
    from .heatmap_render import write_overlay  # numpy + Pillow; imported only when used

    if heatmaps_for not in ("all", "flagged"):
        raise ValueError(f"heatmaps_for must be 'all' or 'flagged', got {heatmaps_for!r}")
    spec = inspector.spec
    heads = spec.head_names
    summary = Summary(total=len(files), flagged_per_head=dict.fromkeys(heads, 0))
    names: dict[Path, Path] = {}
    if heatmaps is not None:
        try:
            heatmaps.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"cannot create the heatmap folder {heatmaps}: {exc.strerror or exc}") from None
        names = overlay_names(files, "." + heatmap_format.lower().lstrip("."))
    writer = ReportWriter(report, columns(spec), resume=resume) if report is not None else None
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
            summary.count(row, heads)
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
        if overlay_pool is not None and (heatmaps_for == "all" or inspection.flagged):
            out = heatmaps / names[path]  # type: ignore[operator]
            overlays.append((path, overlay_pool.submit(write_overlay, path, inspection, out, max_pixels=max_pixels)))
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
            summary.count(scored.row, heads)
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


# --- speed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedResult:
    """Model speed on pre-decoded arrays (no file decoding): the ceiling for batch scoring."""

    provider: str
    latency_ms: float  # median time of one image at batch size 1
    images_per_s: dict[int, float]  # throughput per batch size tried

    @property
    def best_batch(self) -> int:
        return max(self.images_per_s, key=lambda b: self.images_per_s[b])

    @property
    def best_images_per_s(self) -> float:
        return self.images_per_s[self.best_batch]


def measure_model_speed(
    inspector: Inspector,
    *,
    batch_sizes: Sequence[int] = (1, 4, 8, 16, 32),
    seconds: float = 1.0,
    seed: int = 0,
) -> SpeedResult:
    """Time the model alone: latency at batch 1 and images/s for each batch size.

    Each measurement warms up once, then repeats for about ``seconds``.
    """
    size = inspector.input_size
    rng = np.random.default_rng(seed)
    biggest = max(batch_sizes)
    arrays = rng.integers(0, 256, (biggest, size, size, 3), dtype=np.uint8)
    rates: dict[int, float] = {}
    latency = 0.0
    for b in batch_sizes:
        batch = arrays[:b]
        inspector.run(batch)  # warm-up: first runs allocate
        times: list[float] = []
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(times) < 3:
            t0 = time.perf_counter()
            inspector.run(batch)
            times.append(time.perf_counter() - t0)
        med = float(np.median(times))
        rates[b] = b / med
        if b == 1:
            latency = med * 1000.0
    if 1 not in rates:
        inspector.run(arrays[:1])
        t0 = time.perf_counter()
        inspector.run(arrays[:1])
        latency = (time.perf_counter() - t0) * 1000.0
    return SpeedResult(provider=inspector.provider, latency_ms=latency, images_per_s=rates)
