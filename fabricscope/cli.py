"""The ``fabricscope`` command: score folders, show the model card, time the model, make data, open the GUI.

Sub-commands: ``score``, ``info``, ``bench``, ``synth``, ``gui``; no
sub-command (or only options, e.g. ``fabricscope --demo``) opens the GUI with
those options. Qt is imported only by ``gui``.

Exit codes (``score``; the other commands use 0 and 2), first match wins:
2 bad usage, an unusable model or report path, an existing report without
``--resume``/``--overwrite``, or nothing to inspect (no path exists, no images found);
130 interrupted (Ctrl-C or SIGTERM), after the report is flushed;
3 some input could not be inspected (an error row: unreadable, corrupt, missing...),
whether or not ``--fail-on-defect`` is given: a gate never passes what it did not see;
1 ``--fail-on-defect`` and some image was flagged; 0 done, every input inspected.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .engine import batch, decode_pool, discovery, pipeline, providers, ray_engine, speed
from .engine.imaging import MAX_PIXELS
from .engine.inspector import DEFAULT_MODEL, Inspector, ModelError
from .engine.report import ReportError, check_writable, existing_report
from .engine.row_schema import RowSchema
from .engine.summary import Summary, duration_text
from .engine.thresholds import Thresholds
from .synth.renderers import RENDERERS

EXIT_OK, EXIT_FLAGGED, EXIT_USAGE, EXIT_NOT_INSPECTED = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141


class UsageError(Exception):
    """Bad arguments found after parsing (exit code 2, message printed)."""


# --- parser -----------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _path_or_uri(text: str) -> Path | str:
    """A local path, or a URI kept as text (Path would fold its '//')."""
    return text if ray_engine.is_uri(text) else Path(text)


def _threshold(text: str) -> tuple[str, float]:
    head, sep, value = text.partition("=")
    if not sep or not head.strip():
        # `score --threshold hole=0.3 imgs/` takes the folder for a threshold: say how to avoid it.
        raise argparse.ArgumentTypeError(
            f"expected HEAD=VALUE (e.g. hole=0.3), got {text!r} (paths go before --threshold, or after a lone --)"
        )
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"threshold for {head!r} is not a number: {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"threshold for {head!r} must be between 0 and 1, got {number}")
    return head.strip(), number


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="ONNX model file (default: the shipped model)")
    p.add_argument("--provider", default="auto", type=str.lower, choices=providers.CHOICES, help="execution provider")
    p.add_argument("--threads", type=_positive_int, default=None, help="ONNX Runtime intra-op threads (default: all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fabricscope",
        description="Fabric inspection with a two-head ONNX model (holes: max pooling, wrinkles: average pooling).",
        epilog="Without a command, the desktop app opens.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"fabricscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    score = sub.add_parser(
        "score",
        help="score images and folders, write a report",
        description=_SCORE_HELP,
        epilog=_SCORE_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument(
        "paths", nargs="+", type=_path_or_uri, metavar="PATH", help="image files and/or folders (--engine ray: or URIs)"
    )
    score.add_argument("-r", "--recursive", action="store_true", help="include subfolders")
    score.add_argument("-o", "--out", type=Path, help="report file: .csv, .jsonl or .json (default: table on stdout)")
    score.add_argument("--resume", action="store_true", help="keep the rows already in --out, score only the rest")
    score.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out report (without it, one is refused)"
    )
    score.add_argument("--heatmaps", type=Path, metavar="DIR", help="write a heatmap overlay per image into DIR")
    score.add_argument("--heatmap-format", choices=("jpg", "png"), default="jpg", help="overlay format (default: jpg)")
    score.add_argument(
        "--heatmaps-for", choices=("all", "flagged"), default="all", help="overlays for all images or flagged ones"
    )
    score.add_argument(
        "--threshold",
        type=_threshold,
        nargs="+",
        action="extend",
        default=[],
        metavar="HEAD=VALUE",
        help="per-head threshold, e.g. --threshold hole=0.3 wrinkle=0.9 (or the flag repeated)",
    )
    score.add_argument("--batch-size", type=_positive_int, default=16, help="images per model run (default: 16)")
    workers = min(4, os.cpu_count() or 2)
    score.add_argument(
        "--workers", type=_positive_int, default=workers, help=f"decoding threads (default: {workers}, cores up to 4)"
    )
    score.add_argument(
        "--max-megapixels",
        type=float,
        default=MAX_PIXELS / 1e6,
        help=f"refuse larger images as possible decompression bombs (default: {MAX_PIXELS / 1e6:.0f})",
    )
    score.add_argument(
        "--decode-timeout",
        type=float,
        default=decode_pool.DECODE_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up a file still decoding after this long: an error row (default: {decode_pool.DECODE_TIMEOUT_S:g})",
    )
    score.add_argument(
        "--fail-on-defect",
        action="store_true",
        help="exit with code 1 when any image is flagged (3, not 0, when some input could not be inspected)",
    )
    score.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary on stderr")
    score.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: Ray Data, on a local Ray or a cluster (the 'cluster' extra)",
    )
    score.add_argument(
        "--address", metavar="ADDR", help="--engine ray: join this Ray cluster (default: start a local Ray)"
    )
    score.add_argument(
        "--num-gpus", type=float, default=0.0, metavar="N", help="--engine ray: GPUs per inference actor (0: CPU)"
    )
    _model_args(score)

    info = sub.add_parser("info", help="show the model card and the execution providers here")
    _model_args(info)
    info.add_argument("--json", action="store_true", help="print the model spec as JSON")

    bench = sub.add_parser("bench", help="time the model: latency at batch 1, throughput at the best batch size")
    _model_args(bench)
    bench.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default: 2)")
    bench.add_argument(
        "--batch-sizes", type=_positive_int, nargs="+", default=[1, 2, 4, 8, 16, 32], metavar="N", help="sizes to try"
    )

    synth = sub.add_parser("synth", help="write a labelled synthetic fabric data set")
    synth.add_argument("out", type=Path, metavar="OUT", help="output folder")
    synth.add_argument("--n", type=_positive_int, required=True, help="number of images")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    synth.add_argument("--size", type=_positive_int, default=224, help="image side in pixels (default: 224)")
    synth.add_argument(
        "--renderer",
        choices=RENDERERS,
        default="training",
        help="training: the model's own generator; varied: with blotch prints and crumpled ripples; "
        "other: the independent spectral renderer the model never trained on (default: training)",
    )

    gui = sub.add_parser("gui", help="open the desktop app (the default)", add_help=False)
    gui.add_argument("gui_args", nargs=argparse.REMAINDER, help="arguments for the app (see: fabricscope gui --help)")
    return parser


_SCORE_HELP = """Score image files and folders. One row per file: a file that cannot be read
becomes an error row and the run goes on. Rows are written as they are scored;
after an interruption, run the same command with --resume to score the rest.
A path that does not exist is an error row too (unless no path exists at all)."""

_SCORE_EXIT_CODES = """exit codes (first match wins):
  2    bad usage, unusable model or report path, an existing report without
       --resume or --overwrite, nothing to inspect (no path exists, no images)
  130  interrupted (Ctrl-C, SIGTERM); the report keeps every row scored so far
  3    some input could not be inspected (an error row), with or without --fail-on-defect
  1    --fail-on-defect and an image was flagged
  0    done: every input inspected (and, with --fail-on-defect, none flagged)"""


# --- helpers ----------------------------------------------------------------------------------


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _open_inspector(args: argparse.Namespace) -> Inspector:
    try:
        inspector = Inspector(args.model, provider=args.provider, threads=args.threads)
    except ModelError as exc:
        message = str(exc)
        if Path(args.model) == DEFAULT_MODEL and not DEFAULT_MODEL.exists():
            message += " (the shipped model is made by `make model`; or pass --model FILE)"
        raise UsageError(message) from None
    if inspector.provider_report.note:
        _err(f"note: {inspector.provider_report.note}")
    return inspector


class ProgressPrinter:
    """A bar redrawn in place on a terminal; otherwise a plain line every ``every`` images."""

    def __init__(self, stream: TextIO, every: int = 100) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every
        self._last_line = 0
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, p: batch.Progress) -> None:
        text = f"{p.done}/{p.total} images  {p.images_per_s:.1f}/s  ETA {duration_text(p.eta_s, compact=True)}"
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and p.done < p.total:
                return
            self._last_draw = now
            width = 30
            filled = int(width * p.done / p.total) if p.total else width
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif p.done - self._last_line >= self.every or (p.done == p.total and self._last_line):
            self._last_line = p.done
            print(f"scored {text}", file=self.stream, flush=True)

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


class Table:
    """Rows as a readable fixed-width table on stdout, printed as they are scored."""

    def __init__(self, heads: Sequence[Any], files: Sequence[Path], stream: TextIO) -> None:
        self.heads = heads
        self.schema = RowSchema(tuple(h.name for h in heads))
        self.stream = stream
        self.path_width = max(12, min(60, max((len(str(f)) for f in files), default=4)))
        self.head_width = [max(len(f"{h.name}({h.pooling})"), 6 + len(h.labels[1])) for h in heads]
        cols = [f"{h.name}({h.pooling})".ljust(w) for h, w in zip(heads, self.head_width, strict=True)]
        print(f"{'path'.ljust(self.path_width)}  {'  '.join(cols)}  result", file=stream, flush=True)

    def _path(self, text: str) -> str:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # printable whatever the name
        if len(text) > self.path_width:
            text = "…" + text[-(self.path_width - 1) :]
        return text.ljust(self.path_width)

    def row(self, scored: pipeline.Scored) -> None:
        row = scored.row
        if row["status"] != "ok":
            cells = ["-".ljust(w) for w in self.head_width]
            result = f"error: {row['error']}"
        else:
            cells = []
            for h, w in zip(self.heads, self.head_width, strict=True):
                mark = f" {h.labels[1].upper()}" if self.schema.flag(row, h.name) else ""
                cells.append(f"{self.schema.prob(row, h.name):.3f}{mark}".ljust(w))
            flagged = self.schema.flagged_heads(row)
            result = f"FLAGGED ({', '.join(flagged)})" if flagged else "ok"
        print(f"{self._path(row['path'])}  {'  '.join(cells)}  {result}", file=self.stream, flush=True)


# --- commands ---------------------------------------------------------------------------------


def _start_ray(
    args: argparse.Namespace, inspector: Inspector, thresholds: Thresholds, cluster: contextlib.ExitStack
) -> ray_engine.RayScorer:
    """Start a local Ray or join ``--address`` (closed with ``cluster``); the scorer that runs there."""
    if not args.quiet:
        _err(f"ray: joining the cluster at {args.address}" if args.address else "ray: starting a local Ray")
    try:
        cluster.enter_context(ray_engine.ray_session(args.address))
    except ray_engine.ClusterError as exc:
        raise UsageError(str(exc)) from None
    return ray_engine.RayScorer(
        inspector,
        provider=args.provider,
        threads=args.threads,
        num_gpus=args.num_gpus,
        batch_size=args.batch_size,
        max_pixels=int(args.max_megapixels * 1e6),
        thresholds=thresholds,
    )


def _check_engine_args(args: argparse.Namespace) -> None:
    uris = [p for p in args.paths if ray_engine.is_uri(p)]
    if args.engine != "ray":
        if uris:
            raise UsageError(f"URIs are read by --engine ray only: {uris[0]}")
        if args.address or args.num_gpus:
            raise UsageError("--address and --num-gpus need --engine ray")
    if args.num_gpus < 0:
        raise UsageError("--num-gpus must be 0 or more")
    if uris and args.heatmaps is not None:
        raise UsageError("--heatmaps needs local files (overlays are drawn from the image on this machine)")


def cmd_score(args: argparse.Namespace) -> int:
    _check_engine_args(args)
    if args.resume and args.out is None:
        raise UsageError("--resume needs --out (the report to resume)")
    if args.overwrite and args.out is None:
        raise UsageError("--overwrite needs --out (the report to replace)")
    if args.resume and args.overwrite:
        raise UsageError("--resume keeps the report's rows and --overwrite replaces them: give one of them")
    if args.max_megapixels <= 0:
        raise UsageError("--max-megapixels must be positive")
    if args.decode_timeout <= 0:
        raise UsageError("--decode-timeout must be positive")
    if args.out is not None:
        try:
            check_writable(args.out)
        except ReportError as exc:
            raise UsageError(str(exc)) from None
        held = existing_report(args.out)
        if held is not None and not (args.resume or args.overwrite):
            raise UsageError(
                f"the report {held} already exists: add --resume to keep its rows and score only the rest, "
                "or --overwrite to replace it"
            )
    inspector = _open_inspector(args)
    thresholds = Thresholds.of(inspector.spec)
    for head, value in args.threshold:
        try:
            thresholds = thresholds.with_(head, value)
        except KeyError:
            heads = ", ".join(thresholds)
            raise UsageError(f"--threshold: this model has no head {head!r} (heads: {heads})") from None
    try:
        files = (ray_engine.find_inputs if args.engine == "ray" else discovery.find_images)(args.paths, args.recursive)
    except ray_engine.ClusterError as exc:
        raise UsageError(str(exc)) from None
    missing = [str(p) for p in args.paths if _missing(p)]
    if not files or all(_missing(f) for f in files):
        # Nothing that exists to inspect: a usage error. A missing path beside real inputs is an error row.
        problems = ["no such file or folder: " + ", ".join(missing)] if missing else []
        folders = [str(p) for p in args.paths if not _missing(p)]
        if folders:
            hint = "" if args.recursive else " (add --recursive to look in subfolders)"
            problems.append("no image files found in: " + ", ".join(folders) + hint)
        raise UsageError("; ".join(problems))
    if missing and not args.quiet:
        _err("warning: no such file or folder: " + ", ".join(missing) + " (an error row each; exit code 3)")

    table = Table(inspector.spec.heads, files, sys.stdout) if args.out is None else None
    progress = ProgressPrinter(sys.stderr) if not args.quiet else None
    scored = 0

    def on_row(s: pipeline.Scored) -> None:
        nonlocal scored
        scored += 1
        if table is not None:
            if progress is not None:
                progress.finish()  # do not print a row through the middle of the bar
            table.row(s)

    cluster = contextlib.ExitStack()  # a Ray started for this run is shut down at its end
    scorer = _start_ray(args, inspector, thresholds, cluster) if args.engine == "ray" else None
    try:
        summary = batch.score_folder(
            inspector,
            files,
            report=args.out,
            resume=args.resume,
            heatmaps=args.heatmaps,
            heatmap_format=args.heatmap_format,
            heatmaps_for=args.heatmaps_for,
            batch_size=args.batch_size,
            workers=args.workers,
            max_pixels=int(args.max_megapixels * 1e6),
            decode_timeout_s=args.decode_timeout,
            on_row=on_row,
            on_progress=progress,
            scorer=scorer,
            thresholds=thresholds,
        )
    except (ReportError, ModelError, ray_engine.ClusterError) as exc:
        if progress is not None:
            progress.finish()
        if args.out is not None and scored:
            _err(f"{scored} images were scored before this; they are in {args.out} (rerun with --resume)")
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        if progress is not None:
            progress.finish()
        kept = f"; the report {args.out} holds every row scored so far, rerun with --resume" if args.out else ""
        _err(f"interrupted after {scored} images{kept}")
        return EXIT_INTERRUPTED
    finally:
        cluster.close()
    if progress is not None:
        progress.finish()
    if not args.quiet:
        for line in summary.lines():
            _err(line)
        for e in summary.error_rows[:5]:
            _err(f"  error: {e['path']}: {e['error']}")
        if len(summary.error_rows) > 5:
            _err(f"  ... {summary.errors - 5} more error rows")
        for e in summary.heatmap_errors[:5]:
            _err(f"  heatmap failed: {e}")
        if scorer is not None:
            _err("ray: inference ran on " + (", ".join(sorted(scorer.providers_used)) or "no image"))
        if args.out is not None:
            _err(f"report: {args.out}")
    return score_exit_code(summary, fail_on_defect=args.fail_on_defect)


def score_exit_code(summary: Summary, *, fail_on_defect: bool) -> int:
    """3 if any input could not be inspected (resumed error rows included), else 1 if
    ``fail_on_defect`` and any image was flagged, else 0.

    Not inspected comes first: a quality gate must never pass, nor report as merely
    "defective", a run that left inputs unseen; the flagged count is in the summary.
    """
    if summary.errors:
        return EXIT_NOT_INSPECTED
    if fail_on_defect and summary.flagged:
        return EXIT_FLAGGED
    return EXIT_OK


def _missing(p: Path | str) -> bool:
    """A local path that names nothing (a dangling symlink is not missing: its row says why)."""
    return not ray_engine.is_uri(p) and not Path(p).exists() and not Path(p).is_symlink()


# --- info: the model card as text -------------------------------------------------------------

#: Card keys shown in their own places (not again under "about the model").
_CARD_SHOWN = ("name", "version", "license", "limits", "thresholds", "calibration")
#: Per-head figures put in a head-by-metric table, in this order (others follow as they come).
_HEAD_METRICS = ("auroc", "threshold", "accuracy", "recall", "false_alarm_rate")
#: The operating point named beside a head's threshold, when the card evaluated that threshold.
_OPERATING_POINT = ("recall", "false_alarm_rate", "accuracy")


def _number(value: Any) -> str:
    """A figure as a person reads it: 0.4499523 -> 0.45, 956800 -> 956800, True -> yes."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.1f}"
    return str(value)


def _label(key: str) -> str:
    return key.replace("_", " ")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _inline(value: Any) -> str:
    """A scalar or a list of scalars on one line."""
    if isinstance(value, list):
        return ", ".join(_number(v) for v in value) if value else "(none)"
    return "-" if value is None else _number(value)


def _wrap(text: str, indent: str, width: int, first: str = "") -> list[str]:
    """``first`` then ``text`` wrapped at ``width``, continuation lines under the text's start."""
    hang = indent + " " * len(first)
    return textwrap.wrap(
        text, width=max(width, len(hang) + 20), initial_indent=indent + first, subsequent_indent=hang
    ) or [indent + first.rstrip()]


def _key_values(items: Sequence[tuple[str, Any]], indent: str, width: int) -> list[str]:
    """Aligned ``key: value`` lines (values wrapped under themselves)."""
    if not items:
        return []
    pad = min(max(len(k) for k, _ in items) + 2, 34)
    lines: list[str] = []
    for key, value in items:
        lines += _wrap(_inline(value), indent, width, f"{key + ':':<{pad}}" if len(key) + 2 <= pad else f"{key}: ")
    return lines


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return indent + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _uniform_records(value: dict[str, Any]) -> list[str] | None:
    """The column names if ``value`` maps names to flat dicts of scalars (a small table), else None."""
    if not value or not all(isinstance(v, dict) and v and all(_scalar(x) for x in v.values()) for v in value.values()):
        return None
    columns: list[str] = []
    for v in value.values():
        columns += [k for k in v if k not in columns]
    return columns if len(columns) <= 8 else None


def _figures(value: dict[str, Any], indent: str, width: int, heads: Sequence[str] = ()) -> list[str]:
    """Nested figures as text: per-head metrics as a table, flat entries as ``key: value``,
    dicts of records as small tables, other dicts as indented sub-sections."""
    lines: list[str] = []
    rest = dict(value)
    metrics: list[str] = []
    if heads:
        for key, v in value.items():
            for h in heads:
                m = key[len(h) + 1 :] if key.startswith(h + "_") else ""
                numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
                if (
                    m
                    and numeric
                    and m not in metrics
                    and all(isinstance(value.get(f"{g}_{m}"), (int, float)) for g in heads)
                ):
                    metrics.append(m)
        metrics.sort(key=lambda m: _HEAD_METRICS.index(m) if m in _HEAD_METRICS else len(_HEAD_METRICS))
        metrics = metrics[:7]  # a table that fits a terminal; the rest are listed below it
    if metrics:
        rows = [[h, *(_number(value[f"{h}_{m}"]) for m in metrics)] for h in heads]
        lines += _table(["head", *(_label(m) for m in metrics)], rows, indent)
        for h in heads:
            for m in metrics:
                rest.pop(f"{h}_{m}", None)
    flat = [(k, v) for k, v in rest.items() if _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))]
    lines += _key_values(flat, indent, width)
    for key, v in rest.items():
        if isinstance(v, dict):
            columns = _uniform_records(v)
            lines.append(f"{indent}{key}:")
            if columns is not None:
                rows = [[name, *(_inline(rec.get(c)) for c in columns)] for name, rec in v.items()]
                lines += _table(["", *columns], rows, indent + "  ")
            else:
                lines += _figures(v, indent + "  ", width)
        elif isinstance(v, list) and not all(_scalar(x) for x in v):
            lines.append(f"{indent}{key}:")
            for item in v:
                if isinstance(item, dict):
                    sub = _figures(item, indent + "    ", width)
                    lines += [f"{indent}  - {sub[0].strip()}", *sub[1:]] if sub else []
                else:
                    lines += _wrap(_inline(item), indent + "  ", width, "- ")
    return lines


def _evaluation_sets(card: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Card entries that hold figures: ``validation`` and every ``evaluation*`` dict, in card order."""
    return [
        (k, v) for k, v in card.items() if isinstance(v, dict) and (k == "validation" or k.startswith("evaluation"))
    ]


def _operating_point(head: Any, sets: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """'on the evaluation set: recall 0.89, ...' where a set of figures measured this very threshold."""
    for name, figures in sets:
        measured = figures.get(f"{head.name}_threshold")
        if not isinstance(measured, (int, float)) or abs(measured - head.threshold) > 5e-4:
            continue
        parts = [
            f"{_label(m)} {_number(figures[f'{head.name}_{m}'])}"
            for m in _OPERATING_POINT
            if isinstance(figures.get(f"{head.name}_{m}"), (int, float))
        ]
        if parts:
            return f"on the {name} set: {', '.join(parts)}"
    return ""


def _chosen_for(head: Any, card: dict[str, Any]) -> str:
    """The operating point a head's threshold was chosen for, where the card's calibration records it."""
    cal = card.get("calibration")
    point = cal.get(head.name, {}).get("operating_point") if isinstance(cal, dict) else None
    if not isinstance(point, dict) or not isinstance(point.get("threshold"), (int, float)):
        return ""
    if abs(point["threshold"] - head.threshold) > 5e-4:
        return ""  # the file's threshold was changed after calibration
    where = f" on {point['chosen_on']}" if point.get("chosen_on") else ""
    return f"{point.get('rule', 'its operating point')}{where}"


def model_card_lines(inspector: Inspector, available: Sequence[str], *, width: int = 100) -> list[str]:
    """``fabricscope info`` as lines: the model, its heads, each evaluation set, limits, the rest
    of the card, the providers. Every card key is optional (a user's own model may carry none)."""
    spec = inspector.spec
    card = dict(spec.card)
    heads = [h.name for h in spec.heads]
    sets = _evaluation_sets(card)
    cells = spec.input_size // spec.stride
    title = str(card.get("name") or inspector.path.name)
    if card.get("version") is not None:
        title += f", version {card['version']}"
    lines = [title]
    basics: list[tuple[str, Any]] = [
        ("model file", str(inspector.path)),
        ("contract", f"version {spec.contract_version}"),
        ("input", f"{spec.input_size}x{spec.input_size} RGB uint8 -> maps {cells}x{cells}"),
        ("one map cell", f"stride {spec.stride} px, receptive field {spec.receptive_field} px (model input pixels)"),
    ]
    if card.get("license") is not None:
        basics.append(("license", card["license"]))
    lines += _key_values(basics, "  ", width)

    lines += ["", "heads"]
    name_w = max(len(h) for h in heads)
    for h in spec.heads:
        point = _operating_point(h, sets)
        threshold = _number(round(h.threshold, 4)) + (f" — {point}" if point else "")
        chosen = _chosen_for(h, card)
        if chosen:
            threshold += f" (chosen for {chosen})"
        lines += _wrap(h.display_title, "  ", width, f"{h.name:<{name_w}}  ")
        lines += _key_values(
            [
                ("labels", f"{h.labels[0]} (fine) / {h.labels[1]} (defect)"),
                ("threshold", threshold),
                ("outputs", f"{h.map_output}, {h.prob_output}"),
            ],
            "  " + " " * (name_w + 2),
            width,
        )

    for name, figures in sets:
        lines += ["", f"figures: {name}"]
        lines += _figures(figures, "  ", width, heads)

    limits = card.get("limits")
    if limits:
        lines += ["", "limits"]
        if isinstance(limits, list):
            for item in limits:
                lines += _wrap(_inline(item) if _scalar(item) else json.dumps(item), "  ", width, "- ")
        elif isinstance(limits, dict):
            lines += _figures(limits, "  ", width)
        else:
            lines += _wrap(str(limits), "  ", width)

    thresholds = card.get("thresholds")
    same = isinstance(thresholds, dict) and all(
        isinstance(thresholds.get(h.name), (int, float)) and abs(thresholds[h.name] - h.threshold) < 1e-9
        for h in spec.heads
    )
    about = {k: v for k, v in card.items() if k not in _CARD_SHOWN and not any(k == s for s, _ in sets)}
    if thresholds is not None and not same:
        about["thresholds"] = thresholds
    if about:
        lines += ["", "about the model"]
        lines += _figures(about, "  ", width)

    lines += ["", "execution providers"]
    lines += _key_values([("available here", list(available)), ("this session", inspector.provider)], "  ", width)
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    inspector = _open_inspector(args)
    spec = inspector.spec
    if args.json:
        data = {
            "model": str(inspector.path),
            "contract": spec.contract_version,
            "input_size": spec.input_size,
            "stride": spec.stride,
            "receptive_field": spec.receptive_field,
            "heads": [h.to_json() for h in spec.heads],
            "card": dict(spec.card),
            "providers_available": providers.available(),
            "provider_used": inspector.provider,
        }
        print(json.dumps(data, indent=2))
        return EXIT_OK
    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 120)
    for line in model_card_lines(inspector, providers.available(), width=width):
        print(line)
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    inspector = _open_inspector(args)
    sizes = sorted(set(args.batch_sizes) | {1})
    where = f"{inspector.provider}, input {inspector.input_size}px, {os.cpu_count()} cores"
    print(f"model {inspector.path.name} on {where}")
    result = speed.measure_model_speed(inspector, batch_sizes=sizes, seconds=args.seconds)
    for b in sizes:
        print(f"  batch {b:>3}: {result.images_per_s[b]:8.1f} images/s")
    print(f"latency at batch 1: {result.latency_ms:.2f} ms")
    print(f"best throughput: {result.best_images_per_s:.1f} images/s at batch {result.best_batch}")
    return EXIT_OK


def cmd_synth(args: argparse.Namespace) -> int:
    try:
        from .synth import write_dataset
    except ImportError as exc:
        raise UsageError(f"the synthetic data generator is not available: {exc}") from None
    try:
        labels = write_dataset(args.out, args.n, seed=args.seed, size=args.size, renderer=args.renderer)
    except ValueError as exc:  # a size the generator cannot render: checked before any file is written
        raise UsageError(str(exc)) from None
    print(f"wrote {args.n} images to {args.out}; labels: {labels}")
    return EXIT_OK


def cmd_gui(argv: list[str]) -> int:
    try:
        from .gui.app import main as gui_main  # Qt is imported here and only here
    except ImportError as exc:
        _err(f"error: the desktop app cannot start: {exc}")
        return EXIT_USAGE
    return int(gui_main(argv) or 0)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "gui":
        return cmd_gui(argv[1:])
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return cmd_gui(argv)  # options before any command are the app's (`fabricscope --demo`)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code or 0)
    commands = {"score": cmd_score, "info": cmd_info, "bench": cmd_bench, "synth": cmd_synth}
    # SIGTERM (kill) ends a run like Ctrl-C: the report is finished before exiting.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    try:
        return commands[args.command](args)
    except UsageError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (e.g. `| head`): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
