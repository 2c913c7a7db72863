"""Retrain the shipped model from the project's own generator, export it, evaluate it.

    python -m fabricscope.train --out models/          # the shipped model (~50 min on 2 CPU cores: data 4,
                                                       # training 42, evaluation 2; EfficientNet-Lite0 backbone)
    python -m fabricscope.train --out /tmp/m --quick   # a smoke run in seconds
    python -m fabricscope.train --out models/ --from-checkpoint models/fabric_inspector.pt
                                                       # re-export trained weights (no training)
    python -m fabricscope.train --out models/ --state runs/m.pt [...]   # saved every 5 min and on Ctrl-C
    python -m fabricscope.train --out models/ --state runs/m.pt [...] --resume   # carries on from there
    ... --data-cache runs/data      # keeps the rendered images on disk, so a resume need not render them again
    ... --resume --extend --steps N   # trains a finished run on to N steps (a warm restart of the schedule)

Steps: render the training and validation sets into memory (multiprocessing),
train with torch-side augmentation under a wall-clock budget, calibrate each head
(temperature, then its threshold for the operating point) on the validation set,
export ``fabric_inspector.onnx`` with the contract metadata, evaluate it with ONNX Runtime on a held-out set, and store
the figures in the model card and in ``evaluation.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from fabricscope.synth.renderers import RENDERERS
from fabricscope.train import data as D
from fabricscope.train.calibrate import (
    OPERATING_FALSE_ALARMS,
    fit_temperature,
    margins,
    sigmoid,
    threshold_for_false_alarms,
)
from fabricscope.train.data_cache import build_cached
from fabricscope.train.export import export_onnx, update_card
from fabricscope.train.metrics import auroc, run_batched
from fabricscope.train.model import (
    DEFAULT_STAGES,
    VIEWS,
    FabricNet,
    apply_temperatures,
    format_stages,
    load_checkpoint,
    parse_stages,
)
from fabricscope.train.pretrained import BACKBONES, PretrainedNet
from fabricscope.train.resume import RunState, check
from fabricscope.train.trainer import (
    DEVICES,
    PEAK_LR,
    PRECISIONS,
    TrainConfig,
    TrainLog,
    add_view_arguments,
    torch_predictor,
    train,
    training_device,
)

MODEL_NAME = "fabric_inspector.onnx"
COMMAND = "python -m fabricscope.train --out models/"
# what the training data may be rendered by: "other" is held out, for testing only
TRAINING_RENDERERS = tuple(r for r in RENDERERS if r != "other")
SHIPPED_CROP_UNTIL = 0.3
FINE_TUNE_LR = 5e-4  # AdamW peak for the pretrained backbone: ImageNet features move, not restart
UNRECORDED = ("--out", "--state", "--save-every", "--data-cache")  # options with a value that leave the model as it is


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m fabricscope.train fit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--n-train", type=int, default=12000)
    ap.add_argument("--n-val", type=int, default=1500)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--n-shift", type=int, default=150)
    ap.add_argument(
        "--minutes", type=float, default=42.0, help="wall-clock budget of the training loop (then: evaluation)"
    )
    ap.add_argument("--steps", type=int, default=200000, help="most optimisation steps (the clock ends the run first)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument(
        "--backbone",
        choices=BACKBONES,
        default="lite0",
        help="vgg: the small VGG-style CNN trained from scratch (--stages); lite0: EfficientNet-Lite0 with "
        "ImageNet weights (Apache-2.0, shipped in a package of the train extra), fine-tuned",
    )
    ap.add_argument(
        "--renderer",
        choices=TRAINING_RENDERERS,
        default=None,
        help="the generator of the training and validation images (default: realistic; see "
        "fabricscope.synth.renderers)",
    )
    ap.add_argument(
        "--optimizer", choices=tuple(PEAK_LR), help="sgd: Nesterov momentum 0.9 (default: sgd for vgg, adamw for lite0)"
    )
    ap.add_argument("--lr", type=float, help=f"peak learning rate (default per optimizer: {PEAK_LR})")
    ap.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="bf16: convolutions under CPU autocast, ~1.4x more steps in the budget (auto: where supported)",
    )
    add_view_arguments(ap)
    # the shipped (tenth) recipe: full-size views from 30% of the schedule on, as the wrinkle head, which
    # judges the whole surface, learns little from 128-px crops (the ninth's scratch recipe: 0.65)
    ap.set_defaults(crop_until=SHIPPED_CROP_UNTIL)
    ap.add_argument(
        "--cell-weight",
        type=float,
        default=TrainConfig.cell_weight,
        help="weight of the per-cell hole-map loss against the pooled losses",
    )
    ap.add_argument(
        "--variety",
        action="store_true",
        help="train and validate on generate(variety=True): large blotch prints and crumpled ripples "
        "added (off: the shipped model's data)",
    )
    ap.add_argument(
        "--stages",
        type=stages_arg,
        default=None,
        help="with --backbone vgg: per stride-2 stage its channels and, after a colon, how many more 3x3 convs follow "
        f"(default: the ninth model's, {format_stages(DEFAULT_STAGES)})",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="processes rendering the training data")
    ap.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="cuda: train on the GPU (the minutes then buy many more steps: a longer schedule, not the same run)",
    )
    ap.add_argument(
        "--views",
        type=int,
        choices=VIEWS,
        default=2,
        help="the exported maps average this many mirrored views of the input (the card has what each costs "
        "and buys; 2: the image and its left-right mirror, hole AUROC +0.006 for about 2x the latency)",
    )
    ap.add_argument(
        "--from-checkpoint",
        type=Path,
        help="skip training: export these weights (a .pt from an earlier run) with --views, new thresholds, "
        "evaluation; the card keeps the training record of the ONNX file beside the checkpoint",
    )
    ap.add_argument(
        "--state",
        type=Path,
        help="save the training state to this file every --save-every minutes and on Ctrl-C / SIGTERM "
        "(then the run stops without exporting)",
    )
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between saves of --state")
    ap.add_argument(
        "--data-cache",
        type=Path,
        help="keep the rendered training and validation images in this folder (about 6 GB for 30,000) and "
        "load them from there next time, e.g. on --resume; checked against the generator before use",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="continue the run saved in --state: give the same options (the data are rendered again unless "
        "--data-cache holds them); "
        "it takes the same steps as a run that never stopped",
    )
    ap.add_argument(
        "--extend",
        action="store_true",
        help="with --resume: train the saved run on to a larger --steps; the cosine schedule is recomputed over "
        "the new count, so the learning rate rises again at the saved step and falls to zero at the new end "
        "(a warm restart; the card records it)",
    )
    ap.add_argument("--swap-pooling", action="store_true", help="hole head avg, wrinkle head max (study arm)")
    ap.add_argument("--no-eval", action="store_true", help="skip the held-out evaluation")
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    args = ap.parse_args(argv)
    try:  # now, not after minutes of rendering data
        training_device(args.device)
    except ValueError as e:
        ap.error(str(e))
    if args.resume and args.state is None:
        ap.error("--resume needs --state FILE, the file the interrupted run saved")
    if args.extend and not args.resume:
        ap.error("--extend goes with --resume: it trains a saved run on past its end")
    if args.state is not None and args.from_checkpoint:
        ap.error("--state and --resume are for training; --from-checkpoint does not train")
    if args.state is not None and not args.resume and args.state.exists():
        ap.error(f"{args.state} holds a saved run: add --resume to continue it, or remove the file to start over")
    if args.stages is None:
        args.stages = DEFAULT_STAGES
    elif args.backbone != "vgg":
        ap.error("--stages shapes the vgg backbone; add --backbone vgg (the default backbone is lite0)")
    if args.variety and args.renderer not in (None, "varied"):
        ap.error("--variety is --renderer varied; give one of them")
    args.renderer = "varied" if args.variety else (args.renderer or "realistic")
    if args.optimizer is None:
        args.optimizer = "adamw" if args.backbone == "lite0" else "sgd"
    if args.lr is None:
        args.lr = FINE_TUNE_LR if args.backbone == "lite0" else PEAK_LR[args.optimizer]
    if args.quick:
        args.n_train, args.n_val, args.n_test, args.n_shift = 64, 48, 48, 2
        args.minutes, args.steps, args.batch = 0.5, 3, 16
    return args


def calibrated(net: FabricNet | PretrainedNet, temperatures: dict[str, float]) -> FabricNet | PretrainedNet:
    """A copy of ``net`` whose head maps are divided by their temperatures (see train.calibrate)."""
    out = copy.deepcopy(net)
    apply_temperatures(out, temperatures)
    return out


def stages_arg(text: str) -> tuple[tuple[int, int], ...]:
    try:
        return parse_stages(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def config_of(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        minutes=args.minutes,
        max_steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        optimizer=args.optimizer,
        precision=args.precision,
        crop=args.crop,
        crop_until=args.crop_until,
        crop_focus=args.crop_focus,
        sharp_below=args.sharp_below,
        cell_weight=args.cell_weight,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
    )


def run_state(args: argparse.Namespace) -> RunState | None:
    """The --state file of this run, with the data options a resumed run must repeat."""
    if args.state is None:
        return None
    recipe = {
        "n_train": args.n_train,
        "variety": args.variety,
        "swap_pooling": args.swap_pooling,
        "stages": format_stages(args.stages),
        "backbone": args.backbone,
        "renderer": args.renderer,
    }
    return RunState(args.state, every_s=args.save_every * 60.0, resume=args.resume, recipe=recipe, extend=args.extend)


@contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """While training: Ctrl-C or SIGTERM asks the loop to save its state and stop after the step; a
    second Ctrl-C stops at once."""
    asked: list[int] = []

    def ask(signum: int, _frame: object) -> None:
        if asked and signum == signal.SIGINT:
            raise KeyboardInterrupt
        asked.append(signum)
        print("stopping after this step, saving the training state ...", flush=True)

    before = {sig: signal.signal(sig, ask) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(asked)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def command_of(argv: list[str]) -> str:
    """The documented command with the options this run added, but those that do not change the model
    (where it is written, how it is saved and resumed): what the card records."""
    rest, skip = [], False
    for a in argv:
        name = a.split("=", 1)[0]
        if skip or name in UNRECORDED or a in ("--resume", "--extend"):
            skip = name in UNRECORDED and "=" not in a
            continue
        rest.append(a)
    return shlex.join([*COMMAND.split(), *rest])


def card_text() -> dict[str, Any]:
    """The card's prose (fabricscope/train/card_text.json), to be filled in from the run."""
    return json.loads(resources.files("fabricscope.train").joinpath("card_text.json").read_text(encoding="utf-8"))


def architecture(net: FabricNet | PretrainedNet) -> str:
    """The network in words, for the card."""
    geom = net.geometry()
    words = card_text()
    fields: dict[str, Any] = {
        "heads": ", ".join(f"{h} ({p} pooling)" for h, p in zip(net.head_names, net.poolings, strict=True)),
        "parameters": sum(p.numel() for p in net.parameters()),
        "stride": geom.stride,
        "receptive_field": geom.receptive_field,
    }
    if isinstance(net, PretrainedNet):
        text = words["architecture"]["lite0"].format(frozen_blocks=net.frozen_blocks, **fields)
    else:
        text = words["architecture"]["vgg"].format(
            extra_convs="/".join(str(e) for _, e in net.stages),
            channels=[c for c, _ in net.stages],
            stages=format_stages(net.stages),
            **fields,
        )
    return text + words["views"][str(net.views)]


def data_text(args: argparse.Namespace) -> str:
    """The training data in words, for the card."""
    words = card_text()
    return words["data"].format(
        n_train=args.n_train,
        seed0=D.TRAIN_SEED0,
        seed_last=D.TRAIN_SEED0 + args.n_train - 1,
        renderer=words["renderer"][args.renderer],
        n_val=args.n_val,
        val_seed0=D.VAL_SEED0,
    )


def training_card(
    args: argparse.Namespace, raw: list[str], cfg: TrainConfig, tl: TrainLog, t_data: float
) -> dict[str, Any]:
    """The card's record of a training run (data, recipe, machine)."""
    words = card_text()
    machine = f"{torch.cuda.get_device_name()} GPU" if args.device == "cuda" else f"{platform.machine()} CPU"
    return {
        "name": "FabricScope fabric inspector",
        "version": "1.0",
        "license": words["license"][args.backbone],
        "data": data_text(args),
        "augmentation": words["augmentation"].format(crops=cfg.crops())
        + (words["sharp_below"].format(sharp_below=f"{cfg.sharp_below:g}") if cfg.sharp_below else ""),
        "losses": words["losses"],
        "training_command": command_of(raw),
        "training": {
            "steps": tl.steps,
            "batch": args.batch,
            "optimizer": f"{args.optimizer}, peak lr {args.lr:g}, warm-up then cosine",
            "images_seen": tl.images_seen,
            "precision": f"{tl.precision} (autocast for convolutions; weights float32)"
            if tl.precision == "bf16"
            else "fp32",
            "train_minutes": round(tl.seconds / 60, 1),
            "data_minutes": round(t_data / 60, 1),
            "threads": args.threads,
            "machine": f"{machine}, torch {torch.__version__}",
        }
        | ({"resumed_at_steps": tl.resumed_at} if tl.resumed_at else {})
        | ({"extended": tl.extended} if tl.extended else {}),
    }


def checkpoint_card(args: argparse.Namespace, raw: list[str]) -> dict[str, Any]:
    """The card of the ONNX file beside ``--from-checkpoint`` (its training record), plus this export."""
    beside = args.from_checkpoint.with_suffix(".onnx")
    card: dict[str, Any] = {"name": "FabricScope fabric inspector", "version": "1.0"}
    if beside.is_file():
        import onnx

        from fabricscope.engine.contract import parse_metadata

        meta = {p.key: p.value for p in onnx.load(str(beside), load_external_data=False).metadata_props}
        card = dict(parse_metadata(meta).card) or card
    card["export_command"] = command_of(raw)
    return card


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    args = parse(raw)
    t_start = time.time()
    torch.set_num_threads(args.threads)
    cfg = config_of(args)
    state = run_state(args)
    if state is not None and state.resume:
        try:  # now, not after minutes of rendering data
            check(state, cfg)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if args.from_checkpoint:
        net = load_checkpoint(args.from_checkpoint, calibrated=False)  # calibrated again below, for --views
        card = checkpoint_card(args, raw)
        print(f"rendering {args.n_val} validation images ({args.renderer} renderer) ...", flush=True)
        val_set = build_cached(args.data_cache, args.n_val, D.VAL_SEED0, workers=args.workers, renderer=args.renderer)
        tl = None
    else:
        print(f"rendering {args.n_train} training + {args.n_val} validation images ...", flush=True)
        data = args.renderer
        cache = args.data_cache
        train_set = build_cached(cache, args.n_train, D.TRAIN_SEED0, workers=args.workers, log=True, renderer=data)
        val_set = build_cached(cache, args.n_val, D.VAL_SEED0, workers=args.workers, renderer=data)
        t_data = time.time() - t_start
        print(f"data ready in {t_data:.0f} s", flush=True)
        heads = (("hole", "avg"), ("wrinkle", "max")) if args.swap_pooling else (("hole", "max"), ("wrinkle", "avg"))
        torch.manual_seed(args.seed)
        net = PretrainedNet(heads=heads) if args.backbone == "lite0" else FabricNet(heads=heads, stages=args.stages)
        if state is None:
            tl = train(net, train_set, cfg)
        else:
            with stop_on_signals() as stop:
                tl = train(net, train_set, cfg, state=state, stop=stop)
            if tl.interrupted:
                print(
                    f"stopped at step {tl.steps}; the run is saved in {state.path}: "
                    "run the same command with --resume to continue it",
                    flush=True,
                )
                return 130
        card = training_card(args, raw, cfg, tl, t_data)
    net.views = args.views
    card["architecture"] = architecture(net)
    card["views"] = args.views
    # calibration on the validation set, with the exported graph's maths (views included): a temperature
    # per head folded into its 1x1 conv, then each threshold at its operating point (fabricscope.train.calibrate)
    predict = torch_predictor(net, args.threads)
    chosen_on = f"{len(val_set)} validation images ({args.renderer} renderer)"
    if args.renderer != "training":  # the thresholds must hold under the plain camera too (the demo feed's)
        val_set = val_set + build_cached(args.data_cache, args.n_val, D.VAL_SEED0, workers=args.workers)
        chosen_on = f"{len(val_set)} validation images ({args.n_val} each, {args.renderer} and training renderers)"
    val = run_batched(predict, val_set.images)
    labels = {"hole": val_set.has_hole, "wrinkle": val_set.wrinkled}
    thresholds, calibration, temperatures = {}, {}, {}
    for name in net.head_names:
        probs = val[name][1][:, 1]
        temperature = fit_temperature(probs, labels[name])
        temperatures[name] = temperature
        cal_probs = sigmoid(margins(probs) / temperature)
        point = threshold_for_false_alarms(cal_probs, labels[name], OPERATING_FALSE_ALARMS[name], chosen_on)
        thresholds[name] = round(point.threshold, 4)
        calibration[name] = {"temperature": round(temperature, 4), "operating_point": point.to_json()}
    val_fig = {  # AUROC ranks: the same before and after the temperature
        "hole_auroc": auroc(val["hole"][1][:, 1], val_set.has_hole),
        "wrinkle_auroc": auroc(val["wrinkle"][1][:, 1], val_set.wrinkled),
    }
    print(f"validation: {val_fig} calibration {calibration}", flush=True)
    card["validation"] = {k: round(v, 4) for k, v in val_fig.items()}
    card["thresholds"] = thresholds
    card["calibration"] = calibration | {"method": card_text()["calibration"]}
    args.out.mkdir(parents=True, exist_ok=True)
    name = MODEL_NAME if not args.swap_pooling else "fabric_inspector_swapped.onnx"
    path = export_onnx(calibrated(net, temperatures), args.out / name, thresholds, card)
    heads = tuple(zip(net.head_names, net.poolings, strict=True))
    checkpoint = {
        "state_dict": net.state_dict(),
        "stages": net.stages,
        "heads": heads,
        "views": net.views,
        "backbone": "lite0" if isinstance(net, PretrainedNet) else "vgg",
        "temperatures": temperatures,  # the trained weights are kept as trained; load_checkpoint applies these
    }
    torch.save(checkpoint, args.out / (Path(name).stem + ".pt"))  # for fine-tuning and the tests
    print(f"exported {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    if not args.no_eval:
        from fabricscope.train.evaluate import compact, evaluate, onnx_predictor

        onnx_predict, _ = onnx_predictor(path, args.threads)
        fig = evaluate(onnx_predict, thresholds, args.n_test, args.n_shift)
        card["evaluation"] = compact(fig)
        (args.out / (Path(name).stem + "_evaluation.json")).write_text(json.dumps(fig, indent=2) + "\n")
        print(json.dumps(compact({k: v for k, v in fig.items() if k != "shift"}), indent=1), flush=True)
        print("shift:", json.dumps(compact(fig.get("shift", {}))), flush=True)
    wall = time.time() - t_start
    if tl is None:
        card["export_wall_minutes"] = round(wall / 60, 1)
    else:
        card["training"]["total_wall_minutes"] = round(wall / 60, 1)
        (args.out / (Path(name).stem + "_training_log.json")).write_text(
            json.dumps({"history": tl.history, "wall_minutes": wall / 60}, indent=1) + "\n"
        )
    update_card(path, card)
    print(f"done in {wall / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
