"""Awkward files and folders through ``fabricscope score``: every file one row, nothing lost, clear refusals.

Unreadable files, symlink loops, odd and very long names, report paths that
cannot be written, a disk that fills up mid-run, the same file named twice.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope import cli
from fabricscope.engine import imaging, report

ROOT = os.geteuid() == 0


def _jpeg(path: Path, seed: int = 0, hole: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(fabric_like(seed, size=96, hole_at=(1, 1) if hole else None)).save(path, "JPEG", quality=90)
    return path


def score(toy_model: Path, *args: str | Path) -> int:
    return cli.main(["score", *map(str, args), "--model", str(toy_model), "--batch-size", "4", "--workers", "1", "-q"])


def names(rows: list[dict]) -> list[str]:
    return [os.path.basename(r["path"]) for r in rows]


# --- unreadable files ------------------------------------------------------------------------------


@pytest.mark.skipif(ROOT, reason="root reads any file whatever its mode; see the simulated test below")
def test_a_file_without_read_permission_is_an_error_row(toy_model: Path, tmp_path: Path) -> None:
    _jpeg(tmp_path / "d" / "a.jpg")
    _jpeg(tmp_path / "d" / "b.jpg").chmod(0)
    out = tmp_path / "r.csv"
    assert score(toy_model, tmp_path / "d", "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert "permission denied" in rows[1]["error"]


def test_a_file_the_os_refuses_to_read_is_an_error_row(
    toy_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated (tests run as root here): opening the file fails as it does for a user without read rights."""
    folder = tmp_path / "d"
    for i in range(5):
        _jpeg(folder / f"{i}.jpg", i)
    locked = folder / "2.jpg"
    real_open = imaging.Image.open

    def refusing_open(fp: object, *args: object, **kw: object) -> Image.Image:
        if isinstance(fp, Path) and fp.name == locked.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(fp))
        return real_open(fp, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(imaging.Image, "open", refusing_open)
    out = tmp_path / "r.jsonl"
    assert score(toy_model, folder, "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert names(rows) == [f"{i}.jpg" for i in range(5)]
    assert [r["status"] for r in rows] == ["ok", "ok", "error", "ok", "ok"]
    assert rows[2]["error"] == "permission denied: the file cannot be read"


def test_a_file_that_vanishes_after_the_scan_is_an_error_row(toy_model: Path, tmp_path: Path) -> None:
    a, b = _jpeg(tmp_path / "a.jpg"), tmp_path / "gone.jpg"
    out = tmp_path / "r.csv"
    # Named explicitly, a missing file is kept (it exists when the CLI checks, is deleted before decoding).
    b.symlink_to(tmp_path / "nowhere.jpg")
    assert score(toy_model, a, b, "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert [r["status"] for r in rows] == ["ok", "error"] and rows[1]["error"] == "file not found"


def test_devices_and_fifos_never_block_a_run(toy_model: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # opening a FIFO for reading would wait forever for a writer
    out = tmp_path / "r.csv"
    assert score(toy_model, _jpeg(tmp_path / "a.jpg"), fifo, "/dev/zero", "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert [r["status"] for r in rows] == ["ok", "error", "error"]
    assert all(r["error"] for r in rows[1:])


def _refuse_listing(monkeypatch: pytest.MonkeyPatch, locked: Path) -> None:
    """Listing ``locked`` fails as it does for a user without the folder's read right (tests run as root)."""
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if os.fspath(path) == os.fspath(locked):  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_subfolder_that_cannot_be_listed_is_a_row_saying_so(
    toy_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "top"
    _jpeg(top / "a.jpg")
    _jpeg(top / "locked" / "hidden.jpg")
    _jpeg(top / "z" / "b.jpg")
    _refuse_listing(monkeypatch, top / "locked")
    out = tmp_path / "r.csv"
    assert score(toy_model, top, "--recursive", "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert names(rows) == ["a.jpg", "locked", "b.jpg"]  # in its place in the scan order
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[1]["error"] == "folder cannot be listed (permission denied): the images in it were not scored"


def test_a_folder_argument_that_cannot_be_listed_is_a_row_not_silence(
    toy_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat = tmp_path / "flat"
    _jpeg(flat / "a.jpg")
    _refuse_listing(monkeypatch, flat)
    out = tmp_path / "r.jsonl"
    score(toy_model, flat, "--out", out)  # without --recursive
    rows = report.read_rows(out)
    assert [(r["status"], r["error"]) for r in rows] == [
        ("error", "folder cannot be listed (permission denied): the images in it were not scored")
    ]


# --- symlinks ------------------------------------------------------------------------------------


def test_symlink_loops_under_recursive_score_each_image_once(toy_model: Path, tmp_path: Path) -> None:
    top = tmp_path / "top"
    _jpeg(top / "a.jpg", 1)
    _jpeg(top / "sub" / "b.jpg", 2)
    (top / "sub" / "back_to_top").symlink_to(top)  # a loop
    (top / "alias").symlink_to(top / "sub")  # the same folder twice
    (top / "self.jpg").symlink_to(top / "self.jpg")  # a link to itself
    (top / "dangling.jpg").symlink_to(tmp_path / "missing.jpg")
    out = tmp_path / "r.csv"
    assert score(toy_model, top, "--recursive", "--out", out) == 0
    rows = report.read_rows(out)
    assert sorted(names(rows)) == ["a.jpg", "b.jpg"]
    assert all(r["status"] == "ok" for r in rows)


def test_a_self_link_named_explicitly_is_an_error_row_in_words(toy_model: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    out = tmp_path / "r.csv"
    assert score(toy_model, loop, _jpeg(tmp_path / "a.jpg"), "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert rows[0]["error"] == "cannot read the file: Too many levels of symbolic links", rows[0]
    assert rows[1]["status"] == "ok"


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_non_utf8_and_very_long_names_round_trip_and_resume(toy_model: Path, tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    odd = [
        os.fsdecode(b"caf\xe9_latin1.jpg"),  # not UTF-8
        os.fsdecode(b"\xff\xfe\xfd.jpg"),
        'comma, "quote"\nnewline.jpg',  # CSV-hostile
        "x" * (255 - 4) + ".jpg",  # the longest name Linux allows
        "ü" * 125 + ".jpg",  # 250 bytes in UTF-8
    ]
    for i, name in enumerate(odd):
        _jpeg(folder / name, i, hole=i % 2 == 1)
    out = tmp_path / f"r{suffix}"
    assert score(toy_model, folder, "--out", out) == 0
    rows = report.read_rows(out)
    assert sorted(names(rows)) == sorted(odd) and all(r["status"] == "ok" for r in rows)
    assert [r["hole_flag"] for r in sorted(rows, key=lambda r: odd.index(os.path.basename(r["path"])))] == [
        i % 2 == 1 for i in range(len(odd))
    ]
    # Resume recognises every odd name as done: nothing is scored twice.
    assert score(toy_model, folder, "--out", out, "--resume") == 0
    assert report.read_rows(out) == rows


def test_the_table_prints_odd_names_without_failing(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    name = os.fsdecode(b"bad\xffname.jpg")
    _jpeg(tmp_path / name)
    assert score(toy_model, tmp_path / name) == 0
    assert "bad\ufffdname.jpg" in capsys.readouterr().out


# --- the report path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/r.csv", "the report folder does not exist"),
        ("a.jpg/r.csv", "the report folder is not a folder"),
        ("r.txt", "unknown report format '.txt'"),
        (".", "unknown report format"),
        ("/proc/fabricscope-report.csv", "cannot write in the report folder /proc"),
    ],
)
def test_a_report_that_cannot_be_written_is_refused_before_any_scoring(
    toy_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    message: str,
) -> None:
    _jpeg(tmp_path / "a.jpg")
    monkeypatch.chdir(tmp_path)
    scored: list[object] = []
    monkeypatch.setattr(cli.batch, "score_folder", lambda *a, **k: scored.append(a))
    assert score(toy_model, tmp_path / "a.jpg", "--out", where) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert not scored


@pytest.mark.skipif(ROOT, reason="root writes in read-only folders; the /proc case above covers a refusing folder")
def test_a_read_only_report_folder_is_refused(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert score(toy_model, _jpeg(tmp_path / "a.jpg"), "--out", ro / "r.csv") == 2
    assert "cannot write in the report folder" in capsys.readouterr().err


class FillingDisk(io.TextIOBase):
    """A report file on a disk with ``room`` bytes left: bytes past it are lost and flush fails with ENOSPC."""

    def __init__(self, real: io.TextIOWrapper, room: int) -> None:
        self.real, self.room = real, room

    def write(self, text: str) -> int:
        fits = text[: max(0, self.room)]
        self.room -= len(text)
        self.real.write(fits)
        return len(text)

    def flush(self) -> None:
        self.real.flush()
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_disk_full_stops_the_run_in_words_keeps_the_rows_and_resumes(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    folder = tmp_path / "imgs"
    for i in range(30):
        _jpeg(folder / f"{i:02d}.jpg", i, hole=i % 5 == 0)
    full = tmp_path / f"full{suffix}"
    assert score(toy_model, folder, "--out", full) == 0
    expected = report.read_rows(full)

    real_open = open
    monkeypatch.setattr(report, "open", lambda *a, **k: FillingDisk(real_open(*a, **k), 2500), raising=False)
    out = tmp_path / f"r{suffix}"
    assert score(toy_model, folder, "--out", out) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "--resume" in err and "Traceback" not in err, err
    monkeypatch.undo()

    kept = report.read_rows(out)
    assert 0 < len(kept) < 30
    assert kept == expected[: len(kept)]  # every row written before the disk filled, each intact
    assert score(toy_model, folder, "--out", out, "--resume") == 0
    assert report.read_rows(out) == expected


# --- the same file twice ---------------------------------------------------------------------------


def test_the_same_file_named_twice_is_scored_once(
    toy_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = _jpeg(tmp_path / "imgs" / "a.jpg", 1)
    _jpeg(tmp_path / "imgs" / "b.jpg", 2)
    (tmp_path / "link.jpg").symlink_to(a)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.csv"
    assert score(toy_model, "imgs/a.jpg", "imgs/../imgs/a.jpg", a, "link.jpg", "imgs", "imgs/", "--out", out) == 0
    rows = report.read_rows(out)
    assert names(rows) == ["a.jpg", "b.jpg"]


def test_an_empty_folder_is_refused_with_a_hint(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _jpeg(tmp_path / "top" / "sub" / "a.jpg")
    assert score(toy_model, tmp_path / "top") == 2
    err = capsys.readouterr().err
    assert "no image files found" in err and "add --recursive" in err


def test_a_corrupt_image_among_many_loses_nothing_else(toy_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    for i in range(12):
        _jpeg(folder / f"{i:02d}.jpg", i)
    (folder / "05.jpg").write_bytes(np.random.default_rng(5).bytes(3000))
    out = tmp_path / "r.csv"
    assert score(toy_model, folder, "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert len(rows) == 12 and [r["status"] for r in rows].count("error") == 1 and rows[5]["status"] == "error"
