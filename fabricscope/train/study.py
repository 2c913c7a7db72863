"""The pooling study: the same backbone trained with the shipped poolings and with them swapped.

    python -m fabricscope.train.study --out models/

Both arms (A: hole max / wrinkle avg, as shipped; B: hole avg / wrinkle max)
are trained from scratch by the shipped model's own recipe (``trainer.train``:
same losses, optimiser, precision and augmentation), from the same initial
weights, on exactly the same augmented batches, for the same number of steps (a
fifth of the shipped model's, to fit the CPU budget), then evaluated with
PyTorch on the same held-out set as the shipped model. Writes
``pooling_study.json`` and ``pooling_study.md`` (``pooling_study_seed{N}.*`` with ``--seed N``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from fabricscope.train import data as D
from fabricscope.train.evaluate import figures_on_set
from fabricscope.train.metrics import auroc, best_threshold, run_batched
from fabricscope.train.model import FabricNet, load_checkpoint
from fabricscope.train.trainer import (
    PEAK_LR,
    PRECISIONS,
    TrainConfig,
    TrainLog,
    add_view_arguments,
    torch_predictor,
    train,
)

ARMS = {
    "A (shipped: hole max, wrinkle avg)": (("hole", "max"), ("wrinkle", "avg")),
    "B (swapped: hole avg, wrinkle max)": (("hole", "avg"), ("wrinkle", "max")),
}


def arm_config(args: argparse.Namespace) -> TrainConfig:
    """Both arms' training settings: the shipped recipe, ended by a step count."""
    return TrainConfig(
        minutes=1e9,  # steps, not the clock, end each arm: identical schedules
        max_steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        optimizer="sgd",
        precision=args.precision,
        crop=args.crop,
        crop_until=args.crop_until,
        crop_focus=args.crop_focus,
        sharp_below=args.sharp_below,
        seed=args.seed,
        threads=args.threads,
        log_every=500,
    )


def train_arm(
    heads: tuple[tuple[str, str], ...], data: D.Arrays, args: argparse.Namespace
) -> tuple[FabricNet, TrainLog]:
    """One arm, by the shipped model's own recipe (trainer.train), for a fixed number of steps.

    The same seed gives both arms the same initial weights and the same augmented batches."""
    torch.manual_seed(args.seed)
    net = FabricNet(heads=heads)
    if args.init is not None:
        net.backbone.load_state_dict(load_checkpoint(args.init).backbone.state_dict())
    return net, train(net, data, arm_config(args))


def table(results: dict[str, dict[str, Any]], steps: int, batch: int, start: str = "the same random") -> str:
    names = list(results)
    rows = [
        ("hole", "AUROC, all test images", "hole_auroc"),
        ("hole", "AUROC, small holes (< 5% of side) vs no hole", "hole_auroc_small"),
        ("hole", "recall on small holes at its threshold", "hole_recall_small"),
        ("hole", "localisation (strongest cell within 1 cell)", "localisation_within_1_cell"),
        ("wrinkle", "AUROC, all test images", "wrinkle_auroc"),
        ("wrinkle", "AUROC, many wrinkles vs single fold", "wrinkle_auroc_fold_vs_wrinkled"),
        ("wrinkle", "false alarms on single folds at its threshold", "wrinkle_false_alarm_on_single_fold"),
    ]
    pooling = {name: dict(ARMS[name]) for name in names}
    out = [
        f"| head | figure | {' | '.join(names)} |",
        "|---|---|" + "---|" * len(names),
    ]
    for head, label, key in rows:
        cells = [f"{results[n][key]:.4f} ({pooling[n][head]})" for n in names]
        out.append(f"| {head} | {label} | {' | '.join(cells)} |")
    out.append("")
    out.append(
        f"Both arms: {start} initial weights, the same {steps} steps x {batch} augmented images "
        "(identical batches), same losses; only the pooling differs. Test set: "
        f"{results[names[0]]['n_images']} held-out images "
        f"({results[names[0]]['n_small_hole']} with only small holes, {results[names[0]]['n_single_fold']} "
        "with a single fold)."
    )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m fabricscope.train study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--n-train", type=int, default=16000)
    ap.add_argument("--n-val", type=int, default=1000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=6000, help="per arm (~11 min each on 2 cores in bf16)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=PEAK_LR["sgd"], help="peak learning rate, SGD as in the shipped recipe")
    ap.add_argument("--precision", choices=PRECISIONS, default="auto")
    add_view_arguments(ap)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start both arms from this checkpoint's backbone (heads re-initialised) instead of from scratch",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    train_set = D.build(args.n_train, D.TRAIN_SEED0, log=True)
    val_set = D.build(args.n_val, D.VAL_SEED0)
    test_set = D.build(args.n_test, D.TEST_SEED0)
    print(f"data ready in {time.time() - t0:.0f} s", flush=True)
    nets, seconds = [], 0.0
    for name, heads in ARMS.items():
        print(f"arm {name}", flush=True)
        net, log = train_arm(heads, train_set, args)
        nets.append(net)
        seconds += log.seconds
    results: dict[str, dict[str, Any]] = {}
    for name, net in zip(ARMS, nets, strict=True):
        predict = torch_predictor(net, args.threads)
        val = run_batched(predict, val_set.images)
        th = {
            "hole": best_threshold(val["hole"][1][:, 1], val_set.has_hole),
            "wrinkle": best_threshold(val["wrinkle"][1][:, 1], val_set.wrinkled),
        }
        res = run_batched(predict, test_set.images)
        fig = figures_on_set(res, test_set, th)
        fig["val_hole_auroc"] = auroc(val["hole"][1][:, 1], val_set.has_hole)
        fig["val_wrinkle_auroc"] = auroc(val["wrinkle"][1][:, 1], val_set.wrinkled)
        results[name] = fig
        print(name, json.dumps({k: v for k, v in fig.items() if "auroc" in k}), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = arm_config(args)
    summary = {
        "steps": args.steps,
        "batch": args.batch,
        "n_train": args.n_train,
        "train_minutes_both_arms": round(seconds / 60, 1),
        "init": str(args.init) if args.init else "random",
        "seed": args.seed,
        "recipe": (
            f"trainer.train: sgd, peak lr {args.lr:g}, precision {args.precision}, "
            f"cell-loss weight {cfg.cell_weight:g}, {cfg.crops()}"
        ),
        "lr": args.lr,
        "wall_minutes": round((time.time() - t0) / 60, 1),
        "arms": results,
    }
    stem = "pooling_study" if args.seed == 0 else f"pooling_study_seed{args.seed}"  # repeats keep seed 0's files
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=2) + "\n")
    start = (
        f"the shipped model's trained backbone ({args.init.name}) with identical freshly initialised heads as"
        if args.init
        else "the same random"
    )
    md = table(results, args.steps, args.batch, start)
    (args.out / f"{stem}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
