"""The FabricScope model contract: what every FabricScope ONNX file declares.

This module is the single source of truth for the metadata keys and their
meaning. The training export writes them with :func:`build_metadata`; the
inspector reads and checks them with :func:`parse_metadata`. Nothing here
imports onnxruntime, onnx or Qt: it works on plain dicts and strings.

Metadata (ONNX ``metadata_props``), all values strings:

``fabricscope.contract``
    Contract version, currently ``"1"``.
``fabricscope.heads``
    JSON list, one object per head::

        {"name": "hole", "title": "Holes", "pooling": "max",
         "labels": ["intact", "hole"], "map": "hole_map", "prob": "hole_prob",
         "threshold": 0.5}

    ``map`` names a float32 ``[N, 2, h, w]`` output (pre-softmax class maps,
    channel 0 = fine, channel 1 = defect); ``prob`` names a float32 ``[N, 2]``
    output, the softmax of the map pooled with ``pooling`` (``max`` or ``avg``).
``fabricscope.input_size``
    Default square input side in pixels, e.g. ``"224"``.
``fabricscope.stride``
    Input pixels per map cell, e.g. ``"32"``.
``fabricscope.receptive_field``
    Side in input pixels of the square region one map cell sees, centred on
    the cell's centre, e.g. ``"212"``.
``fabricscope.card``
    JSON object: the model card (name, version, training data summary,
    evaluation figures). Free-form; shown to users, never interpreted.

The single input is ``image``: uint8 ``[N, H, W, 3]`` RGB; normalisation
happens inside the graph.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONTRACT_VERSION = "1"
INPUT_NAME = "image"

KEY_CONTRACT = "fabricscope.contract"
KEY_HEADS = "fabricscope.heads"
KEY_INPUT_SIZE = "fabricscope.input_size"
KEY_STRIDE = "fabricscope.stride"
KEY_RECEPTIVE_FIELD = "fabricscope.receptive_field"
KEY_CARD = "fabricscope.card"

POOLINGS = ("max", "avg")


class ContractError(ValueError):
    """A model file does not follow the FabricScope contract.

    The message names what is missing or wrong, in words a user can act on.
    """


@dataclass(frozen=True)
class HeadSpec:
    """One head of the model as its metadata declares it."""

    name: str
    pooling: str  # "max" or "avg"
    labels: tuple[str, str]  # (fine, defect)
    map_output: str
    prob_output: str
    threshold: float
    title: str = ""

    @property
    def display_title(self) -> str:
        pooling = "global max pooling" if self.pooling == "max" else "global average pooling"
        return f"{self.title or self.name.capitalize()} — {pooling}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "pooling": self.pooling,
            "labels": list(self.labels),
            "map": self.map_output,
            "prob": self.prob_output,
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class ModelSpec:
    """Everything the app needs to know about a model, read from its metadata."""

    heads: tuple[HeadSpec, ...]
    input_size: int
    stride: int
    receptive_field: int
    card: Mapping[str, Any] = field(default_factory=dict)
    contract_version: str = CONTRACT_VERSION

    def head(self, name: str) -> HeadSpec:
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(name)

    @property
    def head_names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.heads)


def build_metadata(
    heads: list[HeadSpec],
    input_size: int,
    stride: int,
    receptive_field: int,
    card: Mapping[str, Any],
) -> dict[str, str]:
    """The metadata_props a conforming ONNX file carries (used by the export)."""
    return {
        KEY_CONTRACT: CONTRACT_VERSION,
        KEY_HEADS: json.dumps([h.to_json() for h in heads]),
        KEY_INPUT_SIZE: str(input_size),
        KEY_STRIDE: str(stride),
        KEY_RECEPTIVE_FIELD: str(receptive_field),
        KEY_CARD: json.dumps(card),
    }


def _positive_int(meta: Mapping[str, str], key: str) -> int:
    if key not in meta:
        raise ContractError(f"metadata key '{key}' is missing")
    try:
        value = int(meta[key])
    except ValueError:
        raise ContractError(f"metadata '{key}' must be a whole number, got {meta[key]!r}") from None
    if value <= 0:
        raise ContractError(f"metadata '{key}' must be positive, got {value}")
    return value


def _parse_head(index: int, raw: Any) -> HeadSpec:
    where = f"head #{index + 1} in '{KEY_HEADS}'"
    if not isinstance(raw, dict):
        raise ContractError(f"{where} must be a JSON object")
    for key in ("name", "pooling", "labels", "map", "prob", "threshold"):
        if key not in raw:
            raise ContractError(f"{where} has no '{key}'")
    name = raw["name"]
    if not isinstance(name, str) or not name.isidentifier():
        raise ContractError(f"{where}: name must be a simple identifier, got {name!r}")
    where = f"head '{name}'"
    pooling = raw["pooling"]
    if pooling not in POOLINGS:
        raise ContractError(f"{where}: unknown pooling {pooling!r} (expected 'max' or 'avg')")
    labels = raw["labels"]
    if not (isinstance(labels, list) and len(labels) == 2 and all(isinstance(x, str) for x in labels)):
        raise ContractError(f"{where}: labels must be a list of two strings [fine, defect]")
    for key in ("map", "prob"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise ContractError(f"{where}: '{key}' must name an output")
    threshold = raw["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ContractError(f"{where}: threshold must be a number between 0 and 1, got {threshold!r}")
    title = raw.get("title", "")
    return HeadSpec(
        name=name,
        pooling=pooling,
        labels=(labels[0], labels[1]),
        map_output=raw["map"],
        prob_output=raw["prob"],
        threshold=float(threshold),
        title=title if isinstance(title, str) else "",
    )


def parse_metadata(meta: Mapping[str, str]) -> ModelSpec:
    """Read and check the contract metadata; raise ContractError naming any fault."""
    if KEY_CONTRACT not in meta:
        raise ContractError(
            f"not a FabricScope model: metadata key '{KEY_CONTRACT}' is missing "
            "(the file may be a valid ONNX model made for something else)"
        )
    if meta[KEY_CONTRACT] != CONTRACT_VERSION:
        raise ContractError(
            f"contract version {meta[KEY_CONTRACT]!r} is not supported "
            f"(this FabricScope reads version {CONTRACT_VERSION})"
        )
    if KEY_HEADS not in meta:
        raise ContractError(f"metadata key '{KEY_HEADS}' is missing")
    try:
        raw_heads = json.loads(meta[KEY_HEADS])
    except json.JSONDecodeError as exc:
        raise ContractError(f"metadata '{KEY_HEADS}' is not valid JSON: {exc}") from None
    if not isinstance(raw_heads, list) or not raw_heads:
        raise ContractError(f"metadata '{KEY_HEADS}' must be a non-empty JSON list")
    heads = tuple(_parse_head(i, raw) for i, raw in enumerate(raw_heads))
    names = [h.name for h in heads]
    if len(set(names)) != len(names):
        raise ContractError(f"metadata '{KEY_HEADS}' declares a head name twice: {names}")
    card: Any = {}
    if KEY_CARD in meta:
        try:
            card = json.loads(meta[KEY_CARD])
        except json.JSONDecodeError as exc:
            raise ContractError(f"metadata '{KEY_CARD}' is not valid JSON: {exc}") from None
        if not isinstance(card, dict):
            raise ContractError(f"metadata '{KEY_CARD}' must be a JSON object")
    return ModelSpec(
        heads=heads,
        input_size=_positive_int(meta, KEY_INPUT_SIZE),
        stride=_positive_int(meta, KEY_STRIDE),
        receptive_field=_positive_int(meta, KEY_RECEPTIVE_FIELD),
        card=card,
    )
