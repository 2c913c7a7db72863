"""The `fabricscope` command: in-process for most cases, real subprocesses for kill/resume and Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope import cli
from fabricscope.engine import report


def make_folder(folder: Path, n: int, holes: tuple[int, ...] = ()) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:03d}.jpg"
        Image.fromarray(fabric_like(i, hole_at=(1, 1) if i in holes else None)).save(p)
        paths.append(p)
    return paths


def run_cli(*args: object) -> int:
    return cli.main([str(a) for a in args])


def test_score_writes_a_report_and_a_summary(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_folder(tmp_path / "imgs", 5, holes=(2,))
    (tmp_path / "imgs" / "broken.png").write_bytes(b"junk")
    out = tmp_path / "r.csv"
    assert run_cli("score", tmp_path / "imgs", "--model", toy_model, "--out", out) == cli.EXIT_NOT_INSPECTED
    captured = capsys.readouterr()
    assert captured.out == ""  # with --out, stdout stays empty
    assert "6 images: 5 ok, 1 error, 1 flagged" in captured.err
    assert "flagged per head: hole 1, wrinkle 0" in captured.err
    assert "images/s" in captured.err and "broken.png" in captured.err
    rows = report.read_rows(out)
    assert [Path(r["path"]).name for r in rows] == ["broken.png", *(f"img_{i:03d}.jpg" for i in range(5))]
    assert [r["hole_flag"] for r in rows[1:]] == [False, False, True, False, False]
    assert rows[0]["status"] == "error"


def test_score_without_out_prints_a_table(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = make_folder(tmp_path, 3, holes=(1,))
    (tmp_path / "x.txt").write_text("hello")
    assert run_cli("score", *files, tmp_path / "x.txt", "--model", toy_model) == cli.EXIT_NOT_INSPECTED
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["path", "hole(max)", "wrinkle(avg)", "result"]
    assert lines[1].endswith("ok") and "FLAGGED (hole)" in lines[2] and "HOLE" in lines[2]
    assert "x.txt" in lines[4] and "error: not an image" in lines[4]  # named explicitly: scored, whatever its suffix


def test_fail_on_defect_exit_code(toy_model: Path, tmp_path: Path) -> None:
    clean = make_folder(tmp_path / "clean", 3)
    holed = make_folder(tmp_path / "holed", 3, holes=(0,))
    assert run_cli("score", *clean, "--model", toy_model, "--fail-on-defect", "-q") == 0
    assert run_cli("score", *holed, "--model", toy_model, "--fail-on-defect", "-q") == 1
    assert run_cli("score", *holed, "--model", toy_model, "-q") == 0
    # A threshold above the hole's probability clears it.
    assert run_cli("score", *holed, "--model", toy_model, "--fail-on-defect", "-q", "--threshold", "hole=0.99") == 0


def test_a_gate_never_passes_what_it_did_not_inspect(toy_model: Path, tmp_path: Path) -> None:
    """Exit 3 whenever an input could not be inspected, with or without --fail-on-defect, before 1 (flagged)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    (bad / "b.png").write_bytes(b"")
    assert run_cli("score", bad, "--model", toy_model, "--fail-on-defect", "-q") == 3  # every file unreadable
    assert run_cli("score", bad, "--model", toy_model, "-q") == 3
    holed = make_folder(tmp_path / "holed", 2, holes=(0,))
    assert run_cli("score", bad, *holed, "--model", toy_model, "--fail-on-defect", "-q") == 3  # not 1
    clean = make_folder(tmp_path / "clean", 2)
    assert run_cli("score", bad / "a.jpg", *clean, "--model", toy_model, "--fail-on-defect", "-q") == 3
    assert run_cli("score", *clean, "--model", toy_model, "--fail-on-defect", "-q") == 0
    # Resumed error rows count too: a resumed run is judged on its whole report.
    out = tmp_path / "r.csv"
    assert run_cli("score", bad / "a.jpg", *clean, "--model", toy_model, "--out", out, "-q") == 3
    assert run_cli("score", bad / "a.jpg", *clean, "--model", toy_model, "--out", out, "--resume", "-q") == 3


def test_score_exit_code_precedence() -> None:
    from fabricscope.engine.summary import Summary

    assert cli.score_exit_code(Summary(total=2, ok=2), fail_on_defect=True) == 0
    assert cli.score_exit_code(Summary(total=2, ok=2, flagged=1), fail_on_defect=False) == 0
    assert cli.score_exit_code(Summary(total=2, ok=2, flagged=1), fail_on_defect=True) == 1
    assert cli.score_exit_code(Summary(total=2, ok=1, errors=1, flagged=1), fail_on_defect=True) == 3
    assert cli.score_exit_code(Summary(total=1, errors=1), fail_on_defect=False) == 3


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_an_existing_report_is_never_replaced_silently(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, suffix: str
) -> None:
    files = make_folder(tmp_path / "imgs", 2)
    out = tmp_path / f"r{suffix}"
    assert run_cli("score", files[0], "--model", toy_model, "--out", out, "-q") == 0
    before = out.read_bytes()
    assert run_cli("score", *files, "--model", toy_model, "--out", out, "-q") == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--resume" in err and "--overwrite" in err
    assert out.read_bytes() == before  # untouched
    assert run_cli("score", *files, "--model", toy_model, "--out", out, "--resume", "--overwrite", "-q") == 2
    assert run_cli("score", files[1], "--model", toy_model, "--out", out, "--overwrite", "-q") == 0
    assert [Path(r["path"]).name for r in report.read_rows(out)] == [files[1].name]
    assert run_cli("score", *files, "--model", toy_model, "--out", out, "--resume", "-q") == 0
    assert len(report.read_rows(out)) == 2
    assert run_cli("score", *files, "--model", toy_model, "--overwrite", "-q") == 2  # --overwrite needs --out
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")  # e.g. made by mktemp: nothing to lose
    assert run_cli("score", *files, "--model", toy_model, "--out", empty, "-q") == 0


def test_an_interrupted_json_reports_sidecar_counts_as_an_existing_report(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    files = make_folder(tmp_path / "imgs", 1)
    out = tmp_path / "r.json"
    side = report.sidecar_path(out)
    side.write_text(json.dumps({"path": str(files[0]), "status": "error", "error": "x"}) + "\n")
    assert run_cli("score", *files, "--model", toy_model, "--out", out, "-q") == 2
    assert "already exists" in capsys.readouterr().err and side.exists()


@pytest.mark.parametrize(
    "form",
    [
        ["--threshold", "hole=0.99", "wrinkle=0.01"],
        ["--threshold", "hole=0.99", "--threshold", "wrinkle=0.01"],
        ["--threshold=hole=0.99", "--threshold", "wrinkle=0.01"],
    ],
)
def test_thresholds_one_flag_several_values_or_the_flag_repeated(
    toy_model: Path, tmp_path: Path, form: list[str]
) -> None:
    files = make_folder(tmp_path / "imgs", 2, holes=(0,))
    out = tmp_path / "r.csv"
    assert run_cli("score", *files, *form, "--model", toy_model, "--out", out, "-q") == 0
    rows = report.read_rows(out)
    assert [r["hole_flag"] for r in rows] == [False, False]  # 0.99 clears the hole
    assert [r["wrinkle_flag"] for r in rows] == [True, True]  # 0.01 flags everything


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["hole=0.3", "wrinkle"], "expected HEAD=VALUE"),
        (["hole=0.3", "{imgs}"], "paths go before --threshold"),
        (["hole=abc"], "is not a number"),
        (["hole=1.5"], "between 0 and 1"),
        (["=0.5"], "expected HEAD=VALUE"),
    ],
)
def test_bad_thresholds_are_usage_errors(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, values: list[str], message: str
) -> None:
    make_folder(tmp_path / "imgs", 1)
    values = [v.format(imgs=tmp_path / "imgs") for v in values]
    assert run_cli("score", tmp_path / "imgs", "--model", toy_model, "--threshold", *values) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_missing_path_among_others_is_an_error_row(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    files = make_folder(tmp_path / "imgs", 2)
    gone = tmp_path / "missing.jpg"
    out = tmp_path / "r.csv"
    assert run_cli("score", gone, *files, "--model", toy_model, "--out", out) == cli.EXIT_NOT_INSPECTED
    rows = report.read_rows(out)
    assert [r["path"] for r in rows] == [str(gone), *map(str, files)]
    assert rows[0]["status"] == "error" and "not found" in rows[0]["error"]
    assert [r["status"] for r in rows[1:]] == ["ok", "ok"]
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "missing.jpg" in err
    # Nothing that exists at all: still a usage error, naming what is missing and what was empty.
    (tmp_path / "empty").mkdir()
    assert run_cli("score", gone, tmp_path / "gone_too", "--model", toy_model) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert run_cli("score", gone, tmp_path / "empty", "--model", toy_model) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "no image files found in" in err and "empty" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "{missing}"], "no such file or folder"),
        (["score", "{empty}"], "no image files found"),
        (["score", "{imgs}", "--out", "{tmp}/nofolder/r.csv"], "report folder does not exist"),
        (["score", "{imgs}", "--out", "{tmp}/r.xlsx"], "unknown report format"),
        (["score", "{imgs}", "--resume"], "--resume needs --out"),
        (["score", "{imgs}", "--threshold", "colour=0.5"], "no head 'colour'"),
        (["score", "{imgs}", "--threshold", "hole"], "HEAD=VALUE"),
        (["score", "{imgs}", "--batch-size", "0"], "at least 1"),
        (["score", "{imgs}", "--provider", "tpu"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_with_a_message(
    toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    make_folder(tmp_path / "imgs", 1)
    (tmp_path / "empty").mkdir()
    where = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "imgs": tmp_path / "imgs", "tmp": tmp_path}
    argv = [a.format(**where) for a in args] + ["--model", str(toy_model)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"", b"this is not onnx", None])
def test_unusable_model_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes | None
) -> None:
    make_folder(tmp_path / "imgs", 1)
    model = tmp_path / "m.onnx"
    if content is not None:
        model.write_bytes(content)
    assert run_cli("score", tmp_path / "imgs", "--model", model) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "m.onnx" in err and "Traceback" not in err


def test_foreign_model_names_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from toy_model import build_toy_model

    model = build_toy_model(tmp_path / "foreign.onnx", metadata={})
    assert run_cli("info", "--model", model) == 2
    assert "not a FabricScope model" in capsys.readouterr().err


def test_provider_fallback_is_said_plainly(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA")
    files = make_folder(tmp_path, 1)
    assert run_cli("score", *files, "--model", toy_model, "--provider", "cuda", "-q") == 0
    err = capsys.readouterr().err
    assert "note: cuda was requested" in err and "running on cpu instead" in err
    from fabricscope.engine import providers

    assert providers.GPU_HINT in err


def test_the_gpu_hint_swaps_the_runtimes_and_matches_the_gpu_extra() -> None:
    """One hint for editable and wheel installs: uninstall the CPU runtime first, then the extra's GPU runtime."""
    import tomllib

    from fabricscope.engine import providers

    hint = providers.GPU_HINT
    uninstall = hint.index("pip uninstall -y onnxruntime &&")
    install = hint.index(f"pip install '{providers.GPU_RUNTIME}'")
    assert uninstall < install and "fabricscope[" not in hint and "-e " not in hint
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["optional-dependencies"]["gpu"] == [providers.GPU_RUNTIME]
    for choice in ("cuda", "tensorrt"):
        if choice not in providers.available():
            _, note = providers.plan(choice)
            assert hint in note


def test_info_shows_heads_geometry_card_and_providers(toy_model: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli("info", "--model", toy_model) == 0
    out = capsys.readouterr().out
    assert "Holes — global max pooling" in out and "Wrinkles — global average pooling" in out
    assert "threshold: 0.5" in out and "stride 32 px" in out and "receptive field 32 px" in out
    assert "maps 7x7" in out and "note: test graph" in out and "available here: " in out
    assert "this session:   cpu" in out
    assert run_cli("info", "--model", toy_model, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [h["pooling"] for h in data["heads"]] == ["max", "avg"] and data["provider_used"] == "cpu"


def _info(model: Path, capsys: pytest.CaptureFixture) -> list[str]:
    assert run_cli("info", "--model", model) == 0
    return capsys.readouterr().out.splitlines()


def _assert_readable(lines: list[str], width: int = 120) -> None:
    text = "\n".join(lines)
    assert "{'" not in text and '{"' not in text and "': " not in text  # no raw dicts
    for line in lines:  # wrapped, except a single word that cannot be broken
        assert len(line) <= width or " " not in line.strip(), line


def test_info_on_the_shipped_model_is_a_readable_card(capsys: pytest.CaptureFixture) -> None:
    from fabricscope.engine.inspector import DEFAULT_MODEL

    if not DEFAULT_MODEL.exists():
        pytest.skip("the shipped model is not built here")
    lines = _info(DEFAULT_MODEL, capsys)
    _assert_readable(lines)
    sections = [line for line in lines if line and not line.startswith(" ")]
    assert sections[0].startswith("FabricScope fabric inspector")
    order = ["heads", "figures: validation", "figures: evaluation", "about the model", "execution providers"]
    assert [s for s in sections if s in order] == order
    text = "\n".join(lines)
    assert "model file:" in text and "contract:     version 1" in text and "receptive field" in text
    # The threshold with the operating point the card measured at it, and a head-by-metric table.
    hole_threshold = next(line for line in lines if "threshold:" in line)
    assert "on the evaluation set: recall" in hole_threshold and "false alarm rate" in text
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["head", "auroc"] and "recall" in line)
    assert lines[header + 1].split()[0] == "hole" and lines[header + 2].split()[0] == "wrinkle"
    assert any(line.split()[:2] == ["basket", "152"] for line in lines)  # by_cloth as a table


def test_info_degrades_for_models_with_less_metadata(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from toy_model import build_toy_model, toy_metadata

    bare = _info(build_toy_model(tmp_path / "bare.onnx", metadata=toy_metadata(card=None)), capsys)
    _assert_readable(bare)
    assert bare[0] == "bare.onnx" and "heads" in bare and "execution providers" in bare
    assert not any(line.startswith(("figures", "limits", "about")) for line in bare)
    card = {
        "name": "mine",
        "limits": ["not for silk", "holes under 2% of the side are missed"],
        "evaluation_lab": {"hole_auroc": 0.9, "wrinkle_auroc": 0.8, "hole_threshold": 0.5, "hole_recall": 0.75,
                           "by_size": {"small": {"n": 3, "auroc": 0.7}, "large": {"n": 9, "auroc": 0.95}}},
    }  # fmt: skip
    lines = _info(build_toy_model(tmp_path / "own.onnx", metadata=toy_metadata(card=card)), capsys)
    _assert_readable(lines)
    text = "\n".join(lines)
    assert lines[0] == "mine" and "figures: evaluation_lab" in lines and "limits" in lines
    assert "  - holes under 2% of the side are missed" in lines
    assert "threshold: 0.5 — on the evaluation_lab set: recall 0.75" in text
    assert any(line.split() == ["small", "3", "0.7"] for line in lines)
    assert lines.index("figures: evaluation_lab") < lines.index("limits") < lines.index("execution providers")


def test_bench_reports_latency_and_best_batch(toy_model: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli("bench", "--model", toy_model, "--seconds", "0.05", "--batch-sizes", "1", "4") == 0
    out = capsys.readouterr().out
    assert "latency at batch 1:" in out and "best throughput:" in out and "batch   4:" in out


def test_heatmaps_are_written(toy_model: Path, tmp_path: Path) -> None:
    files = make_folder(tmp_path / "imgs", 3, holes=(1,))
    heat = tmp_path / "heat"
    assert run_cli("score", *files, "--model", toy_model, "--heatmaps", heat, "-q", "--out", tmp_path / "r.jsonl") == 0
    assert sorted(p.name for p in heat.iterdir()) == [f"img_{i:03d}.jpg.heatmap.jpg" for i in range(3)]
    with Image.open(heat / "img_001.jpg.heatmap.jpg") as img:
        assert img.width > img.height


def test_gui_command_and_no_command_start_the_app_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    app = types.ModuleType("fabricscope.gui.app")
    app.main = lambda argv=None: calls.append(list(argv or [])) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fabricscope.gui.app", app)
    assert cli.main([]) == 0
    assert cli.main(["gui", "--demo", "x"]) == 0
    assert cli.main(["--demo"]) == 0
    assert calls == [[], ["--demo", "x"], ["--demo"]]


def test_synth_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    synth = pytest.importorskip("fabricscope.synth")
    if not hasattr(synth, "write_dataset"):
        pytest.skip("fabricscope.synth.write_dataset has not landed")
    assert run_cli("synth", tmp_path / "data", "--n", "3", "--seed", "1", "--size", "64") == 0
    labels = (tmp_path / "data" / "labels.csv").read_text().strip().splitlines()
    assert len(labels) == 1 + 3 and "wrote 3 images" in capsys.readouterr().out


# --- real processes ---------------------------------------------------------------------------

SUBPROCESS_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def test_non_gui_commands_never_import_qt(toy_model: Path) -> None:
    code = (
        "import sys; from fabricscope import cli; "
        f"rc = cli.main(['info', '--model', {str(toy_model)!r}]); "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'fabricscope.gui'))]; "
        "print('QT', bad); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "QT []" in done.stdout


@pytest.fixture(scope="module")
def slow_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 files, slow enough to decode one at a time that a run can be killed part-way."""
    folder = tmp_path_factory.mktemp("slow")
    sources = []
    for k in range(4):
        src = folder / f"src_{k}.png"
        big = Image.fromarray(fabric_like(k, hole_at=(k + 1, 3) if k % 2 else None)).resize((1000, 1000))
        big.save(src, compress_level=1)
        sources.append(src)
    imgs = folder / "imgs"
    imgs.mkdir()
    for i in range(120):
        shutil.copyfile(sources[i % 4], imgs / f"{i:03d}.png")
    (imgs / "050_broken.png").write_bytes(b"junk")
    return imgs


def _wait_for_rows(path: Path, proc: subprocess.Popen, n: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be interrupted: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.01)
    pytest.fail("no rows appeared")


def _score_cmd(toy_model: Path, folder: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "fabricscope", "score", str(folder), "--model", str(toy_model), "--out", str(out),
            "--batch-size", "2", "--workers", "1", "--threads", "1", *extra]  # fmt: skip


def test_sigkill_then_resume_scores_every_image_exactly_once(
    toy_model: Path, slow_folder: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full.csv"
    assert run_cli("score", slow_folder, "--model", toy_model, "--out", full, "-q") == 3  # 050_broken.png
    out = tmp_path / "killed.csv"
    proc = subprocess.Popen(_score_cmd(toy_model, slow_folder, out), stderr=subprocess.PIPE, env=SUBPROCESS_ENV)
    _wait_for_rows(out, proc, 20)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    kept = report.read_rows(out)
    assert 19 <= len(kept) < 121
    done = subprocess.run(
        _score_cmd(toy_model, slow_folder, out, "--resume"), capture_output=True, text=True, env=SUBPROCESS_ENV
    )
    assert done.returncode == 3, done.stderr  # the broken file: not inspected
    assert f"{len(kept)} already in the report (resumed)" in done.stderr
    rows = report.read_rows(out)
    assert [r["path"] for r in rows] == [r["path"] for r in report.read_rows(full)]
    assert rows == report.read_rows(full)


def test_ctrl_c_finishes_a_json_report_and_exits_130(toy_model: Path, slow_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        _score_cmd(toy_model, slow_folder, out),
        stderr=subprocess.PIPE,
        env=SUBPROCESS_ENV,
        # A shell's background job (`make test &`) starts with SIGINT ignored, and Python keeps an
        # ignored SIGINT ignored: give the run Ctrl-C as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _wait_for_rows(report.sidecar_path(out), proc, 10)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert proc.stderr is not None and "rerun with --resume" in proc.stderr.read().decode()
    rows = json.loads(out.read_text())  # a complete JSON array, not a fragment
    assert 10 <= len(rows) < 121 and not report.sidecar_path(out).exists()
    assert run_cli("score", slow_folder, "--model", toy_model, "--out", out, "--resume", "-q") == 3
    rows = json.loads(out.read_text())
    assert [Path(r["path"]).name for r in rows] == sorted(p.name for p in slow_folder.iterdir())


def test_progress_lines_when_stderr_is_not_a_terminal() -> None:
    import io

    from fabricscope.engine.batch import Progress

    stream = io.StringIO()
    printer = cli.ProgressPrinter(stream, every=100)
    for done in range(16, 260, 16):
        printer(Progress(done=done, total=250, images_per_s=50.0, eta_s=(250 - done) / 50, elapsed_s=done / 50))
    printer(Progress(done=250, total=250, images_per_s=50.0, eta_s=0.0, elapsed_s=5.0))
    lines = stream.getvalue().splitlines()
    assert lines == [
        "scored 112/250 images  50.0/s  ETA 3s",
        "scored 224/250 images  50.0/s  ETA 1s",
        "scored 250/250 images  50.0/s  ETA 0s",
    ]


def test_unwritable_heatmap_folder_exits_2(toy_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = make_folder(tmp_path / "imgs", 1)
    (tmp_path / "afile").write_text("x")
    assert run_cli("score", *files, "--model", toy_model, "--heatmaps", tmp_path / "afile" / "h") == 2
    assert "cannot create the heatmap folder" in capsys.readouterr().err


def test_bundled_samples_are_small_and_score(toy_model: Path, tmp_path: Path) -> None:
    samples = Path(__file__).resolve().parent.parent / "resources" / "samples"
    files = sorted(samples.glob("*.jpg"))
    assert len(files) >= 4 and sum(f.stat().st_size for f in files) < 300_000
    out = tmp_path / "r.csv"
    assert run_cli("score", samples, "--model", toy_model, "--out", out, "-q") == 0
    rows = report.read_rows(out)
    assert len(rows) == len(files) and all(r["status"] == "ok" for r in rows)


def test_synth_other_renderer(tmp_path: Path) -> None:
    """`fabricscope synth --renderer other` writes the independent renderer's images with their labels."""
    from PIL import Image

    from fabricscope.synth.spectral import generate_other

    assert run_cli("synth", tmp_path / "o", "--n", "2", "--seed", "5", "--size", "96", "--renderer", "other") == 0
    rows = (tmp_path / "o" / "labels.csv").read_text().strip().splitlines()
    assert len(rows) == 3
    s = generate_other(6, 96)
    assert rows[2].endswith(s.kind) and rows[2].split(",")[1] == str(int(s.has_hole))
    mask = np.asarray(Image.open(tmp_path / "o" / "masks" / "000001.png")) > 127
    assert np.array_equal(mask, s.hole_mask)
    assert run_cli("synth", tmp_path / "p", "--n", "1", "--size", "32", "--renderer", "other") != 0
