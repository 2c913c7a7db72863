"""The Ray engine: same rows, order and error rows as the local engine; a killed actor loses nothing.

Tests that run Ray share one local Ray with 2 CPUs (module fixture) and are
skipped when the ``cluster`` extra is not installed; the rest run without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope import cli
from fabricscope.engine import batch, discovery, ray_engine, report, row_schema
from fabricscope.engine.inspector import Inspector
from fabricscope.engine.summary import Summary

# Ray Data reads its own deprecated settings when it copies its context; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def inspector(toy_model: Path) -> Inspector:
    return Inspector(toy_model, provider="cpu", threads=1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 fabric images (some with holes) in two folders, and bad files among them."""
    d = tmp_path_factory.mktemp("ray_imgs")
    (d / "sub").mkdir()
    for i in range(30):
        where = d / "sub" if i % 5 == 0 else d
        arr = fabric_like(i, hole_at=(i % 7, 3) if i % 3 == 0 else None)
        Image.fromarray(arr).save(where / f"img_{i:03d}.{'png' if i % 4 == 0 else 'jpg'}")
    (d / "img_005_corrupt.jpg").write_bytes(os.urandom(3000))
    full = (d / "img_001.jpg").read_bytes()
    (d / "img_007_truncated.jpg").write_bytes(full[: len(full) // 3])
    (d / "img_010_empty.png").write_bytes(b"")
    (d / "sub" / "img_011_fake.png").write_text("text with an image suffix")
    (d / ".hidden.jpg").write_bytes(full)
    (d / "notes.txt").write_text("not picked up")
    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).save(d / "img_012_16bit.png")
    return d


@pytest.fixture(scope="module")
def local_rows(inspector: Inspector, folder: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("local") / "local.csv"
    batch.score_folder(inspector, discovery.find_images([folder], True), report=out, batch_size=4)
    return report.read_rows(out)


@pytest.fixture(scope="module")
def ray_local() -> Any:
    """One local Ray with 2 CPUs for the whole module; shut down at its end."""
    pytest.importorskip("ray.data", reason="the Ray engine needs the 'cluster' extra")
    with ray_engine.ray_session(num_cpus=2) as ray:
        yield ray


def ray_run(inspector: Inspector, files: list, out: Path, **kw: Any) -> Summary:
    scorer = ray_engine.RayScorer(inspector, provider="cpu", threads=1, batch_size=4)
    return batch.score_folder(inspector, files, report=out, batch_size=4, scorer=scorer, **kw)


def assert_same_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], *, compare_paths: bool = True) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for key in w:
            if key == "path" and not compare_paths:
                continue
            if key.endswith("_prob") and w[key] is not None:
                assert g[key] == pytest.approx(w[key], abs=1e-5), (w["path"], key)
            else:
                assert g[key] == w[key], (w["path"], key)


# --- without Ray ------------------------------------------------------------------------------


def test_find_inputs_without_uris_is_find_images(folder: Path) -> None:
    args = [folder / "sub", folder, folder / "img_001.jpg", folder / "missing.jpg"]
    assert ray_engine.find_inputs(args, True) == discovery.find_images(args, True)


def test_uri_folders_list_like_local_folders(folder: Path) -> None:
    pytest.importorskip("pyarrow")
    local = discovery.find_images([folder], True)
    uris = ray_engine.find_inputs([folder.as_uri()], True)
    assert uris == [Path(p).absolute().as_uri() for p in local]  # same files, same order, hidden ones left out
    assert ray_engine.find_inputs([folder.as_uri()], False) == [
        p.absolute().as_uri() for p in discovery.find_images([folder], False)
    ]
    missing = folder.as_uri() + "/nothing_here.jpg"
    assert ray_engine.find_inputs([missing], False) == [missing]  # kept: its row will say "file not found"
    with pytest.raises(ray_engine.ClusterError, match="cannot list"):
        ray_engine.find_inputs(["nosuchscheme://x/y"], False)


def test_missing_ray_is_said_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ray_engine.ClusterError, match=r"pip install 'fabricscope\[cluster\]'"):
        ray_engine.import_ray()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--address", "auto"], "need --engine ray"),
        (["--num-gpus", "1"], "need --engine ray"),
        (["--engine", "ray", "--num-gpus", "-1"], "0 or more"),
    ],
)
def test_engine_options_bad_usage(
    toy_model: Path, folder: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert cli.main(["score", str(folder), "--model", str(toy_model), *extra]) == 2
    assert message in capsys.readouterr().err


def test_uris_need_the_ray_engine(toy_model: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["score", "s3://bucket/folder", "--model", str(toy_model)]) == 2
    assert "--engine ray" in capsys.readouterr().err


def test_an_address_nothing_listens_at_fails_fast() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ray_engine.ClusterError, match="cannot reach the Ray cluster"):
        ray_engine._check_reachable(f"127.0.0.1:{port}", timeout_s=2)
    ray_engine._check_reachable("auto")  # left to Ray


def test_the_cli_imports_ray_only_for_a_ray_run(toy_model: Path) -> None:
    code = (
        "import sys; from fabricscope import cli; "
        f"rc = cli.main(['info', '--model', {str(toy_model)!r}]); "
        "print('RAY', 'ray' in sys.modules); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "RAY False" in done.stdout


# --- on a local Ray ---------------------------------------------------------------------------


def test_ray_report_equals_the_local_report(
    ray_local: Any, inspector: Inspector, folder: Path, local_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    files = discovery.find_images([folder], True)
    out = tmp_path / "ray.jsonl"
    summary = ray_run(inspector, files, out)
    rows = report.read_rows(out)
    assert_same_rows(rows, local_rows)
    errors = {Path(r["path"]).name for r in rows if r["status"] == "error"}
    assert errors == {
        "img_005_corrupt.jpg",
        "img_007_truncated.jpg",
        "img_010_empty.png",
        "img_011_fake.png",
    }
    assert summary.total == summary.scored == len(files)
    assert summary.errors == 4 and summary.ok == len(files) - 4
    assert summary.flagged == sum(bool(r["flagged"]) for r in local_rows) > 0


def test_a_killed_actor_loses_and_doubles_nothing(
    ray_local: Any,
    inspector: Inspector,
    folder: Path,
    local_rows: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "crashed"
    monkeypatch.setenv(ray_engine.FAULT_ENV, f"3:{marker}")  # the actor dies (os._exit) on its 3rd batch, once
    out = tmp_path / "ray.csv"
    summary = ray_run(inspector, discovery.find_images([folder], True), out)
    assert marker.exists(), "the fault was not injected: the test would prove nothing"
    rows = report.read_rows(out)
    counts = Counter(r["path"] for r in rows)
    assert all(n == 1 for n in counts.values())
    assert_same_rows(rows, local_rows)
    assert not summary.stopped


def test_resume_scores_only_the_rest(
    ray_local: Any, inspector: Inspector, folder: Path, local_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    files = discovery.find_images([folder], True)
    out = tmp_path / "ray.csv"
    with report.ReportWriter(out, row_schema.columns(inspector.spec)) as writer:
        for row in local_rows[:13]:  # an earlier run that was killed after 13 rows
            writer.write(row)
    summary = ray_run(inspector, files, out, resume=True)
    assert summary.resumed == 13 and summary.scored == len(files) - 13
    assert_same_rows(report.read_rows(out), local_rows)


def test_uris_are_read_by_the_decode_tasks(
    ray_local: Any, inspector: Inspector, folder: Path, local_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    uris = ray_engine.find_inputs([folder.as_uri()], True)
    gone = folder.as_uri() + "/gone.jpg"
    out = tmp_path / "uris.csv"
    ray_run(inspector, [*uris, gone], out)
    rows = report.read_rows(out)
    assert [r["path"] for r in rows] == [*uris, gone]
    assert_same_rows(rows[:-1], local_rows, compare_paths=False)
    assert rows[-1]["status"] == "error" and rows[-1]["error"] == "file not found"


def test_cli_engine_ray(
    ray_local: Any,
    toy_model: Path,
    folder: Path,
    local_rows: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    out = tmp_path / "cli.json"
    argv = ["score", str(folder), "-r", "--model", str(toy_model), "--engine", "ray", "--out", str(out)]
    assert cli.main([*argv, "--batch-size", "4", "--provider", "cpu"]) == 3  # 4 error rows: not all inspected
    err = capsys.readouterr().err
    assert "4 errors" in err and "ray: inference ran on cpu" in err
    assert_same_rows(report.read_rows(out), local_rows)
    assert ray_local.is_initialized()  # a Ray the CLI did not start is left running


def test_sigterm_mid_run_keeps_the_rows_and_resume_finishes(
    ray_local: Any, toy_model: Path, tmp_path: Path, inspector: Inspector
) -> None:
    """ray.init replaces the SIGTERM handler; the CLI's must still finish the report (a real process)."""
    src = tmp_path / "src.png"
    Image.fromarray(fabric_like(3)).resize((800, 800)).save(src, compress_level=1)
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(80):
        shutil.copyfile(src, imgs / f"{i:03d}.png")
    out = tmp_path / "run.csv"
    argv = [sys.executable, "-m", "fabricscope", "score", str(imgs), "--model", str(toy_model), "--out", str(out),
            "--engine", "ray", "--batch-size", "2", "--provider", "cpu"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") > 5:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "rerun with --resume" in err
    kept = report.read_rows(out)
    assert 0 < len(kept) < 80
    assert cli.main([*argv[3:], "--resume"]) == 0
    rows = report.read_rows(out)
    assert sorted(r["path"] for r in rows) == sorted(str(f) for f in imgs.iterdir())
    assert rows[: len(kept)] == kept
