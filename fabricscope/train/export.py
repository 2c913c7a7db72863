"""Export a trained FabricNet to a contract-conforming ONNX file (uint8 NHWC in, maps + probs out)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from fabricscope.engine.contract import INPUT_NAME, HeadSpec, build_metadata
from fabricscope.train.model import ExportWrapper, FabricNet

HEAD_INFO = {
    "hole": ("Holes", ("intact", "hole")),
    "wrinkle": ("Wrinkles", ("smooth", "wrinkled")),
}
INPUT_SIZE = 224


def head_specs(net: FabricNet, thresholds: dict[str, float]) -> list[HeadSpec]:
    specs = []
    for name, pooling in zip(net.head_names, net.poolings, strict=True):
        title, labels = HEAD_INFO.get(name, (name.capitalize(), ("fine", "defect")))
        specs.append(
            HeadSpec(
                name=name,
                pooling=pooling,
                labels=labels,
                map_output=f"{name}_map",
                prob_output=f"{name}_prob",
                threshold=float(np.clip(thresholds.get(name, 0.5), 0.01, 0.99)),
                title=title,
            )
        )
    return specs


def export_onnx(
    net: FabricNet,
    path: Path,
    thresholds: dict[str, float],
    card: dict[str, Any],
    opset: int = 17,
) -> Path:
    """Write ``net`` to ``path`` as one self-contained ONNX file with the contract metadata."""
    net = net.eval().cpu()
    wrapper = ExportWrapper(net).eval()
    dummy = torch.zeros(1, INPUT_SIZE, INPUT_SIZE, 3, dtype=torch.uint8)
    outputs: list[str] = []
    dynamic: dict[str, dict[int, str]] = {INPUT_NAME: {0: "N", 1: "H", 2: "W"}}
    for name in net.head_names:
        outputs += [f"{name}_map", f"{name}_prob"]
        dynamic[f"{name}_map"] = {0: "N", 2: "h", 3: "w"}
        dynamic[f"{name}_prob"] = {0: "N"}
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (dummy,),
            buf,
            input_names=[INPUT_NAME],
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    model = onnx.load_from_string(buf.getvalue())
    geom = net.geometry()
    meta = build_metadata(head_specs(net, thresholds), INPUT_SIZE, geom.stride, geom.receptive_field, card)
    set_metadata(model, meta)
    model.producer_name = "fabricscope.train"
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def set_metadata(model: onnx.ModelProto, meta: dict[str, str]) -> None:
    keep = [(p.key, p.value) for p in model.metadata_props if p.key not in meta]
    del model.metadata_props[:]
    for key, value in [*keep, *meta.items()]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def update_card(path: Path, card: dict[str, Any]) -> None:
    """Replace the model card in an exported file (e.g. after evaluation), keeping everything else."""
    import json

    from fabricscope.engine.contract import KEY_CARD

    model = onnx.load(str(path))
    set_metadata(model, {KEY_CARD: json.dumps(card)})
    onnx.save(model, str(path))
