"""Mirror-averaged maps: the exported graph averages each head's map over mirrored views of the input.

The mirrors form a group, so the averaged map must mirror exactly with the input; the ONNX graph must
compute the same as the torch wrapper, also at sizes other than 224x224; the shipped file does it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "fabric_inspector.onnx"
OUTPUTS = ["hole_map", "hole_prob", "wrinkle_map", "wrinkle_prob"]


def _session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _mirror_check(sess: ort.InferenceSession, x: np.ndarray, axes: tuple[int, ...]) -> None:
    """Mirroring the NHWC input along ``axes`` (1 = up-down, 2 = left-right) mirrors every map the
    same way and leaves every probability as it was."""
    a = dict(zip(OUTPUTS, sess.run(OUTPUTS, {"image": x}), strict=True))
    b = dict(zip(OUTPUTS, sess.run(OUTPUTS, {"image": np.ascontiguousarray(np.flip(x, axes))}), strict=True))
    map_axes = tuple(a_ + 1 for a_ in axes)  # NHWC image axis 1/2 -> NCHW map axis 2/3
    for name in OUTPUTS:
        want = np.flip(a[name], map_axes) if name.endswith("_map") else a[name]
        np.testing.assert_allclose(b[name], want, atol=2e-4, err_msg=name)


def test_shipped_model_averages_mirrored_views():
    meta = {p.key: p.value for p in __import__("onnx").load(str(MODEL), load_external_data=False).metadata_props}
    card = json.loads(meta["fabricscope.card"])
    assert card["views"] == 2 and "2 views, the image and its left-right mirror" in card["architecture"]
    from fabricscope.synth import generate

    x = np.stack([generate(seed).image for seed in (21, 22)])
    sess = _session(MODEL)
    _mirror_check(sess, x, (2,))
    # not symmetric up-down: the 2-view graph averages left-right mirrors only
    a = sess.run(["hole_map"], {"image": x})[0]
    b = sess.run(["hole_map"], {"image": np.ascontiguousarray(x[:, ::-1])})[0]
    assert not np.allclose(b, a[:, :, ::-1], atol=1e-3)


torch = pytest.importorskip("torch")


def _tiny_net(views: int):
    from fabricscope.train.model import FabricNet

    torch.manual_seed(0)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 1), (16, 0)), views=views)
    with torch.no_grad():  # random BatchNorm statistics: a net whose answers are not mirror-symmetric
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def test_views_must_be_1_2_or_4():
    from fabricscope.train.model import FabricNet, view_averaged_maps

    with pytest.raises(ValueError, match="views"):
        FabricNet(views=3)
    with pytest.raises(ValueError, match="views"):
        view_averaged_maps(_tiny_net(1), torch.zeros(1, 3, 64, 64), 8)


def test_one_view_is_the_plain_network_and_more_views_average():
    from fabricscope.train.model import view_averaged_maps

    net = _tiny_net(1)
    x = torch.randn(3, 3, 96, 128)
    with torch.no_grad():
        plain = net(x)
        one = view_averaged_maps(net, x, 1)
        two = view_averaged_maps(net, x, 2)
        mirrored = net(x.flip(3))
    for p, o, t, m in zip(plain, one, two, mirrored, strict=True):
        assert torch.equal(p, o)
        torch.testing.assert_close(t, (p + m.flip(3)) / 2, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(t, p, atol=1e-4)  # the mirror does change the answer


@pytest.mark.parametrize(("views", "size"), [(2, (224, 224)), (4, (224, 224)), (4, (160, 256))])
def test_exported_views_match_torch_and_mirror_exactly(tmp_path, views, size):
    from fabricscope.train.export import export_onnx
    from fabricscope.train.model import ExportWrapper

    net = _tiny_net(views)
    path = export_onnx(net, tmp_path / "m.onnx", {"hole": 0.5, "wrinkle": 0.5}, {"name": "views test"})
    sess = _session(path)
    x = np.random.default_rng(3).integers(0, 256, (2, *size, 3), dtype=np.uint8)
    got = sess.run(OUTPUTS, {"image": x})
    with torch.no_grad():
        ref = [t.numpy() for t in ExportWrapper(net)(torch.from_numpy(x))]
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-4, rtol=1e-3)
    assert got[0].shape == (2, 2, size[0] // 32, size[1] // 32)
    _mirror_check(sess, x, (2,))
    if views == 4:
        _mirror_check(sess, x, (1,))
        _mirror_check(sess, x, (1, 2))


def test_reexport_keeps_the_training_record(tmp_path):
    """--from-checkpoint: no training, new views and thresholds, the card's training record kept."""
    from fabricscope.train.__main__ import main
    from fabricscope.train.model import load_checkpoint

    first = tmp_path / "first"
    assert main(["--out", str(first), "--quick", "--views", "1", "--no-eval"]) == 0
    again = tmp_path / "again"
    argv = ["--out", str(again), "--quick", "--from-checkpoint", str(first / "fabric_inspector.pt"), "--views", "4"]
    assert main([*argv, "--no-eval"]) == 0

    def card(d: Path) -> dict:
        m = __import__("onnx").load(str(d / "fabric_inspector.onnx"), load_external_data=False)
        return json.loads({p.key: p.value for p in m.metadata_props}["fabricscope.card"])

    before, after = card(first), card(again)
    assert before["views"] == 1 and after["views"] == 4
    assert after["training"] == before["training"] and after["training_command"] == before["training_command"]
    assert "--from-checkpoint" in after["export_command"] and "export_command" not in before
    net = load_checkpoint(again / "fabric_inspector.pt", calibrated=False)  # as trained: nothing retrained
    assert net.views == 4
    ref = load_checkpoint(first / "fabric_inspector.pt", calibrated=False)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, net.state_dict()[k]), k
    x = np.random.default_rng(5).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    _mirror_check(_session(again / "fabric_inspector.onnx"), x, (1, 2))
