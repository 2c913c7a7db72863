"""The shipped model file keeps the FabricScope contract (models/fabric_inspector.onnx)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from fabricscope.engine.contract import parse_metadata
from fabricscope.engine.pooling import pool, softmax2
from fabricscope.synth import generate

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "fabric_inspector.onnx"
WEIGHTS = ROOT / "models" / "fabric_inspector.pt"
OUTPUTS = ["hole_map", "hole_prob", "wrinkle_map", "wrinkle_prob"]


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    assert MODEL.exists(), f"the shipped model is missing: {MODEL}"
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(MODEL), so, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.stack([generate(seed).image for seed in (11, 12, 13)])


def _meta() -> dict[str, str]:
    model = onnx.load(str(MODEL), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def _run(session: ort.InferenceSession, x: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"image": x}), strict=True))


def test_size_and_single_file():
    # the pretrained EfficientNet-Lite0 backbone: 13.5 MB in float32; issue #30 allows up to 20 MB
    assert MODEL.stat().st_size <= 20 * 1024 * 1024
    onnx.checker.check_model(str(MODEL))


def test_metadata_parses():
    spec = parse_metadata(_meta())
    assert spec.head_names == ("hole", "wrinkle")
    hole, wrinkle = spec.head("hole"), spec.head("wrinkle")
    assert (hole.pooling, hole.labels, hole.title) == ("max", ("intact", "hole"), "Holes")
    assert (wrinkle.pooling, wrinkle.labels, wrinkle.title) == ("avg", ("smooth", "wrinkled"), "Wrinkles")
    assert (hole.map_output, hole.prob_output) == ("hole_map", "hole_prob")
    assert (wrinkle.map_output, wrinkle.prob_output) == ("wrinkle_map", "wrinkle_prob")
    assert 0 < hole.threshold < 1 and 0 < wrinkle.threshold < 1
    assert spec.input_size == 224 and spec.stride == 32
    # theoretical receptive field: 179 px for the ninth (VGG-style), 851 px for EfficientNet-Lite0, whose
    # 5x5 depthwise convs at strides 16 and 32 reach past the image (the app clips the drawn region)
    assert 32 <= spec.receptive_field <= 1024
    for key in ("data", "architecture", "training_command", "evaluation"):
        assert key in spec.card, key
    assert "python -m fabricscope.train" in spec.card["training_command"]


def test_receptive_field_matches_architecture():
    pytest.importorskip("torch")
    from fabricscope.train.model import load_checkpoint

    assert parse_metadata(_meta()).receptive_field == load_checkpoint(WEIGHTS).geometry().receptive_field


def test_io_signature(session):
    (inp,) = session.get_inputs()
    assert inp.name == "image" and inp.type == "tensor(uint8)"
    assert len(inp.shape) == 4 and inp.shape[3] == 3
    assert all(isinstance(d, str) for d in inp.shape[:3]), "N, H and W must be dynamic"
    outs = {o.name: o for o in session.get_outputs()}
    assert sorted(outs) == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert outs[name].type == "tensor(float)"
    assert outs["hole_map"].shape[1] == 2 and isinstance(outs["hole_map"].shape[2], str)
    assert outs["wrinkle_prob"].shape[1] == 2


@pytest.mark.parametrize(
    ("shape", "grid"), [((1, 224, 224, 3), (7, 7)), ((2, 448, 448, 3), (14, 14)), ((3, 224, 320, 3), (7, 10))]
)
def test_dynamic_shapes(session, shape, grid):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    outs = _run(session, x)
    n = shape[0]
    assert outs["hole_map"].shape == (n, 2, *grid)
    assert outs["wrinkle_map"].shape == (n, 2, *grid)
    assert outs["hole_prob"].shape == (n, 2) and outs["wrinkle_prob"].shape == (n, 2)
    for v in outs.values():
        assert v.dtype == np.float32 and np.isfinite(v).all()


def test_prob_is_softmax_of_pooled_map(session, images):
    spec = parse_metadata(_meta())
    outs = _run(session, images)
    for head in spec.heads:
        maps, probs = outs[head.map_output], outs[head.prob_output]
        expected = softmax2(pool(maps.astype(np.float64), head.pooling))
        np.testing.assert_allclose(probs, expected, atol=1e-5)
        other = "avg" if head.pooling == "max" else "max"
        assert not np.allclose(probs, softmax2(pool(maps.astype(np.float64), other)), atol=1e-5)


def test_onnx_matches_pytorch(session, images):
    torch = pytest.importorskip("torch")
    from fabricscope.train.model import ExportWrapper, load_checkpoint

    net = load_checkpoint(WEIGHTS)
    wrapper = ExportWrapper(net.eval()).eval()
    x = np.concatenate([images, np.random.default_rng(1).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)])
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(torch.from_numpy(x))]
    got = session.run(OUTPUTS, {"image": x})
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(g, r, atol=2e-4, rtol=1e-3)


def test_sees_obvious_defects(session):
    """Sanity: big holes and heavy wrinkling on generated cloth are found, clean cloth passes."""
    spec = parse_metadata(_meta())
    th_h, th_w = spec.head("hole").threshold, spec.head("wrinkle").threshold
    cases = [(seed, h, w) for seed in range(900, 908) for h, w in ((True, True), (False, False))]
    x = np.stack([generate(s, hole=h, wrinkled=w).image for s, h, w in cases])
    outs = _run(session, x)
    hole_ok = ((outs["hole_prob"][:, 1] >= th_h) == np.array([h for _, h, _ in cases])).mean()
    wr_ok = ((outs["wrinkle_prob"][:, 1] >= th_w) == np.array([w for _, _, w in cases])).mean()
    assert hole_ok >= 0.8 and wr_ok >= 0.8, (hole_ok, wr_ok)


def test_card_is_json_with_figures():
    card = json.loads(_meta()["fabricscope.card"])
    ev = card["evaluation"]
    assert ev["n_images"] >= 2000
    assert 0.5 < ev["hole_auroc"] <= 1 and 0.5 < ev["wrinkle_auroc"] <= 1
