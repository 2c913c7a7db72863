"""Batch reports: one row per image, written as it is scored, read back to resume.

The format follows the file suffix:

``.csv``
    A header line, then one line per image. Booleans are ``true``/``false``,
    missing values (an error row has no probabilities) are empty cells; the
    columns and their types are :class:`.row_schema.RowSchema`'s.
``.jsonl``
    One JSON object per line; missing values are ``null``.
``.json``
    One JSON array of row objects. A JSON array cannot be appended to safely,
    so while a run is going the rows stream into a sidecar file
    ``<name>.json.partial.jsonl``; when the run ends (finished, cancelled or
    Ctrl-C) the array is rewritten atomically (temporary file + rename) from
    the rows it already held plus the sidecar, and the sidecar is removed.
    After a hard kill the sidecar is still there and ``--resume`` merges it.

Every row is flushed to the operating system as soon as it is written and
``fsync``-ed once per batch, so killing the process loses no scored row. On
resume a half-written last line (a kill in mid-write) is dropped and its image
scored again; the file is cut back to its last complete line before appending.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .row_schema import RowSchema

FORMATS = (".csv", ".jsonl", ".json")
SIDECAR_SUFFIX = ".partial.jsonl"
# File names that are not valid UTF-8 (possible on Linux) are written back byte for
# byte in CSV (JSON escapes them), so a report never fails on an odd name.
_ERRORS = "surrogateescape"


class ReportError(Exception):
    """A report file that cannot be written or read, with the reason in words."""


def report_format(path: Path) -> str:
    """'.csv', '.jsonl' or '.json' from the path's suffix; ReportError for anything else."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        shown = path.suffix or "(no suffix)"
        raise ReportError(f"unknown report format {shown!r} for {path}; use .csv, .jsonl or .json")
    return suffix


def sidecar_path(path: Path) -> Path:
    """Where a ``.json`` report streams its rows while a run is going."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def check_writable(path: Path) -> None:
    """Raise ReportError unless a report can be created at ``path`` (checked before any scoring)."""
    report_format(path)
    if path.is_dir():
        raise ReportError(f"report path is a folder: {path}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise ReportError(f"the report folder does not exist: {folder}")
    if not folder.is_dir():
        raise ReportError(f"the report folder is not a folder: {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ReportError(f"the report file is read-only: {path}")
    # os.access is unreliable for folders (root, ACLs, read-only mounts): really try.
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".fabricscope-check-", delete=True):
            pass
    except OSError as exc:
        raise ReportError(f"cannot write in the report folder {folder}: {exc.strerror or exc}") from None


def existing_report(path: Path) -> Path | None:
    """The file that holds rows a fresh run at ``path`` would replace, or None.

    A non-empty report, or for ``.json`` the sidecar an interrupted run left
    (its rows are not in the array yet). An empty file holds nothing to lose.
    """
    try:
        if path.is_file() and path.stat().st_size > 0:
            return path
        side = sidecar_path(path)
        if report_format(path) == ".json" and side.is_file() and side.stat().st_size > 0:
            return side
    except OSError:
        return None  # cannot even stat it: check_writable or the writer says why
    return None


# --- reading ----------------------------------------------------------------------------------


def _complete_lines(data: bytes) -> tuple[list[bytes], int]:
    """The complete (newline-terminated) lines of ``data`` and the byte length they span."""
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), end


def _read_jsonl_bytes(data: bytes, where: Path) -> tuple[list[dict[str, Any]], int]:
    """Rows of a JSONL file and the length of its good prefix (a torn last line is dropped)."""
    lines, end = _complete_lines(data)
    rows: list[dict[str, Any]] = []
    good = 0
    for i, line in enumerate(lines):
        step = len(line) + 1
        if not line.strip():
            good += step
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # a torn final line: drop it, re-score its image
                break
            raise ReportError(f"{where}: line {i + 1} is not valid JSON; not resuming from a damaged report") from None
        if not isinstance(obj, dict) or "path" not in obj:
            raise ReportError(f"{where}: line {i + 1} is not a FabricScope report row")
        rows.append(obj)
        good += step
    return rows, min(good, end)


def _read_csv_bytes(data: bytes, where: Path) -> tuple[list[str], list[dict[str, Any]], int]:
    """Header, rows and good-prefix length of a CSV report (a torn last line is dropped)."""
    lines, end = _complete_lines(data)
    if not lines:
        return [], [], 0
    try:
        text = data[:end].decode("utf-8", "surrogateescape")
    except UnicodeDecodeError:
        raise ReportError(f"{where}: not a UTF-8 CSV report") from None
    header = next(csv.reader([lines[0].decode("utf-8", "surrogateescape")]))
    if "path" not in header:
        raise ReportError(f"{where}: the first line is not a FabricScope report header")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    schema = RowSchema.from_columns(header)  # the values' types, from the columns the file was written with
    rows = [schema.from_text(r, header) for r in reader if r.get("path")]
    return header, rows, end


def read_rows(path: Path) -> list[dict[str, Any]]:
    """All complete rows of a report in any format (a ``.json`` report also merges its sidecar)."""
    return _load(path)[1]


def _load(path: Path) -> tuple[list[str], list[dict[str, Any]], int]:
    fmt = report_format(path)
    if fmt == ".json":
        rows: list[dict[str, Any]] = []
        if path.exists() and path.stat().st_size > 0:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ReportError(f"{path}: not a valid JSON report ({exc})") from None
            if not isinstance(data, list) or not all(isinstance(r, dict) and "path" in r for r in data):
                raise ReportError(f"{path}: not a FabricScope report (expected a JSON array of rows)")
            rows = data
        side = sidecar_path(path)
        if side.exists():
            more, _ = _read_jsonl_bytes(side.read_bytes(), side)
            rows = _dedupe(rows + more)
        return [], rows, 0
    if not path.exists():
        return [], [], 0
    data = path.read_bytes()
    if fmt == ".csv":
        return _read_csv_bytes(data, path)
    rows, end = _read_jsonl_bytes(data, path)
    return [], rows, end


def _dedupe(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["path"] not in seen:
            seen.add(r["path"])
            out.append(r)
    return out


def path_key(path: str | Path) -> str:
    """How report paths are matched on resume: absolute and normalised (relative to the cwd)."""
    return os.path.normcase(os.path.abspath(os.fspath(path)))


# --- writing ----------------------------------------------------------------------------------


class ReportWriter:
    """Append rows to a report as they are scored; :meth:`close` finishes the file.

    ``resume=True`` keeps the rows already in the file (see :attr:`previous`)
    and appends after them; otherwise the file is started afresh.
    """

    def __init__(self, path: Path, columns: Sequence[str], *, resume: bool = False) -> None:
        check_writable(path)
        self.path = path
        self.format = report_format(path)
        self.columns = list(columns)
        self.previous: list[dict[str, Any]] = []
        self._closed = False
        self._failed = False
        header: list[str] = []
        good = 0
        if resume:
            header, self.previous, good = _load(path)
            if header and header != self.columns:
                raise ReportError(
                    f"{path} was written with other columns ({', '.join(header)}); "
                    "resume with the same model, or write a new report"
                )
        target = sidecar_path(path) if self.format == ".json" else path
        try:
            if self.format == ".json":
                if not resume:
                    path.unlink(missing_ok=True)  # a fresh run replaces the old array, as for .csv/.jsonl
                # Rows already in the array or the sidecar are carried in `previous`;
                # the sidecar restarts with them so a second kill still loses nothing.
                self._fh = open(target, "w", encoding="utf-8", errors=_ERRORS, newline="")
                for row in self.previous:
                    self._fh.write(json.dumps(row) + "\n")
            elif resume and path.exists():
                os.truncate(target, good)  # drop a torn last line
                self._fh = open(target, "a", encoding="utf-8", errors=_ERRORS, newline="")
            else:
                self._fh = open(target, "w", encoding="utf-8", errors=_ERRORS, newline="")
        except OSError as exc:
            raise ReportError(f"cannot open the report {target}: {exc.strerror or exc}") from None
        self._csv = csv.writer(self._fh, lineterminator="\n") if self.format == ".csv" else None
        if self._csv is not None and not header:
            self._csv.writerow(self.columns)
        self.sync()

    def write(self, row: dict[str, Any]) -> None:
        """Write one row and hand it to the OS at once (a kill after this loses nothing)."""
        try:
            if self._csv is not None:
                self._csv.writerow([RowSchema.to_text(row.get(c)) for c in self.columns])
            else:
                self._fh.write(json.dumps({c: row.get(c) for c in self.columns}) + "\n")
            self._fh.flush()
        except OSError as exc:
            raise self._failure(exc) from None

    def sync(self) -> None:
        """Flush and fsync (called once per batch: survives power loss, not only a kill)."""
        try:
            self._fh.flush()
        except OSError as exc:
            raise self._failure(exc) from None
        try:
            os.fsync(self._fh.fileno())
        except OSError as exc:
            # Some file systems refuse fsync (EINVAL, ENOTSUP): no failure. A full disk or an I/O error is.
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
                raise self._failure(exc) from None

    def _failure(self, exc: OSError) -> ReportError:
        """A write that failed (disk full, I/O error): stop the run, keep every row written before."""
        self._failed = True
        kept = sidecar_path(self.path) if self.format == ".json" else self.path
        return ReportError(
            f"cannot write to the report {self.path}: {exc.strerror or exc}. The rows written before "
            f"are kept in {kept}; make room, then run the same command with --resume"
        )

    def close(self) -> None:
        """Finish the report; for ``.json`` rewrite the array atomically and remove the sidecar.

        After a failed write the file is closed as it stands (a ``.json`` report keeps its sidecar,
        which ``--resume`` merges); closing never hides the first error behind a second one.
        """
        if self._closed:
            return
        self._closed = True
        if self._failed:
            with contextlib.suppress(OSError):
                self._fh.close()
            return
        self.sync()
        self._fh.close()
        if self.format == ".json":
            side = sidecar_path(self.path)
            rows, _ = _read_jsonl_bytes(side.read_bytes(), side)
            try:
                write_json_atomic(self.path, _dedupe(rows))
            except OSError as exc:
                raise ReportError(
                    f"cannot write the report {self.path}: {exc.strerror or exc}. Every row is kept in "
                    f"{side}; make room, then run the same command with --resume"
                ) from None
            side.unlink(missing_ok=True)

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_json_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write a JSON array so that readers see either the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("[\n")
            fh.write(",\n".join(json.dumps(r) for r in rows))
            fh.write("\n]\n" if rows else "]\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
