from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from toy_model import build_toy_model, fabric_like, toy_metadata

from fabricscope.engine import providers
from fabricscope.engine.inspector import Inspector, ModelError
from fabricscope.engine.pooling import defect_probability, softmax2
from fabricscope.engine.thresholds import Thresholds


def test_inspect_flags_a_single_dark_hole_and_finds_its_cell(toy_model: Path) -> None:
    ins = Inspector(toy_model, provider="cpu")
    clean = ins.inspect(fabric_like(1))
    holed = ins.inspect(fabric_like(1, hole_at=(2, 5)))
    shipped = Thresholds.of(ins.spec)
    assert not shipped.flag(clean.head("hole"))
    assert shipped.flag(holed.head("hole"))
    assert holed.head("hole").strongest == (2, 5)
    assert holed.head("hole").class_map.shape == (2, 7, 7)
    assert holed.head("hole").cells.shape == (7, 7)


def test_model_probability_equals_host_pooling_of_its_map(toy_model: Path) -> None:
    ins = Inspector(toy_model, provider="cpu")
    result = ins.inspect(fabric_like(3, hole_at=(0, 0)))
    for head in result.heads:
        assert head.prob == pytest.approx(defect_probability(head.class_map, head.spec.pooling), abs=1e-5)
    hole = result.head("hole")
    # One strong cell: max pooling flags it, average pooling of the same map does not.
    assert hole.prob_if_pooled("max") > 0.5 > hole.prob_if_pooled("avg")


def test_batch_equals_single_and_keeps_image_sizes(toy_model: Path) -> None:
    ins = Inspector(toy_model, provider="cpu")
    frames = [fabric_like(i, size=s) for i, s in enumerate((224, 300, 640))]
    batch = ins.inspect_batch(frames)
    for frame, got in zip(frames, batch, strict=True):
        one = ins.inspect(frame)
        assert got.image_size == (frame.shape[1], frame.shape[0])
        for a, b in zip(one.heads, got.heads, strict=True):
            assert a.prob == pytest.approx(b.prob, abs=1e-5)
    assert ins.inspect_batch([]) == []


def test_thresholds_rejudge_without_running_the_model(toy_model: Path) -> None:
    ins = Inspector(toy_model, provider="cpu")
    result = ins.inspect(fabric_like(1, hole_at=(3, 3)))
    prob = result.head("hole").prob
    shipped = Thresholds.of(ins.spec)
    assert shipped.with_("hole", min(1.0, prob + 0.01)).flag(result.head("hole")) is False
    assert shipped.with_("hole", prob).flag(result.head("hole")) is True
    data = json.loads(json.dumps(result.to_dict(shipped)))
    assert data["heads"]["hole"]["strongest_cell"] == [3, 3]


@pytest.mark.parametrize(
    ("meta_change", "message"),
    [
        ({"contract": None}, "not a FabricScope model"),
        ({"heads": "[{"}, "not valid JSON"),
        ({"heads": [{"name": "hole"}]}, "has no 'pooling'"),
        (
            {"heads": [{"name": "hole", "pooling": "median", "labels": ["a", "b"], "map": "hole_map",
                        "prob": "hole_prob", "threshold": 0.5}]},
            "unknown pooling 'median'",
        ),
        (
            {"heads": [{"name": "hole", "pooling": "max", "labels": ["a", "b"], "map": "nope",
                        "prob": "hole_prob", "threshold": 0.5}]},
            "output 'nope'",
        ),
        ({"stride": None}, "'fabricscope.stride' is missing"),
    ],
)
def test_contract_breaches_are_named(tmp_path: Path, meta_change: dict, message: str) -> None:
    path = build_toy_model(tmp_path / "bad.onnx", metadata=toy_metadata(**meta_change))
    with pytest.raises(ModelError, match="breaks the FabricScope model contract") as info:
        Inspector(path)
    assert message in str(info.value)


def test_unloadable_files_are_refused_in_words(tmp_path: Path) -> None:
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelError, match="empty"):
        Inspector(empty)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Inspector(junk)
    with pytest.raises(ModelError, match="not found"):
        Inspector(tmp_path / "missing.onnx")


def test_missing_output_is_named(tmp_path: Path) -> None:
    path = build_toy_model(tmp_path / "m.onnx", drop_outputs=("wrinkle_prob",))
    with pytest.raises(ModelError, match="'wrinkle_prob'"):
        Inspector(path)


def test_unavailable_gpu_provider_falls_back_to_cpu_and_says_so(toy_model: Path) -> None:
    if "cuda" in providers.available():
        pytest.skip("CUDA is installed here")
    ins = Inspector(toy_model, provider="cuda")
    assert ins.provider == "cpu"
    assert ins.provider_report.used[0] == "CPUExecutionProvider"
    assert "cuda was requested" in ins.provider_report.note
    assert "running on cpu" in ins.provider_report.note


def test_a_provider_that_silently_falls_back_is_reported() -> None:
    note = providers.describe_fallback("cuda", ["CPUExecutionProvider"])
    assert "could not start it" in note and "running on cpu" in note
    assert providers.describe_fallback("cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == ""
    with pytest.raises(ValueError, match="unknown execution provider"):
        providers.plan("quantum")


def test_softmax_is_stable_for_large_scores() -> None:
    out = softmax2(np.array([1000.0, 0.0]))
    assert np.isfinite(out).all() and out[0] == pytest.approx(1.0)
