"""Broken, foreign and hostile model files: each is refused with a ModelError that names the problem.

The same files through the CLI (``fabricscope info`` / ``score``) exit with
code 2 and print the message, never a traceback. Every model here is a real
ONNX file (or a real non-ONNX file); nothing is mocked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from PIL import Image
from toy_model import HEADS, build_toy_model, fabric_like, toy_metadata

from fabricscope import cli
from fabricscope.engine.inspector import Inspector, ModelError
from fabricscope.engine.thresholds import Thresholds


def _edit(src: Path, dst: Path, change: Callable[[onnx.ModelProto], None]) -> Path:
    model = onnx.load(str(src))
    change(model)
    dst.write_bytes(model.SerializeToString())
    return dst


def _input_dims(dims: list[int | str]) -> Callable[[onnx.ModelProto], None]:
    def change(model: onnx.ModelProto) -> None:
        shape = model.graph.input[0].type.tensor_type.shape
        for d, v in zip(shape.dim, dims, strict=True):
            d.Clear()
            if isinstance(v, int):
                d.dim_value = v
            else:
                d.dim_param = v

    return change


def _external(location: str) -> Callable[[onnx.ModelProto], None]:
    """Move the 8-byte initializer ``hole_w`` to external data at ``location``."""

    def change(model: onnx.ModelProto) -> None:
        init = next(t for t in model.graph.initializer if t.name == "hole_w")
        init.ClearField("raw_data")
        init.ClearField("float_data")
        init.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "8")):
            entry = init.external_data.add()
            entry.key, entry.value = key, value

    return change


def _head(**changes: object) -> str:
    head = HEADS[0].to_json() | changes
    return json.dumps([head, HEADS[1].to_json()])


def _run_time_failure(model: onnx.ModelProto) -> None:
    """A Reshape to a fixed element count: it loads, then fails on any real image."""
    g = model.graph
    g.initializer.append(onnx.numpy_helper.from_array(np.array([5, 7], np.int64), "bad_shape"))
    node = helper.make_node("Reshape", ["hole_pooled", "bad_shape"], ["hole_pooled_r"])
    g.node.insert(len(g.node) - 3, node)
    for n in g.node:
        if n.op_type == "Softmax" and n.input[0] == "hole_pooled":
            n.input[0] = "hole_pooled_r"


# name -> (how to make it in a folder, words the message must contain)
CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "empty file": (lambda d, ok: _write(d / "m.onnx", b""), "model file is empty"),
    "random bytes": (
        lambda d, ok: _write(d / "m.onnx", np.random.default_rng(1).bytes(5000)),
        "not a loadable ONNX model",
    ),
    "truncated ONNX": (lambda d, ok: _write(d / "m.onnx", ok.read_bytes()[:700]), "not a loadable ONNX model"),
    "a JPEG renamed .onnx": (
        lambda d, ok: _jpeg(d / "m.onnx"),
        "not a loadable ONNX model",
    ),
    "a folder": (lambda d, ok: _mkdir(d / "m.onnx"), "is a folder"),
    "missing file": (lambda d, ok: d / "nothing_here.onnx", "not found"),
    "float input": (
        lambda d, ok: build_toy_model(d / "m.onnx", input_type=TensorProto.FLOAT),
        "must be uint8 RGB pixels, it is tensor(float)",
    ),
    "channels-first input [N,3,H,W]": (
        lambda d, ok: _edit(ok, d / "m.onnx", _input_dims(["N", 3, "H", "W"])),
        "must have shape [N, H, W, 3]",
    ),
    "input fixed at another size": (
        lambda d, ok: _edit(ok, d / "m.onnx", _input_dims([1, 448, 448, 3])),
        "is fixed at [1, 448, 448, 3], but the metadata says 224x224",
    ),
    "missing map output": (
        lambda d, ok: build_toy_model(d / "m.onnx", drop_outputs=("hole_map",)),
        "names output 'hole_map', which the model does not have",
    ),
    "missing prob output": (
        lambda d, ok: build_toy_model(d / "m.onnx", drop_outputs=("wrinkle_prob",)),
        "names output 'wrinkle_prob'",
    ),
    "no metadata at all": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata={}),
        "not a FabricScope model: metadata key 'fabricscope.contract' is missing",
    ),
    "a later contract version": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(contract="2")),
        "contract version '2' is not supported",
    ),
    "heads missing": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=None)),
        "'fabricscope.heads' is missing",
    ),
    "heads not JSON": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads="[{'name': 'hole'")),
        "'fabricscope.heads' is not valid JSON",
    ),
    "heads an empty list": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads="[]")),
        "must be a non-empty JSON list",
    ),
    "a head that is not an object": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads='["hole"]')),
        "head #1 in 'fabricscope.heads' must be a JSON object",
    ),
    "unknown pooling": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=_head(pooling="median"))),
        "head 'hole': unknown pooling 'median' (expected 'max' or 'avg')",
    ),
    "three labels": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=_head(labels=["a", "b", "c"]))),
        "labels must be a list of two strings",
    ),
    "threshold out of range": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=_head(threshold=1.5))),
        "threshold must be a number between 0 and 1, got 1.5",
    ),
    "a head name that is not an identifier": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=_head(name="../hole"))),
        "name must be a simple identifier",
    ),
    "the same head twice": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=json.dumps([HEADS[0].to_json()] * 2))),
        "declares a head name twice",
    ),
    "input size not a number": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(input_size="big")),
        "'fabricscope.input_size' must be a whole number, got 'big'",
    ),
    "stride zero": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(stride="0")),
        "'fabricscope.stride' must be positive",
    ),
    "card not JSON": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(card="{name: toy")),
        "'fabricscope.card' is not valid JSON",
    ),
    "prob naming a map output": (
        lambda d, ok: build_toy_model(d / "m.onnx", metadata=toy_metadata(heads=_head(prob="hole_map"))),
        "output 'hole_map' must be [N, 2], it is [1, 2, 7, 7]",
    ),
    "a graph that fails on a real image": (
        lambda d, ok: _edit(ok, d / "m.onnx", _run_time_failure),
        "a test run on a blank 224x224 image failed",
    ),
    "external data: ../../etc/passwd": (
        lambda d, ok: _edit(ok, d / "m.onnx", _external("../../../../../../../../etc/passwd")),
        "refers to external data outside its folder",
    ),
    "external data: a file beside the model folder": (
        lambda d, ok: _edit(ok, _mkdir(d / "sub") / "m.onnx", _external("../weights.bin")),
        "refers to external data outside its folder",
    ),
    "external data: an absolute path": (
        lambda d, ok: _edit(ok, d / "m.onnx", _external(str(d / "weights.bin"))),
        "refers to external data outside its folder",
    ),
    "external data: a symlink out of the folder": (
        lambda d, ok: _edit(
            ok, _link(_mkdir(d / "sub") / "w.bin", d / "weights.bin").parent / "m.onnx", _external("w.bin")
        ),
        "refers to external data outside its folder",
    ),
    "external data: a device": (
        lambda d, ok: _edit(ok, d / "m.onnx", _external("/dev/zero")),
        "refers to external data outside its folder",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _jpeg(path: Path) -> Path:
    Image.fromarray(fabric_like(0, size=64)).save(path, "JPEG")
    return path


@pytest.fixture(scope="module")
def broken(toy_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for i, (name, (make, _)) in enumerate(CASES.items()):
        folder = tmp_path_factory.mktemp(f"bad{i}")
        # Readable weights beside (not inside) the model folder: what an escaping reference would read.
        (folder / "weights.bin").write_bytes(np.array([0.0, -12.0], np.float32).tobytes())
        out[name] = make(folder, toy_model)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_the_inspector_refuses_it_naming_the_problem(broken: dict[str, Path], name: str) -> None:
    with pytest.raises(ModelError) as info:
        Inspector(broken[name], provider="cpu", threads=1)
    message = str(info.value)
    assert CASES[name][1] in message, message
    assert "\n" not in message.strip() or len(message) < 2000  # one readable message, not a dump


@pytest.mark.parametrize("name", list(CASES))
def test_the_cli_exits_2_with_the_message(
    broken: dict[str, Path], name: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    image = _jpeg(tmp_path / "a.jpg")
    out = tmp_path / "r.csv"
    code = cli.main(["score", str(image), "--model", str(broken[name]), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and CASES[name][1] in err, err
    assert "Traceback" not in err
    assert not out.exists() or out.read_text() == ""  # refused before any scoring


def test_external_data_inside_the_model_folder_still_loads(toy_model: Path, tmp_path: Path) -> None:
    """The refusals above are about where the data is, not that it is external."""
    (tmp_path / "weights.bin").write_bytes(np.array([0.0, -12.0], np.float32).tobytes())
    path = _edit(toy_model, tmp_path / "m.onnx", _external("weights.bin"))
    ins = Inspector(path, provider="cpu", threads=1)
    holed = ins.inspect(fabric_like(0, hole_at=(2, 5)))
    assert Thresholds.of(ins.spec).flag(holed.head("hole")) and holed.head("hole").strongest == (2, 5)


def test_cli_info_refuses_a_broken_model_too(broken: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["info", "--model", str(broken["unknown pooling"])]) == 2
    assert "unknown pooling 'median'" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: chmod cannot make it unreadable")
def test_an_unreadable_model_file_is_refused(toy_model: Path, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(toy_model.read_bytes())
    path.chmod(0)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        Inspector(path)


# --- the external-data check itself (FabricScope's own, so it holds on ONNX Runtime < 1.24 too) -------------


def _external_tensor(name: str, location: str) -> onnx.TensorProto:
    tensor = onnx.numpy_helper.from_array(np.zeros(2, np.float32), name)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return tensor


def _with_subgraph_and_sparse(model: onnx.ModelProto) -> None:
    """External data in places a scan of the top-level initializers would miss: an If branch, a sparse tensor."""
    then = helper.make_graph(
        [helper.make_node("Identity", ["bw"], ["o"])], "then", [], [], [_external_tensor("bw", "../branch.bin")]
    )
    model.graph.node.append(helper.make_node("If", ["cond"], ["unused"], then_branch=then, else_branch=then))
    sparse = onnx.SparseTensorProto(
        values=_external_tensor("sv", "/abs/sparse.bin"), indices=onnx.numpy_helper.from_array(np.zeros(2, np.int64))
    )
    sparse.dims.append(4)
    model.graph.sparse_initializer.append(sparse)


def test_locations_are_found_in_subgraphs_and_sparse_tensors(toy_model: Path, tmp_path: Path) -> None:
    from fabricscope.engine.onnx_external import external_locations, outside_locations

    path = _edit(toy_model, tmp_path / "m.onnx", _with_subgraph_and_sparse)
    # The If node holds the branch twice (then and else).
    assert sorted(external_locations(path.read_bytes()) or []) == ["../branch.bin", "../branch.bin", "/abs/sparse.bin"]
    assert sorted(set(outside_locations(path))) == ["../branch.bin", "/abs/sparse.bin"]
    assert external_locations(toy_model.read_bytes()) == []


def test_an_unknown_group_field_does_not_hide_the_graph(toy_model: Path, tmp_path: Path) -> None:
    """Protobuf parsers skip unknown groups; a check that stopped at one could be dodged."""
    from fabricscope.engine.onnx_external import outside_locations

    bad = _edit(toy_model, tmp_path / "m.onnx", _external("../../etc/passwd"))
    group = bytes([(15 << 3) | 3, (1 << 3) | 2, 1, 0x41, (15 << 3) | 4])  # field 15 is unused in ModelProto
    bad.write_bytes(group + bad.read_bytes())
    assert outside_locations(bad) == ["../../etc/passwd"]
    with pytest.raises(ModelError, match="outside its folder"):
        Inspector(bad)


def _toy_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return build_toy_model(Path(d) / "toy.onnx").read_bytes()


_TOY_BYTES = _toy_bytes()


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 7)), max_size=4))
def test_the_location_reader_never_raises_on_damaged_files(cut: int, flips: list[tuple[int, int]]) -> None:
    from fabricscope.engine.onnx_external import external_locations

    data = bytearray(_TOY_BYTES[: max(1, cut)] if cut < len(_TOY_BYTES) else _TOY_BYTES)
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    found = external_locations(bytes(data))
    assert found is None or isinstance(found, list)
