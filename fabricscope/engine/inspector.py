"""The inspection engine: an ONNX Runtime session behind the FabricScope contract.

``Inspector(model_path)`` opens a model, checks it against the contract
(metadata, input, outputs, and one dry run for the output shapes) and turns
frames into :class:`Inspection` values. It holds no Qt and no torch; the GUI,
the CLI and the batch engine all call it the same way. ``session.run`` is
thread-safe, so one inspector may serve a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from .. import assets
from . import onnx_external, providers
from .contract import INPUT_NAME, ContractError, HeadSpec, ModelSpec, parse_metadata
from .imaging import fit_to_input
from .pooling import CELL_FORMULA, PROB_FORMULA, cell_logits, cell_scores, defect_probability, pool, strongest_cell
from .thresholds import Thresholds

DEFAULT_MODEL = assets.shipped_model()  # models/ in a checkout, inside the package when installed


class ModelError(Exception):
    """A model file that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class HeadResult:
    """One head's answer for one image."""

    spec: HeadSpec
    class_map: np.ndarray  # [2, h, w] float32, pre-softmax (0 = fine, 1 = defect)
    prob: float  # P(defect) from the model's pooled softmax; the verdict is Thresholds.flag(head)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def cells(self) -> np.ndarray:
        """What the heatmaps draw, [h, w] on a fixed 0..1 scale (:func:`pooling.cell_scores`).

        ``max`` head: ``sigmoid(defect_cell - max fine)``, whose maximum is P;
        ``avg`` head: ``sigmoid(defect_cell - fine_cell)``, and P is sigmoid of the
        mean of their logits (:attr:`cell_logits`).
        """
        return cell_scores(self.class_map, self.spec.pooling)

    @property
    def cell_logits(self) -> np.ndarray:
        """The drawn cells' logits [h, w]: ``defect - max fine`` (max head) or the cell margin (avg head)."""
        return cell_logits(self.class_map, self.spec.pooling)

    @property
    def strongest(self) -> tuple[int, int]:
        """(row, col) of the drawn map's largest cell; for a max head, the cell that sets P."""
        return strongest_cell(self.class_map, self.spec.pooling)

    @property
    def prob_formula(self) -> str:
        """How P comes from the drawn map, in words: "max of the map" or "σ(mean cell margin)"."""
        return PROB_FORMULA.get(self.spec.pooling, self.spec.pooling)

    @property
    def cell_formula(self) -> str:
        """What one drawn cell is, in words."""
        return CELL_FORMULA.get(self.spec.pooling, self.spec.pooling)

    @property
    def headline(self) -> str:
        """P as the panels state it, with how it comes from the drawn map.

        E.g. "P(hole) = max of the map = 0.41", "P(wrinkled) = σ(mean cell margin) = 0.12".
        """
        return f"P({self.spec.labels[1]}) = {self.prob_formula} = {self.prob:.2f}"

    def pooled(self, pooling: str) -> tuple[float, float]:
        """The map's (fine, defect) scores pooled with ``pooling``: the two logits P's softmax takes."""
        fine, defect = pool(self.class_map.astype(np.float64), pooling)
        return float(fine), float(defect)

    def prob_if_pooled(self, pooling: str) -> float:
        """What this head would say if its map were pooled with ``pooling`` (the pooling lab)."""
        return defect_probability(self.class_map, pooling)


@dataclass(frozen=True)
class Inspection:
    """The model's answer for one image, per head, with timing and provenance.

    Probabilities and maps only: a verdict is these probabilities at some :class:`.Thresholds`.
    """

    heads: tuple[HeadResult, ...]
    image_size: tuple[int, int]  # (width, height) of the image as given
    infer_ms: float  # model time per image (batch time / batch size)
    provider: str  # short name of the provider that really ran it
    extras: Mapping[str, Any] = field(default_factory=dict)

    def head(self, name: str) -> HeadResult:
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(name)

    def to_dict(self, thresholds: Thresholds) -> dict[str, Any]:
        """A JSON-ready summary at ``thresholds``: probabilities, flags, strongest cells and the cell maps."""
        return {
            "image_size": list(self.image_size),
            "infer_ms": round(self.infer_ms, 3),
            "provider": self.provider,
            "heads": {
                h.name: {
                    "pooling": h.spec.pooling,
                    "prob": h.prob,
                    "threshold": thresholds[h.name],
                    "flag": thresholds.flag(h),
                    "label": thresholds.label(h),
                    "strongest_cell": list(h.strongest),
                    "cells": np.round(h.cells, 4).tolist(),
                    "cells_are": h.cell_formula,
                    "prob_from_cells": h.prob_formula,
                    "class_map": np.round(h.class_map, 4).tolist(),
                }
                for h in self.heads
            },
        }


@dataclass(frozen=True)
class ProviderReport:
    """What was asked for, what really runs, and a plain note when they differ."""

    requested: str
    used: tuple[str, ...]  # ONNX Runtime names, from session.get_providers()
    note: str

    @property
    def active(self) -> str:
        return providers.short_name(self.used[0]) if self.used else "none"


def _session_options(threads: int | None) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: fall-back warnings are reported by us, in words
    # No spin-waiting between operators: the model always shares the CPU with image
    # decoding (batch), frame grabbing and painting (live view); spinning threads
    # would burn the cores those need (batch scoring measured ~30% faster on 2 cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def open_session(path: Path, provider: str, threads: int | None) -> tuple[ort.InferenceSession, ProviderReport]:
    """Create the ONNX Runtime session, turning every failure into a ModelError."""
    if not path.exists():
        raise ModelError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelError(f"model path is a folder, not an .onnx file: {path}")
    if path.stat().st_size == 0:
        raise ModelError(f"model file is empty: {path}")
    try:
        outside = onnx_external.outside_locations(path)  # ONNX Runtime < 1.24 would read them
    except OSError as exc:
        raise ModelError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    if outside:
        shown = ", ".join(repr(loc) for loc in outside[:3])
        raise ModelError(
            f"{path.name} refers to external data outside its folder ({shown}); refused: "
            "a model may only read data files kept beside it"
        )
    wanted, note = providers.plan(provider)
    try:
        session = ort.InferenceSession(str(path), sess_options=_session_options(threads), providers=wanted)
    except Exception as exc:  # ORT raises several types for bad files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"not a loadable ONNX model ({path.name}): {first_line}") from None
    used = list(session.get_providers())
    note = note or providers.describe_fallback(provider, used)
    return session, ProviderReport(requested=provider, used=tuple(used), note=note)


def check_io(session: ort.InferenceSession, spec: ModelSpec) -> None:
    """Check the input and the outputs each head names; raise ContractError naming any fault."""
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        names = [i.name for i in inputs]
        raise ContractError(f"the model must have exactly one input named '{INPUT_NAME}', it has {names}")
    inp = inputs[0]
    if inp.type != "tensor(uint8)":
        raise ContractError(f"input '{INPUT_NAME}' must be uint8 RGB pixels, it is {inp.type}")
    shape = inp.shape
    if len(shape) != 4 or (isinstance(shape[3], int) and shape[3] != 3) or (shape[1] == 3 and shape[3] != 3):
        layout = " (channels first: export it channels last)" if len(shape) == 4 and shape[1] == 3 else ""
        raise ContractError(f"input '{INPUT_NAME}' must have shape [N, H, W, 3], it has {shape}{layout}")
    for dim, size in zip(shape[1:3], (spec.input_size, spec.input_size), strict=True):
        if isinstance(dim, int) and dim != size:
            raise ContractError(f"input '{INPUT_NAME}' is fixed at {shape}, but the metadata says {size}x{size}")
    outputs = {o.name: o for o in session.get_outputs()}
    for head in spec.heads:
        for out in (head.map_output, head.prob_output):
            if out not in outputs:
                raise ContractError(f"head '{head.name}' names output '{out}', which the model does not have")
            if outputs[out].type != "tensor(float)":
                raise ContractError(f"output '{out}' must be float32, it is {outputs[out].type}")


class Inspector:
    """Images in, :class:`Inspection` values out, for one model and one execution provider."""

    def __init__(self, model_path: str | Path = DEFAULT_MODEL, provider: str = "auto", threads: int | None = None):
        self.path = Path(model_path)
        self.threads = threads
        self.session, self.provider_report = open_session(self.path, provider, threads)
        try:
            meta = self.session.get_modelmeta().custom_metadata_map
            self.spec: ModelSpec = parse_metadata(meta)
            check_io(self.session, self.spec)
            self._check_shapes()
        except ContractError as exc:
            raise ModelError(f"{self.path.name} breaks the FabricScope model contract: {exc}") from None
        self._outputs = [name for h in self.spec.heads for name in (h.map_output, h.prob_output)]

    @property
    def input_size(self) -> int:
        return self.spec.input_size

    @property
    def provider(self) -> str:
        return self.provider_report.active

    def _check_shapes(self) -> None:
        size = self.spec.input_size
        outs = [n for h in self.spec.heads for n in (h.map_output, h.prob_output)]
        try:
            values = self.session.run(outs, {INPUT_NAME: np.zeros((1, size, size, 3), np.uint8)})
        except Exception as exc:  # any failure here means the graph cannot run
            raise ContractError(f"a test run on a blank {size}x{size} image failed: {exc}") from None
        for head, (cmap, prob) in zip(self.spec.heads, zip(values[::2], values[1::2], strict=True), strict=True):
            if cmap.ndim != 4 or cmap.shape[:2] != (1, 2):
                raise ContractError(f"output '{head.map_output}' must be [N, 2, h, w], it is {list(cmap.shape)}")
            if prob.shape != (1, 2):
                raise ContractError(f"output '{head.prob_output}' must be [N, 2], it is {list(prob.shape)}")

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """Fit one H x W x 3 uint8 frame to the model input (see imaging.fit_to_input)."""
        return fit_to_input(frame, self.spec.input_size)

    def run(self, batch: np.ndarray, image_sizes: Sequence[tuple[int, int]] | None = None) -> list[Inspection]:
        """Inspect a prepared batch: uint8 [N, S, S, 3] at the model's input size."""
        if batch.ndim != 4 or batch.shape[-1] != 3 or batch.dtype != np.uint8:
            raise ValueError(f"expected a uint8 [N, H, W, 3] batch, got {batch.dtype} {batch.shape}")
        n = batch.shape[0]
        if n == 0:
            return []
        sizes = list(image_sizes) if image_sizes is not None else [(batch.shape[2], batch.shape[1])] * n
        start = time.perf_counter()
        values = self.session.run(self._outputs, {INPUT_NAME: np.ascontiguousarray(batch)})
        per_image_ms = (time.perf_counter() - start) * 1000.0 / n
        provider = self.provider
        results = []
        for i in range(n):
            heads = tuple(
                HeadResult(
                    spec=head,
                    class_map=values[2 * k][i],
                    prob=float(values[2 * k + 1][i, 1]),
                )
                for k, head in enumerate(self.spec.heads)
            )
            results.append(Inspection(heads=heads, image_size=sizes[i], infer_ms=per_image_ms, provider=provider))
        return results

    def inspect(self, frame: np.ndarray) -> Inspection:
        """Inspect one H x W x 3 uint8 RGB frame of any size."""
        return self.inspect_batch([frame])[0]

    def inspect_batch(self, frames: Sequence[np.ndarray]) -> list[Inspection]:
        """Inspect several frames of any sizes in one model run."""
        if not frames:
            return []
        batch = np.stack([self.prepare(f) for f in frames])
        return self.run(batch, [(f.shape[1], f.shape[0]) for f in frames])
