"""A small, real, contract-conforming ONNX graph built with onnx.helper.

Not a mock: fixed convolutions and pools that ONNX Runtime really runs. The
hole head fires on dark cells (a hole over a dark table); the wrinkle head on
cells with strong local contrast. Tests use it where the shipped model's
judgement is not the point, and to build deliberately broken models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fabricscope.engine.contract import HeadSpec, build_metadata

HEADS = [
    HeadSpec("hole", "max", ("intact", "hole"), "hole_map", "hole_prob", 0.5, "Holes"),
    HeadSpec("wrinkle", "avg", ("smooth", "wrinkled"), "wrinkle_map", "wrinkle_prob", 0.5, "Wrinkles"),
]


def toy_metadata(**overrides: Any) -> dict[str, str]:
    meta = build_metadata(HEADS, 224, 32, 32, {"name": "toy", "note": "test graph"})
    for key, value in overrides.items():
        full = f"fabricscope.{key}"
        if value is None:
            meta.pop(full, None)
        else:
            meta[full] = value if isinstance(value, str) else json.dumps(value)
    return meta


def build_toy_model(
    path: Path,
    *,
    metadata: dict[str, str] | None = None,
    input_type: int = TensorProto.UINT8,
    drop_outputs: tuple[str, ...] = (),
) -> Path:
    """Write the toy model to ``path`` and return it."""

    def const(name: str, array: np.ndarray) -> onnx.TensorProto:
        return numpy_helper.from_array(array.astype(np.float32), name)

    inits = [
        const("scale", np.array(1.0 / 255.0)),
        const("grey_w", np.full((1, 3, 1, 1), 1.0 / 3.0)),
        const("hole_w", np.array([0.0, -12.0]).reshape(2, 1, 1, 1)),
        const("hole_b", np.array([0.0, 5.0])),
        const("wr_w", np.array([0.0, 60.0]).reshape(2, 1, 1, 1)),
        const("wr_b", np.array([0.0, -1.5])),
    ]
    nodes = [
        helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["f", "scale"], ["fs"]),
        helper.make_node("Transpose", ["fs"], ["x"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["x", "grey_w"], ["grey"]),
        helper.make_node("AveragePool", ["grey"], ["mean"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Mul", ["grey", "grey"], ["grey2"]),
        helper.make_node("AveragePool", ["grey2"], ["mean2"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Mul", ["mean", "mean"], ["mean_sq"]),
        helper.make_node("Sub", ["mean2", "mean_sq"], ["var"]),
        helper.make_node("Conv", ["mean", "hole_w", "hole_b"], ["hole_map"]),
        helper.make_node("Conv", ["var", "wr_w", "wr_b"], ["wrinkle_map"]),
        helper.make_node("ReduceMax", ["hole_map"], ["hole_pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("Softmax", ["hole_pooled"], ["hole_prob"], axis=1),
        helper.make_node("ReduceMean", ["wrinkle_map"], ["wrinkle_pooled"], axes=[2, 3], keepdims=0),
        helper.make_node("Softmax", ["wrinkle_pooled"], ["wrinkle_prob"], axis=1),
    ]
    outputs = [
        helper.make_tensor_value_info("hole_map", TensorProto.FLOAT, ["N", 2, "h", "w"]),
        helper.make_tensor_value_info("hole_prob", TensorProto.FLOAT, ["N", 2]),
        helper.make_tensor_value_info("wrinkle_map", TensorProto.FLOAT, ["N", 2, "h", "w"]),
        helper.make_tensor_value_info("wrinkle_prob", TensorProto.FLOAT, ["N", 2]),
    ]
    outputs = [o for o in outputs if o.name not in drop_outputs]
    if input_type != TensorProto.UINT8:
        nodes[0] = helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT)
    graph = helper.make_graph(
        nodes,
        "fabricscope_toy",
        [helper.make_tensor_value_info("image", input_type, ["N", "H", "W", 3])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = toy_metadata() if metadata is None else metadata
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def fabric_like(seed: int = 0, size: int = 224, hole_at: tuple[int, int] | None = None) -> np.ndarray:
    """A plain light cloth-like frame; ``hole_at`` (row, col cell) paints a dark hole there."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), (200, 190, 170), np.float32)
    img += rng.normal(0, 3, (size, size, 1))
    if hole_at is not None:
        r, c = hole_at
        img[r * 32 + 4 : r * 32 + 28, c * 32 + 4 : c * 32 + 28] = 10
    return np.clip(img, 0, 255).astype(np.uint8)
