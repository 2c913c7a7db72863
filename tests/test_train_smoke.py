"""A tiny training run + export: the training extra works end to end (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from fabricscope.train import augment as A  # noqa: E402  (needs torch, checked above)


def test_tiny_train_and_export(tmp_path):
    import onnxruntime as ort

    from fabricscope.engine.contract import parse_metadata
    from fabricscope.train import data as D
    from fabricscope.train.export import export_onnx
    from fabricscope.train.model import ExportWrapper, FabricNet
    from fabricscope.train.trainer import TrainConfig, train

    arrays = D.build(8, D.TRAIN_SEED0, workers=1)
    assert arrays.images.shape == (8, 224, 224, 3) and arrays.masks.shape == (8, 56, 56)
    assert np.array_equal(arrays.has_hole, arrays.masks.reshape(8, -1).max(1) > 0)
    from fabricscope.synth import generate

    opened = [int(generate(D.TRAIN_SEED0 + k).hole_mask.sum()) for k in range(8)]
    assert arrays.open_pixels().tolist() == opened and any(opened)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 0), (16, 0)))
    before = [p.detach().clone() for p in net.parameters()]
    log = train(net, arrays, TrainConfig(max_steps=2, batch=4, minutes=5, threads=1), log=False)
    assert log.steps == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    geom = net.geometry()
    assert geom.stride == 32
    path = export_onnx(net, tmp_path / "m.onnx", {"hole": 0.4, "wrinkle": 0.6}, {"name": "smoke"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    spec = parse_metadata(meta)
    assert spec.head("hole").threshold == pytest.approx(0.4)
    assert spec.receptive_field == geom.receptive_field
    x = arrays.images[:2]
    got = sess.run(["hole_map", "hole_prob", "wrinkle_map", "wrinkle_prob"], {"image": x})
    with torch.no_grad():
        ref = [t.numpy() for t in ExportWrapper(net.eval())(torch.from_numpy(x))]
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_both_optimizers_train_and_a_failed_run_leaves_no_training_hook(optimizer):
    from fabricscope.train import data as D
    from fabricscope.train.model import FabricNet
    from fabricscope.train.trainer import TrainConfig, train

    arrays = D.build(4, D.TRAIN_SEED0, workers=1)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 0), (16, 0)))
    before = [p.detach().clone() for p in net.parameters()]
    train(net, arrays, TrainConfig(max_steps=1, batch=4, optimizer=optimizer, threads=1), log=False)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    with pytest.raises(ValueError, match="unknown optimizer"):
        train(net, arrays, TrainConfig(max_steps=1, batch=4, optimizer="lbfgs", threads=1), log=False)
    assert not any(m._forward_hooks for m in net.modules())  # the deep-supervision hook is gone
    assert not net.training


def test_precision_choice():
    from fabricscope.train import data as D
    from fabricscope.train.model import FabricNet
    from fabricscope.train.trainer import TrainConfig, train, use_bf16

    assert use_bf16("fp32") is False
    assert use_bf16("auto") == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    with pytest.raises(ValueError, match="unknown precision"):
        use_bf16("fp8")
    arrays = D.build(4, D.TRAIN_SEED0, workers=1)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 0), (16, 0)))
    with pytest.raises(ValueError, match="unknown precision"):
        train(net, arrays, TrainConfig(max_steps=1, batch=4, precision="fp8", threads=1), log=False)
    assert not any(m._forward_hooks for m in net.modules())
    for precision in ("fp32", "auto"):
        log = train(net, arrays, TrainConfig(max_steps=1, batch=4, precision=precision, threads=1), log=False)
        assert log.precision == ("bf16" if use_bf16(precision) else "fp32")
        assert all(p.dtype == torch.float32 for p in net.parameters())  # autocast leaves weights float32


def test_training_device_choice_fails_early_and_clearly():
    from fabricscope.train.fit import parse
    from fabricscope.train.trainer import TrainConfig, train, training_device

    assert training_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        training_device("tpu")
    if torch.cuda.is_available():
        assert training_device("cuda").type == "cuda"
        return
    with pytest.raises(ValueError, match="sees no CUDA GPU"):
        train(None, None, TrainConfig(device="cuda"), log=False)  # before it touches the net or the data
    with pytest.raises(SystemExit):  # the CLI refuses before minutes of rendering
        parse(["--device", "cuda"])


def test_augment_on_a_named_device_draws_the_same_batch():
    """The device path keeps the CPU's random draws: the same seed gives the same batch wherever it runs."""
    from fabricscope.train import data as D

    arrays = D.build(6, D.TRAIN_SEED0, workers=1)
    args = (arrays.images, arrays.masks, arrays.has_hole, arrays.wrinkled)
    plain = A.augment(*args, torch.Generator().manual_seed(3), crop=128, focus=0.8)
    named = A.augment(*args, torch.Generator().manual_seed(3), crop=128, focus=0.8, device=torch.device("cpu"))
    for field in ("x", "hole", "wrinkle", "cells", "fine"):
        assert torch.equal(getattr(plain, field), getattr(named, field)), field
    # a device generator for the pixel noise changes the noise only, not the views or their targets
    noisy = A.augment(*args, torch.Generator().manual_seed(3), crop=128, focus=0.8, noise_gen=torch.Generator())
    assert torch.equal(noisy.cells, plain.cells) and torch.equal(noisy.hole, plain.hole)
    assert not torch.equal(noisy.x, plain.x)


def test_card_records_the_command_that_trained():
    from fabricscope.train.fit import COMMAND, command_of

    assert command_of(["--out", "/tmp/m"]) == COMMAND
    assert command_of(["--out=/tmp/m", "--device", "cuda", "--batch", "256"]) == COMMAND + " --device cuda --batch 256"
    resumed = ["--state", "runs/s.pt", "--steps", "9", "--resume", "--save-every=2", "--out", "m"]
    assert command_of(resumed) == COMMAND + " --steps 9"


def test_cell_weight_option_defaults_to_the_shipped_recipe():
    from fabricscope.train.fit import parse
    from fabricscope.train.trainer import TrainConfig

    assert parse([]).cell_weight == TrainConfig.cell_weight == 3.0
    assert parse(["--cell-weight", "0.5"]).cell_weight == 0.5
    assert parse([]).sharp_below == TrainConfig.sharp_below == 150.0  # the shipped recipe
    assert parse(["--sharp-below", "150"]).sharp_below == 150.0


def test_focused_crops_keep_a_hole_in_view():

    n = 64
    images = np.full((n, 224, 224, 3), 160, np.uint8)
    masks = np.zeros((n, 56, 56), np.uint8)
    masks[:, 2:6, 2:6] = 16  # a 16-px hole near the top-left corner: most 128-px crops miss it
    has_hole, wrinkled = np.ones(n, bool), np.zeros(n, bool)
    anywhere = A.augment(images, masks, has_hole, wrinkled, torch.Generator().manual_seed(0), crop=128)
    focused = A.augment(images, masks, has_hole, wrinkled, torch.Generator().manual_seed(0), crop=128, focus=1.0)
    assert (anywhere.hole == 1).sum() < n // 2
    assert (focused.hole == 1).all()
    assert ((focused.cells == 1).flatten(1).any(1)).all()


def test_sharp_below_spares_small_holes_the_blur_and_nothing_else():
    """Hole views showing fewer than ``sharp_below`` hole pixels skip blur and down-up sampling; every other
    view, every target and every random draw stay as in the shipped recipe."""

    n = 64
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 224, 224, 3), dtype=np.uint8)  # texture, so blur shows
    masks = np.zeros((n, 56, 56), np.uint8)
    masks[: n // 2, 27:29, 27:29] = 16  # a 64-px hole at the centre of the first half
    has_hole, wrinkled = np.arange(n) < n // 2, np.zeros(n, bool)
    args = (images, masks, has_hole, wrinkled)
    plain = A.augment(*args, torch.Generator().manual_seed(1), strength=1e-6)
    sharp = A.augment(*args, torch.Generator().manual_seed(1), strength=1e-6, sharp_below=150)
    for field in ("hole", "wrinkle", "cells", "fine"):
        assert torch.equal(getattr(plain, field), getattr(sharp, field)), field
    assert torch.equal(plain.x[n // 2 :], sharp.x[n // 2 :])  # no hole: the same optics

    def detail(x: torch.Tensor) -> torch.Tensor:  # mean absolute step between neighbouring pixels
        return (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean(dim=(1, 2, 3))

    softened = detail(plain.x[: n // 2]) < detail(sharp.x[: n // 2]) * 0.9
    assert 0 < int(softened.sum()) < n // 2  # some small-hole views were blurred in the recipe, none now
    assert torch.equal(plain.x[: n // 2][~softened], sharp.x[: n // 2][~softened])
    # the hole is small only below the limit: 64 shown pixels are not under 50
    assert torch.equal(A.augment(*args, torch.Generator().manual_seed(1), strength=1e-6, sharp_below=50).x, plain.x)


def test_images_smaller_than_the_crop_train_at_their_own_size():
    from fabricscope.train import data as D
    from fabricscope.train.model import FabricNet
    from fabricscope.train.trainer import TrainConfig, train

    arrays = D.build(4, D.TRAIN_SEED0, size=64, workers=1)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 0), (16, 0)))
    cfg = TrainConfig(max_steps=2, batch=4, threads=1)
    assert cfg.crop > 64 and cfg.crop_until > 0  # the recipe's crops do not apply here
    assert train(net, arrays, cfg, log=False).steps == 2


def test_geometry_of_shipped_architecture():
    from fabricscope.train.model import FabricNet

    geom = FabricNet().geometry()
    assert geom.stride == 32 and geom.receptive_field == 179


def test_augment_targets_follow_the_mask():
    from fabricscope.train import data as D

    arrays = D.build(6, D.TRAIN_SEED0 + 50, workers=1)
    g = torch.Generator().manual_seed(0)
    b = A.augment(arrays.images, arrays.masks, arrays.has_hole, arrays.wrinkled, g, strength=0.0)
    assert b.x.shape == (6, 3, 224, 224)
    assert (b.hole == torch.from_numpy(arrays.has_hole).long()).all()
    assert ((b.cells == 1).flatten(1).any(1) <= torch.from_numpy(arrays.has_hole)).all()


def test_crops_cut_the_view_at_the_input_scale():

    n = 8
    images = np.full((n, 224, 224, 3), 160, np.uint8)
    images[:, 104:120, 104:120] = 0
    masks = np.zeros((n, 56, 56), np.uint8)
    masks[:, 26:30, 26:30] = 16  # a 16 x 16 px hole at the centre: inside every 160-px crop
    has_hole, wrinkled = np.ones(n, bool), np.zeros(n, bool)
    g = torch.Generator().manual_seed(0)
    b = A.augment(images, masks, has_hole, wrinkled, g, strength=1e-6, crop=160)
    assert b.x.shape == (n, 3, 160, 160) and b.cells.shape == (n, 5, 5) and b.fine.shape == (n, 20, 20)
    assert (b.hole == 1).all()
    # 256 dark pixels whatever the crop's position; a resize to 160 px would leave ~131
    grey = b.x.mean(1).flatten(1)
    mid = (grey.amin(1, keepdim=True) + grey.amax(1, keepdim=True)) / 2
    dark = (grey < mid).sum(1)
    assert ((dark > 200) & (dark < 320)).all(), dark
    assert ((b.cells == 1).flatten(1).sum(1) >= 1).all() and ((b.cells == 1).flatten(1).sum(1) <= 4).all()
    with pytest.raises(ValueError, match="multiple of 32"):
        A.augment(images, masks, has_hole, wrinkled, g, crop=150)
    with pytest.raises(ValueError, match="needs augmentation"):
        A.augment(images, masks, has_hole, wrinkled, g, strength=0.0, crop=160)


def test_metrics():
    from fabricscope.train.metrics import auroc, best_threshold

    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    t = best_threshold(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 0, 1, 1]))
    assert 0.2 < t <= 0.7


def test_figures_break_hole_errors_down_by_size_and_hard_negatives():
    from fabricscope.train.metrics import figures

    # 4 holes of growing size, 4 hole-free images of which 2 hard negatives that score high
    hp = np.array([0.3, 0.6, 0.7, 0.9, 0.1, 0.2, 0.8, 0.95])
    maps = np.zeros((8, 2, 7, 7), np.float32)
    res = {"hole": (maps, np.stack([1 - hp, hp], 1)), "wrinkle": (maps, np.full((8, 2), 0.5))}
    has_hole = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    kinds = ["plain/solid+hole:round"] * 4 + ["plain/solid", "twill/checks", "plain/solid+dot", "knit/print+seam"]
    sizes = [(0.02,), (0.04,), (0.1,), (0.14,), (), (), (), ()]
    fig = figures(
        res,
        has_hole,
        np.tile([True, False], 4),  # wrinkled: half, so the wrinkle figures are defined too
        kinds,
        [((112.0, 112.0),)] * 4 + [()] * 4,
        sizes,
        {"hole": 0.5, "wrinkle": 0.5},
        open_pixels=np.array([30, 450, 120, 60, 0, 0, 0, 0]),  # a long thin slit (0.14) opens few pixels
    )
    by_open = fig["hole_auroc_by_open_area"]
    assert [b["n"] for b in by_open.values()] == [1, 1, 1, 0, 1]
    assert by_open["50-100 px"]["auroc"] == pytest.approx(0.75)  # the 0.9 hole
    assert by_open[">= 400 px"]["auroc"] == pytest.approx(0.5)  # the 0.6 hole
    by_size = fig["hole_auroc_by_size"]
    assert [b["n"] for b in by_size.values()] == [1, 1, 0, 1, 1]
    assert by_size["0%-3%"]["auroc"] == pytest.approx(0.5) and by_size["12%-100%"]["auroc"] == pytest.approx(0.75)
    assert fig["hole_auroc"] == pytest.approx(9 / 16)
    assert fig["hole_auroc_without_dot_seam_stripe_negatives"] == pytest.approx(1.0)  # the two high ones gone


def test_pooling_study_runs_both_arms_by_the_shipped_recipe(tmp_path):
    import json

    from fabricscope.train import study

    argv = ["--out", str(tmp_path), "--n-train", "8", "--n-val", "16", "--n-test", "16"]
    assert study.main([*argv, "--steps", "2", "--batch", "4", "--threads", "1"]) == 0
    summary = json.loads((tmp_path / "pooling_study.json").read_text())
    assert list(summary["arms"]) == list(study.ARMS)
    assert summary["steps"] == 2 and summary["init"] == "random" and "sgd" in summary["recipe"]
    assert "cell-loss weight 3" in summary["recipe"]
    md = (tmp_path / "pooling_study.md").read_text()
    assert "0." in md and "(max)" in md and "(avg)" in md
    assert summary["seed"] == 0
    # a repeat with another seed is stored beside the first, not over it
    assert study.main([*argv, "--steps", "1", "--batch", "4", "--threads", "1", "--seed", "1"]) == 0
    assert json.loads((tmp_path / "pooling_study_seed1.json").read_text())["seed"] == 1
    assert json.loads((tmp_path / "pooling_study.json").read_text())["steps"] == 2
    assert (tmp_path / "pooling_study_seed1.md").exists()


def test_stages_option_reads_and_writes_the_backbone_layout():
    from fabricscope.train.fit import parse
    from fabricscope.train.model import DEFAULT_STAGES, FabricNet, format_stages, parse_stages

    assert parse([]).stages == DEFAULT_STAGES  # the vgg backbone's layout (the ninth model's)
    assert format_stages(DEFAULT_STAGES) == "16:1,32,64:1,96:1,144:1"
    eighth = parse(["--backbone", "vgg", "--stages", "16, 32,64:1,96:1,144:1"]).stages  # the eighth model's layout
    assert eighth == ((16, 0), (32, 0), (64, 1), (96, 1), (144, 1))
    assert parse_stages(format_stages(eighth)) == eighth
    net = FabricNet(stages=eighth)
    assert net.geometry().stride == 32 and net.geometry().receptive_field == 179 - 4  # one 3x3 at stride 2 fewer
    refused = [("16,32,64,96", "5 stages"), ("16,32,64:x,96,144", "CHANNELS:EXTRA_CONVS"), ("0,32,64,96,144", ">= 1")]
    for bad, why in refused:
        with pytest.raises(ValueError, match=why):
            parse_stages(bad)
        with pytest.raises(SystemExit):
            parse(["--backbone", "vgg", "--stages", bad])
    with pytest.raises(SystemExit):  # the default backbone, lite0, has no stages to shape
        parse(["--stages", "16,32,64,96,144"])


def test_a_run_with_other_stages_saves_them_and_a_resume_must_repeat_them(tmp_path, capsys):
    from fabricscope.train.__main__ import main
    from fabricscope.train.model import DEFAULT_STAGES, format_stages, load_checkpoint

    # a layout whose stages repeat a channel count: the weights' shapes alone cannot tell it apart from
    # extra convs, so the checkpoint's own record of it must be what loads
    layout = "8,8:1,16,16,16"
    state = tmp_path / "run.pt"
    base = ["--quick", "--out", str(tmp_path), "--no-eval", "--state", str(state), "--backbone", "vgg"]
    assert main([*base, "--stages", layout]) == 0
    net = load_checkpoint(tmp_path / "fabric_inspector.pt")
    assert net.stages == ((8, 0), (8, 1), (16, 0), (16, 0), (16, 0))
    capsys.readouterr()
    assert main([*base, "--resume"]) == 2  # without --stages: the shipped layout, not the saved run's
    assert f"stages was '8,8:1,16,16,16', now '{format_stages(DEFAULT_STAGES)}'" in capsys.readouterr().err


def test_renderer_defaults_to_realistic_and_variety_still_means_varied():
    from fabricscope.train.fit import parse

    assert parse([]).renderer == "realistic"  # the shipped (tenth) recipe
    assert parse(["--variety"]).renderer == "varied"
    assert parse(["--renderer", "training"]).renderer == "training"
    with pytest.raises(SystemExit):
        parse(["--variety", "--renderer", "training"])
