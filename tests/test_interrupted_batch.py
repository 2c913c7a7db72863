"""``kill -9`` a ``fabricscope score --out`` run at seeded random points, then ``--resume``, several times over.

After every kill the report reads back cleanly and holds a prefix of the
uninterrupted run's rows; after the last resume it holds every image exactly
once and equals the uninterrupted run, row for row (csv, jsonl and json).
Kills land anywhere: during start-up, while a resumed run loads and trims the
report, in mid-row. Seeds are fixed, so a failure can be replayed. A long run:
``FABRICSCOPE_KILLS=25 python -m pytest -s tests/test_interrupted_batch.py`` (``-s`` shows each kill).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope import cli
from fabricscope.engine import report

KILLS = int(os.environ.get("FABRICSCOPE_KILLS", "4"))  # kills per format; more for a long run
N_IMAGES = max(48, 12 * KILLS)  # enough rows that every kill lands before the run ends
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Images slow enough to decode one at a time that a run lasts a second or two; two broken files among them."""
    root = tmp_path_factory.mktemp("interrupted")
    sources = []
    for k in range(4):
        src = root / f"src_{k}.png"
        img = Image.fromarray(fabric_like(k, hole_at=(k + 2, k) if k % 2 else None)).resize((700, 700))
        img.save(src, compress_level=1)
        sources.append(src)
    imgs = root / "imgs"
    imgs.mkdir()
    for i in range(N_IMAGES):
        shutil.copyfile(sources[i % 4], imgs / f"{i:03d}.png")
    (imgs / "017_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (imgs / "033_empty.jpg").write_bytes(b"")
    return imgs


def _cmd(toy_model: Path, folder: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "fabricscope", "score", str(folder), "--model", str(toy_model), "--out", str(out),
            "--batch-size", "2", "--workers", "1", "--threads", "1", "-q", *extra]  # fmt: skip


def _lines(path: Path) -> int:
    """Rows on disk so far (a .json report streams into its sidecar while running)."""
    target = report.sidecar_path(path) if path.suffix == ".json" else path
    try:
        return target.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _kill_at(proc: subprocess.Popen, out: Path, rows: int, delay: float) -> bool:
    """SIGKILL ``proc`` once the report has ``rows`` lines, ``delay`` s later. False if it finished first."""
    deadline = time.monotonic() + 60
    while _lines(out) < rows:
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the run wrote no more rows for 60 s (stuck at {_lines(out)})")
        time.sleep(0.002)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


@pytest.mark.parametrize(("suffix", "seed"), [(".csv", 11), (".jsonl", 22), (".json", 33)])
def test_kill_9_then_resume_equals_an_uninterrupted_run(
    toy_model: Path, folder: Path, tmp_path: Path, suffix: str, seed: int
) -> None:
    full = tmp_path / f"full{suffix}"
    # the folder holds broken files: not all inspected, exit 3
    assert cli.main(["score", str(folder), "--model", str(toy_model), "--out", str(full), "-q"]) == 3
    expected = report.read_rows(full)
    assert len(expected) == N_IMAGES + 2 and sum(r["status"] == "error" for r in expected) == 2

    rng = np.random.default_rng(seed)
    out = tmp_path / f"killed{suffix}"
    kills = 0
    for attempt in range(KILLS):
        done = len(report.read_rows(out)) if out.exists() or report.sidecar_path(out).exists() else 0
        # A kill point: some rows further on (0: while starting or loading the report), then a few ms more.
        rows_at = done + int(rng.integers(0, 10)) + (1 if suffix == ".csv" and attempt == 0 else 0)  # csv: header
        delay = float(rng.uniform(0.0, 0.03))
        extra = ("--resume",) if attempt else ()
        proc = subprocess.Popen(_cmd(toy_model, folder, out, *extra), stderr=subprocess.PIPE, env=ENV)
        try:
            killed = _kill_at(proc, out, rows_at, delay)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            if proc.stderr is not None:
                proc.stderr.close()
        kills += killed
        kept = report.read_rows(out) if (out.exists() or report.sidecar_path(out).exists()) else []
        print(f"{suffix} kill {attempt + 1}: at >= {rows_at} lines + {delay * 1000:.0f} ms, {len(kept)} rows kept")
        assert kept == expected[: len(kept)], f"after kill {attempt + 1}: not a prefix of the full run"
        if not killed:
            break
    assert kills >= 2, "the runs finished before they could be killed: make the images slower to decode"
    print(f"{suffix}: {kills} kills, then a final --resume")

    final = subprocess.run(_cmd(toy_model, folder, out, "--resume"), capture_output=True, text=True, env=ENV)
    assert final.returncode == 3, final.stderr  # broken files in the folder
    rows = report.read_rows(out)
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)) == N_IMAGES + 2  # every image exactly once
    assert rows == expected  # same rows, same order, same values
    if suffix == ".json":
        assert not report.sidecar_path(out).exists()
