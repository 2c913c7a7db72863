"""Batch scoring in a child process: the same rows as in-process scoring, cancel, and a child that dies."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from toy_model import fabric_like

from fabricscope.engine import batch, discovery, pipeline
from fabricscope.engine.inspector import Inspector
from fabricscope.engine.score_process import ScoringJob, ScoringProcess
from fabricscope.engine.summary import Summary


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("child_scoring")
    for i in range(24):
        Image.fromarray(fabric_like(i, size=96, hole_at=(2, 3) if i % 3 == 0 else None)).save(root / f"c{i:02d}.png")
    (root / "c99_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def collect(child: ScoringProcess) -> tuple[list[pipeline.Scored], list[batch.Progress], list[tuple[str, object]]]:
    rows, progress, ends = [], [], []
    for message in child.messages(poll_s=0.05):
        if message is None:
            continue
        kind, payload = message
        if kind == "row":
            rows.append(payload)
        elif kind == "progress":
            progress.append(payload)
        else:
            ends.append((kind, payload))
    child.close()
    return rows, progress, ends


def test_child_rows_equal_in_process_rows(toy_model: Path, folder: Path) -> None:
    files = discovery.find_images([folder], False)
    here: list[pipeline.Scored] = []
    batch.score_folder(Inspector(toy_model, provider="cpu", threads=1), files, batch_size=4, on_row=here.append)
    rows, progress, ends = collect(
        ScoringProcess(ScoringJob(model=toy_model, provider="cpu", threads=1, files=files, batch_size=4, nice=5))
    )
    assert [k for k, _ in ends] == ["done"]
    summary = ends[0][1]
    assert isinstance(summary, Summary) and summary.total == 25 and not summary.stopped
    assert progress and progress[-1].done == 25
    assert [r.index for r in rows] == list(range(25))
    assert [r.row for r in rows] == [r.row for r in here]  # paths, statuses, probabilities, cells, errors
    assert rows[-1].inspection is None and rows[-1].row["status"] == "error"
    for a, b in zip(rows[:-1], here[:-1], strict=True):
        for ha, hb in zip(a.inspection.heads, b.inspection.heads, strict=True):
            assert ha.spec == hb.spec
            np.testing.assert_allclose(ha.class_map, hb.class_map, rtol=1e-5, atol=1e-6)


def test_cancel_stops_before_the_next_batch_and_keeps_rows(toy_model: Path, folder: Path) -> None:
    files = discovery.find_images([folder], False)
    child = ScoringProcess(ScoringJob(model=toy_model, provider="cpu", threads=1, files=files, batch_size=2))
    child.cancel()  # before the child has even opened the model
    rows, _, ends = collect(child)
    assert [k for k, _ in ends] == ["done"] and ends[0][1].stopped
    assert len(rows) < 25
    assert [r.index for r in rows] == list(range(len(rows)))


def test_a_child_runs_niced_and_one_that_dies_is_said_in_words(toy_model: Path, folder: Path) -> None:
    files = discovery.find_images([folder], False) * 40  # long enough to be killed mid-run
    child = ScoringProcess(ScoringJob(model=toy_model, provider="cpu", threads=1, files=files, batch_size=2, nice=7))
    messages = child.messages(poll_s=0.05)
    for message in messages:
        if message is not None and message[0] == "row":
            if hasattr(os, "getpriority"):  # the child yields the CPU to the app
                assert os.getpriority(os.PRIO_PROCESS, child._proc.pid) >= 7
            os.kill(child._proc.pid, signal.SIGKILL)
            break
    rest = [m for m in messages if m is not None]
    child.close()
    assert rest[-1][0] == "failed" and "ended unexpectedly" in rest[-1][1]


def test_a_model_the_child_cannot_open_is_said_in_words(tmp_path: Path, folder: Path) -> None:
    bad = tmp_path / "empty.onnx"
    bad.write_bytes(b"")
    _, _, ends = collect(
        ScoringProcess(ScoringJob(model=bad, provider="cpu", threads=1, files=discovery.find_images([folder], False)))
    )
    assert len(ends) == 1 and ends[0][0] == "failed" and "empty.onnx" in str(ends[0][1])
