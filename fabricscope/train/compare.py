"""Compare two exported models on the same held-out images, with paired bootstrap intervals.

    python -m fabricscope.train.compare NEW.onnx BASELINE.onnx --n 2000 [--renderer other]

Two models scored on one test set differ by less than either figure's own spread suggests,
because most images are easy or hard for both. Resampling the images (the same resample for
both models) gives the spread of the *difference*: each figure is reported as baseline, new,
new - baseline, its 95% interval and the share of resamples where the new model is not ahead.
Accuracies use each file's own shipped thresholds.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fabricscope.synth.renderers import RENDERERS
from fabricscope.train.data import Arrays, build
from fabricscope.train.evaluate import held_out_seed0, onnx_predictor, shipped_thresholds
from fabricscope.train.metrics import (
    auroc,
    auroc_of,
    localisation_distance,
    run_batched,
    single_fold_images,
    small_hole_images,
)


@dataclass
class Scores:
    """One model's per-image answers on a test set, aligned with the set's images."""

    hole: np.ndarray  # P(hole)
    wrinkle: np.ndarray  # P(wrinkled)
    hole_said: np.ndarray  # P(hole) >= the file's threshold
    wrinkle_said: np.ndarray
    cell_distance: np.ndarray  # one-hole images: cells between the strongest cell and the hole; -1 elsewhere


@dataclass
class Labels:
    hole: np.ndarray
    wrinkled: np.ndarray
    small: np.ndarray  # has a hole and every hole < metrics.SMALL_HOLE of the side
    fold: np.ndarray  # a single fold on smooth cloth
    single: np.ndarray  # exactly one hole

    @classmethod
    def of(cls, test: Arrays) -> Labels:
        hole = np.asarray(test.has_hole, bool)
        wr = np.asarray(test.wrinkled, bool)
        single = hole & np.array([len(c) == 1 for c in test.hole_centres])
        return cls(hole, wr, small_hole_images(hole, test.hole_sizes), single_fold_images(wr, test.kinds), single)


def scores_of(
    res: dict[str, tuple[np.ndarray, np.ndarray]], test: Arrays, labels: Labels, thresholds: dict[str, float]
) -> Scores:
    hp, wp = res["hole"][1][:, 1], res["wrinkle"][1][:, 1]
    dist = np.full(len(hp), -1, np.int64)
    dist[labels.single] = localisation_distance(res["hole"][0], labels.hole, test.hole_centres)  # one per such image
    return Scores(hp, wp, hp >= thresholds["hole"], wp >= thresholds["wrinkle"], dist)


def _share(hits: np.ndarray) -> float:
    return float(hits.mean()) if len(hits) else float("nan")


def calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: over ten equal-width bins of P, the image-weighted gap between the
    mean P and the share of defects. 0: a P of 0.7 is right 70% of the time."""
    which = np.minimum((np.asarray(probs) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(float(probs[sel].mean()) - float(np.asarray(labels, float)[sel].mean()))
    return total / max(len(probs), 1)


# name -> figure of (scores, labels), both already restricted to one resample
FIGURES: dict[str, Callable[[Scores, Labels], float]] = {
    "hole_auroc": lambda s, y: auroc(s.hole, y.hole),
    "hole_auroc_small": lambda s, y: auroc_of(s.hole[y.small], s.hole[~y.hole]),
    "hole_accuracy": lambda s, y: float((s.hole_said == y.hole).mean()),
    "hole_recall": lambda s, y: _share(s.hole_said[y.hole]),
    "hole_false_alarms": lambda s, y: _share(s.hole_said[~y.hole]),
    "hole_calibration_error": lambda s, y: calibration_error(s.hole, y.hole),
    "localisation_within_1_cell": lambda s, y: _share(s.cell_distance[y.single] <= 1),
    "localisation_exact_cell": lambda s, y: _share(s.cell_distance[y.single] == 0),
    "wrinkle_auroc": lambda s, y: auroc(s.wrinkle, y.wrinkled),
    "wrinkle_auroc_fold_vs_wrinkled": lambda s, y: auroc_of(s.wrinkle[y.wrinkled], s.wrinkle[y.fold]),
    "wrinkle_accuracy": lambda s, y: float((s.wrinkle_said == y.wrinkled).mean()),
    "wrinkle_recall": lambda s, y: _share(s.wrinkle_said[y.wrinkled]),
    "wrinkle_false_alarms": lambda s, y: _share(s.wrinkle_said[~y.wrinkled]),
    "wrinkle_calibration_error": lambda s, y: calibration_error(s.wrinkle, y.wrinkled),
}


def _take(x: Any, idx: np.ndarray) -> Any:
    return type(x)(**{k: v[idx] for k, v in vars(x).items()})


def paired_bootstrap(
    new: Scores, base: Scores, labels: Labels, n_boot: int = 2000, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Each figure for both models, their difference and its 95% percentile interval over
    ``n_boot`` resamples of the images (one resample shared by both models)."""
    rng = np.random.default_rng(seed)
    n = len(labels.hole)
    diffs: dict[str, list[float]] = {name: [] for name in FIGURES}
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        y, a, b = _take(labels, idx), _take(new, idx), _take(base, idx)
        for name, fig in FIGURES.items():
            diffs[name].append(fig(a, y) - fig(b, y))
    out: dict[str, dict[str, float]] = {}
    for name, fig in FIGURES.items():
        d = np.asarray(diffs[name])
        d = d[np.isfinite(d)]  # a resample may lack a group (e.g. no small hole in a tiny set)
        lo, hi = np.quantile(d, [0.025, 0.975]) if len(d) else (np.nan, np.nan)
        b, a = fig(base, labels), fig(new, labels)
        out[name] = {
            "baseline": b,
            "new": a,
            "diff": a - b,
            "ci95_low": float(lo),
            "ci95_high": float(hi),
            "share_not_ahead": _share(d <= 0),
        }
    return out


def compare(
    new_model: Path, base_model: Path, n: int = 2000, renderer: str = "training", n_boot: int = 2000, threads: int = 2
) -> dict[str, Any]:
    test = build(n, held_out_seed0(renderer), renderer=renderer)
    labels = Labels.of(test)
    scored = []
    for path in (new_model, base_model):
        predict, spec = onnx_predictor(path, threads)
        scored.append(scores_of(run_batched(predict, test.images), test, labels, shipped_thresholds(spec)))
    return {
        "new": str(new_model),
        "baseline": str(base_model),
        "renderer": renderer,
        "n_images": n,
        "test_seeds": f"{held_out_seed0(renderer)}..{held_out_seed0(renderer) + n - 1}",
        "n_boot": n_boot,
        "figures": paired_bootstrap(scored[0], scored[1], labels, n_boot),
    }


def table(result: dict[str, Any]) -> str:
    rows = [
        f"{'figure':32s} {'baseline':>9s} {'new':>9s} {'diff':>8s}   95% interval of diff   not ahead",
    ]
    for name, f in result["figures"].items():
        rows.append(
            f"{name:32s} {f['baseline']:9.4f} {f['new']:9.4f} {f['diff']:+8.4f}   "
            f"[{f['ci95_low']:+.4f}, {f['ci95_high']:+.4f}]   {f['share_not_ahead']:6.1%}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m fabricscope.train compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("new", type=Path, help="the candidate .onnx")
    ap.add_argument("baseline", type=Path, help="the .onnx to compare against (e.g. the shipped model)")
    ap.add_argument("--n", type=int, default=2000, help="held-out test images (default 2000)")
    ap.add_argument("--renderer", choices=RENDERERS, default="training")
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the result here")
    args = ap.parse_args(argv)
    result = compare(args.new, args.baseline, args.n, args.renderer, args.boot, args.threads)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
