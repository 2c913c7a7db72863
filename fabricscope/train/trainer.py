"""The training loop: pooled cross-entropy per head + per-cell localisation loss on the hole map."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from fabricscope.train.augment import augment
from fabricscope.train.data import Arrays
from fabricscope.train.model import FabricNet, pool_map
from fabricscope.train.pretrained import PretrainedNet
from fabricscope.train.resume import Loop, RunState, load, save

PRECISIONS = ("auto", "bf16", "fp32")
DEVICES = ("cpu", "cuda")
HOLE_POS_WEIGHT = 3.0  # hole pixels/cells are rare: their BCE terms (per cell, per stride-8 block) weigh 3x
PEAK_LR = {"sgd": 0.1, "adamw": 1e-3}  # the optimisers train() knows, with their default peak learning rate


@dataclass
class TrainConfig:
    minutes: float = 30.0  # wall-clock budget for the optimisation loop
    max_steps: int = 4000
    batch: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"  # or "sgd" (Nesterov momentum 0.9)
    weight_decay: float = 5e-4
    warmup: int = 100
    # weight of the per-cell hole-map loss against the pooled losses. 3 beat 1 in an 8-minute A/B
    # (hole / small-hole AUROC 0.911 / 0.791 vs 0.891 / 0.768): the dense per-cell target carries
    # most of what a small hole teaches, the pooled loss one bit per image.
    cell_weight: float = 3.0
    fine_weight: float = 1.0  # deep supervision of the stride-8 features with the hole mask (0: off)
    hole_prior: float = 0.05  # initial P(hole) per cell: the hole head starts from the base rate
    seed: int = 0
    threads: int = 2
    log_every: int = 50
    # "bf16": convolutions under CPU autocast (weights, BatchNorm statistics and the optimiser stay
    # float32); forward + backward 1.8x faster on an AVX512-BF16 CPU. "auto": bf16 where oneDNN supports it.
    precision: str = "auto"
    # Early steps on crop x crop views (same pixel scale, fewer cells): a 128-px step costs 0.38x a
    # 224-px one, so the network sees more batches before the full-size finish that settles the 7x7 grid.
    crop: int = 128
    crop_until: float = 0.65  # share of the schedule trained on crops (0: never)
    # Share of the hole images whose crop keeps a hole in view: at 128 px a crop placed anywhere shows
    # a hole in only 22% of the views. 0.8 beat 0 in an 8-minute A/B (hole AUROC 0.885 vs 0.834).
    crop_focus: float = 0.8
    # Hole images showing fewer hole pixels than this after the crop skip blur and down-up sampling.
    # 150 beat 0 in two fixed-step A/Bs on an fp32 CPU (hole AUROC +0.003 / +0.006, holes opening
    # < 100 px +0.009 / +0.014) and in two full runs (hole AUROC 0.957 bf16 and 0.963 fp32 vs 0.954 without
    # it, see the card); the second is the shipped eighth model.
    sharp_below: float = 150.0
    # "cuda": train on the GPU (nothing requires one). The wall-clock budget then buys many more steps,
    # so a GPU run is a different, longer schedule, not the CPU recipe made faster.
    device: str = "cpu"

    def crops(self) -> str:
        """The crop schedule in words, for the model card and the pooling study's summary."""
        if self.crop_until <= 0:
            return "full-size views throughout"
        text = f"{self.crop}-px crops at the input's scale for the first {self.crop_until:.0%} of the schedule"
        return text + (f", {self.crop_focus:.0%} of hole images cropped over a hole" if self.crop_focus > 0 else "")


@dataclass
class TrainLog:
    steps: int = 0
    seconds: float = 0.0
    images_seen: int = 0
    precision: str = "fp32"
    history: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False  # stopped early by ``stop``; the state file holds where it stopped
    resumed_at: list[int] = field(default_factory=list)  # steps at which a saved run was continued
    extended: list[dict[str, int]] = field(default_factory=list)  # schedules lengthened by --extend


def losses(
    net: FabricNet, maps: list[torch.Tensor], hole: torch.Tensor, wrinkle: torch.Tensor, cells: torch.Tensor
) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, pooling, m in zip(net.head_names, net.poolings, maps, strict=True):
        pooled = pool_map(m, pooling)
        target = hole if name == "hole" else wrinkle
        out[name] = F.cross_entropy(pooled, target, ignore_index=-1)
        if name == "hole":
            margin = m[:, 1] - m[:, 0]
            valid = cells >= 0
            weight = margin.new_tensor(HOLE_POS_WEIGHT)
            out["cells"] = F.binary_cross_entropy_with_logits(margin[valid], cells[valid], pos_weight=weight)
    return out


class FineHoleHead(nn.Module):
    """Training only, never exported: a 1x1 conv on the backbone's stride-8 features that predicts the
    hole mask (28 x 28 at 224 px). Its dense gradient reaches the early layers directly, which
    shortens the long start-up plateau of training from the pooled 7 x 7 losses alone."""

    def __init__(self, net: FabricNet | PretrainedNet) -> None:
        super().__init__()
        layer, channels = net.fine_layer()
        self.conv = nn.Conv2d(channels, 1, 1)
        self.features: torch.Tensor | None = None
        self._hook = layer.register_forward_hook(self._keep)

    def _keep(self, _m: nn.Module, _i: tuple, out: torch.Tensor) -> None:
        self.features = out

    def loss(self, fine: torch.Tensor) -> torch.Tensor:
        assert self.features is not None, "run the network first"
        logit = self.conv(self.features.float()).squeeze(1)  # bf16 under autocast
        valid = fine >= 0
        weight = fine.new_tensor(HOLE_POS_WEIGHT)
        return F.binary_cross_entropy_with_logits(logit[valid], fine[valid], pos_weight=weight)

    def detach(self) -> None:
        self._hook.remove()
        self.features = None


def add_view_arguments(ap: argparse.ArgumentParser) -> None:
    """--crop / --crop-until / --crop-focus / --sharp-below for the training CLIs, defaulting to the shipped
    recipe."""
    ap.add_argument("--crop", type=int, default=TrainConfig.crop, help="side of the early training crops (px)")
    ap.add_argument(
        "--crop-until",
        type=float,
        default=TrainConfig.crop_until,
        help="share of the schedule trained on crops, the rest at full size (0: no crops)",
    )
    ap.add_argument(
        "--crop-focus",
        type=float,
        default=TrainConfig.crop_focus,
        help="share of the hole images whose crop keeps a hole in view (0: crops anywhere)",
    )
    ap.add_argument(
        "--sharp-below",
        type=float,
        default=TrainConfig.sharp_below,
        help="hole images showing fewer hole pixels than this skip blur and down-up sampling (0: off)",
    )


def training_device(name: str) -> torch.device:
    """The torch device for ``--device``; refuses CUDA where this torch build sees no GPU."""
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; one of {DEVICES}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: this PyTorch sees no CUDA GPU (a CPU-only build, or no driver)")
    return torch.device(name)


def use_bf16(precision: str, device: torch.device | None = None) -> bool:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    if precision == "fp32":
        return False
    if device is not None and device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    supported = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if precision == "bf16" and not supported:
        raise ValueError("bf16 training needs a CPU with AVX512-BF16 (or AMX); use --precision fp32")
    return supported


def init_hole_prior(net: FabricNet, prior: float) -> None:
    """Start each hole-map cell at P(hole) = prior (most cells hold no hole), as in focal-loss detectors."""
    if "hole" in net.heads and 0 < prior < 1:
        margin = math.log(prior / (1 - prior))
        with torch.no_grad():
            net.heads["hole"].bias.copy_(torch.tensor([-margin / 2, margin / 2]))


def train(
    net: FabricNet,
    data: Arrays,
    cfg: TrainConfig,
    log: bool = True,
    state: RunState | None = None,
    stop: Callable[[], bool] | None = None,
) -> TrainLog:
    """Train in place. The cosine schedule follows max(step / max_steps, elapsed / budget), the elapsed
    time counting earlier parts of a resumed run. With ``state`` the run is saved every ``state.every_s``
    seconds and when ``stop()`` turns true (then it returns early, ``interrupted``), and
    ``state.resume`` continues a saved run."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dev = training_device(cfg.device)  # these two before the hook below: a bad setting leaves the net untouched
    bf16 = use_bf16(cfg.precision, dev)
    noise_gen = None
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # two input sizes (crops, full views): tuned once each
        noise_gen = torch.Generator(device=dev).manual_seed(cfg.seed)
    fine = FineHoleHead(net) if cfg.fine_weight > 0 and "hole" in net.heads else None
    try:
        init_hole_prior(net, cfg.hole_prior)
        net.to(dev)
        if fine is not None:
            fine.to(dev)
        params = list(net.parameters()) + (list(fine.parameters()) if fine is not None else [])
        decay, no_decay = [], []
        for p in params:
            (decay if p.ndim > 1 else no_decay).append(p)
        groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if cfg.optimizer == "sgd":
            opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
        elif cfg.optimizer == "adamw":
            opt = torch.optim.AdamW(groups, lr=cfg.lr)
        else:
            raise ValueError(f"unknown optimizer {cfg.optimizer!r}")
        budget = cfg.minutes * 60.0
        n = len(data)
        net.to(memory_format=torch.channels_last)  # matches the batches from data.augment: ~2x faster on CPU
        net.train()
        modules: dict[str, nn.Module] = {"net": net} | ({"fine": fine} if fine is not None else {})
        if state is not None and state.resume:
            loop = load(state, cfg, modules, opt, rng, gen, dev)
            if len(loop.order) != n:
                raise ValueError(f"{state.path}: saved for {len(loop.order)} training images, given {n}")
        else:  # running losses stay on the device: reading a value back each step would stall a GPU
            loop = Loop(step=0, pos=0, order=rng.permutation(n), seconds=0.0, running={}, history=[], resumed_at=[])
        order, pos, step, running = loop.order, loop.pos, loop.step, loop.running
        tl = TrainLog(history=loop.history, resumed_at=loop.resumed_at, extended=loop.extended)
        t0 = time.time() - loop.seconds
        saved = time.time()

        def snapshot() -> Loop:  # the loop's variables now, for the state file
            return Loop(step, pos, order, time.time() - t0, running, tl.history, tl.resumed_at, tl.extended)

        while True:
            progress = max(step / cfg.max_steps, (time.time() - t0) / budget)
            if progress >= 1.0:
                break
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * 0.5 * (1.0 + math.cos(math.pi * progress))
            for g in opt.param_groups:
                g["lr"] = lr
            if pos + cfg.batch > n:
                order = rng.permutation(n)
                pos = 0
            idx = np.sort(order[pos : pos + cfg.batch])
            pos += cfg.batch
            crop = cfg.crop if progress < cfg.crop_until and cfg.crop < data.images.shape[1] else None
            b = augment(
                data.images[idx],
                data.masks[idx],
                data.has_hole[idx],
                data.wrinkled[idx],
                gen,
                crop=crop,
                focus=cfg.crop_focus,
                sharp_below=cfg.sharp_below,
                device=dev,
                noise_gen=noise_gen,
            )
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                maps = [m.float() for m in net(b.x)]
            parts = losses(net, maps, b.hole, b.wrinkle, b.cells)
            if fine is not None:
                parts["fine"] = fine.loss(b.fine)
            loss = (
                parts["hole"]
                + parts["wrinkle"]
                + cfg.cell_weight * parts.get("cells", 0.0)
                + cfg.fine_weight * parts.get("fine", 0.0)
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 2.0)
            opt.step()
            step += 1
            for k, v in parts.items():
                val = v.detach()
                running[k] = running[k] * 0.95 + val * 0.05 if k in running else val
            if log and (step % cfg.log_every == 0 or step == 1):
                el = time.time() - t0
                now = {k: float(v) for k, v in running.items()}
                msg = " ".join(f"{k}={v:.3f}" for k, v in now.items())
                print(f"step {step} {el / 60:.1f} min lr={lr:.2e} {msg}", flush=True)
                tl.history.append({"step": step, "minutes": el / 60, "lr": lr, **now})
            tl.interrupted = stop is not None and stop()
            if state is not None and (tl.interrupted or time.time() - saved >= state.every_s):
                save(state, cfg, snapshot(), modules, opt, rng, gen)
                saved = time.time()
            if tl.interrupted:
                break
        if state is not None and not tl.interrupted:  # finished: a --resume goes straight to the export
            save(state, cfg, snapshot(), modules, opt, rng, gen)
        tl.steps = step
        tl.seconds = time.time() - t0
        tl.images_seen = step * cfg.batch
        tl.precision = "bf16" if bf16 else "fp32"
    finally:  # also when training raises: the hook must not outlive the run
        if fine is not None:
            fine.detach()
        net.to("cpu", memory_format=torch.contiguous_format)  # export and evaluation run on the CPU
        net.eval()
    return tl


def torch_predictor(net: FabricNet, threads: int = 2):  # noqa: ANN201
    """A metrics.Predict backed by the PyTorch model (same maths as the ONNX graph)."""
    from fabricscope.train.model import ExportWrapper

    wrapper = ExportWrapper(net.eval()).eval()

    def predict(images: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        torch.set_num_threads(threads)
        with torch.no_grad():
            outs = wrapper(torch.from_numpy(np.ascontiguousarray(images)))
        res = {}
        for i, name in enumerate(net.head_names):
            res[name] = (outs[2 * i].numpy(), outs[2 * i + 1].numpy())
        return res

    return predict
