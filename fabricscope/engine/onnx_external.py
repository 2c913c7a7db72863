"""Refuse ONNX files whose external data points outside their own folder, without the onnx package.

An ONNX tensor may keep its values in another file, named by a path inside the
model (``external_data`` entry ``location``). A model picked up from anywhere
could name ``../../home/me/.ssh/id_rsa`` or ``/etc/shadow`` and have the runtime
read it as weights. ONNX Runtime refuses that from about 1.24 on; the older
releases FabricScope accepts do not. :func:`outside_locations` reads the
locations straight from the protobuf wire format (``onnx`` is not a runtime
dependency), so the inspector can refuse such a model before any session exists.

Only the messages that can hold tensors are walked: model -> graph / functions ->
nodes -> attributes (tensors, subgraphs) and initializers, sparse ones included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Field numbers from onnx.proto: message -> {field: message kind it holds}.
_MODEL = "model"
_GRAPH = "graph"
_NODE = "node"
_ATTR = "attr"
_FUNCTION = "function"
_SPARSE = "sparse"
_TENSOR = "tensor"
_ENTRY = "entry"
_CHILDREN: dict[str, dict[int, str]] = {
    _MODEL: {7: _GRAPH, 25: _FUNCTION},
    _GRAPH: {1: _NODE, 5: _TENSOR, 15: _SPARSE},
    _NODE: {5: _ATTR},
    _ATTR: {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: _SPARSE, 23: _SPARSE},
    _FUNCTION: {7: _NODE},
    _SPARSE: {1: _TENSOR, 2: _TENSOR},
    _TENSOR: {13: _ENTRY},
}
_MAX_DEPTH = 100  # protobuf's own default nesting limit


class _Malformed(Exception):
    pass


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Malformed
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: memoryview) -> Iterator[tuple[int, memoryview]]:
    """(field number, bytes) of each length-delimited field; other wire types are skipped."""
    pos, end, groups = 0, len(buf), 0
    while pos < end:
        key, pos = _varint(buf, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise _Malformed
            if groups == 0:
                yield key >> 3, buf[pos : pos + length]
            pos += length
        elif wire == 3:  # a (deprecated) group: parsers skip it as an unknown field, so do we
            groups += 1
        elif wire == 4:
            groups -= 1
            if groups < 0:
                raise _Malformed
        else:
            raise _Malformed
        if pos > end:
            raise _Malformed


def _locations(buf: memoryview, kind: str, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        raise _Malformed
    children = _CHILDREN.get(kind, {})
    for number, value in _fields(buf):
        child = children.get(number)
        if child == _ENTRY:
            entry = dict(_fields(value))
            if bytes(entry.get(1, b"")) == b"location":
                yield os.fsdecode(bytes(entry.get(2, b"")))
        elif child is not None:
            yield from _locations(value, child, depth + 1)


def external_locations(data: bytes) -> list[str] | None:
    """Every external-data location named in a serialized ModelProto; None if it is not valid protobuf."""
    try:
        return list(_locations(memoryview(data), _MODEL, 0))
    except _Malformed:
        return None


def outside_locations(model_path: Path) -> list[str]:
    """The external-data locations of ``model_path`` that are absolute or resolve outside its folder.

    Symlinks are followed: a link inside the folder to a file elsewhere is outside.
    A file that is not valid protobuf yields nothing here; ONNX Runtime then refuses it.
    """
    locations = external_locations(model_path.read_bytes())
    if not locations:
        return []
    folder = os.path.realpath(model_path.parent)
    bad = []
    for loc in locations:
        if not loc or os.path.isabs(loc) or Path(loc).drive:
            bad.append(loc)
            continue
        target = os.path.realpath(os.path.join(folder, loc))
        if os.path.commonpath([folder, target]) != folder:
            bad.append(loc)
    return bad
