"""Score a model on the Live tab's demo feed, frame by frame, as the app shows it.

    python -m fabricscope.train.evaluate_demo [--model FILE] [--baseline FILE] [--seeds 0 1 2]

The demo feed (``sources.demo.DemoFeed``) slides a long generated strip past a 640x480 frame;
the app squashes each frame to the model's 224x224 input like any other. This takes every
``--every``-th frame over one loop of the strip and labels it from the strip itself:

- hole: at least 12 hole pixels left after the squash (the generator's rule for a hole that
  shows); no hole: no hole pixel at all; frames in between are left out;
- wrinkled: at least half of the frame's rows in a wrinkled stretch; smooth: none; in between
  left out.

Consecutive frames overlap (the fabric moves 6 rows a frame), so the frames are not independent
samples: the figures say what a demo shows, not what a test set would. The app's feed is seed 0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from fabricscope.engine.imaging import fit_to_input
from fabricscope.sources.demo import STRIP_LENGTH, DemoFeed
from fabricscope.synth import render_labelled_strip
from fabricscope.train.evaluate import onnx_predictor, shipped_thresholds
from fabricscope.train.metrics import Predict, auroc, run_batched

MIN_HOLE_PX = 12  # at the model's input size, as the generator's visible-hole rule
WRINKLED_SHARE = 0.5
DemoFrames = tuple[np.ndarray, np.ndarray, np.ndarray]  # frames, hole pixels, wrinkled share of rows


def demo_frames(seed: int, every: int = 4, size: int = 224) -> DemoFrames:
    """Frames of one loop of the demo feed at the model's input size, with hole pixels (at that size)
    and the share of rows in a wrinkled stretch per frame."""
    feed = DemoFeed(seed=seed)
    strip = render_labelled_strip(seed, feed.width, STRIP_LENGTH)
    scale = size * size / (feed.width * feed.height)
    frames, hole_px, wrinkled = [], [], []
    for index in range(0, STRIP_LENGTH // feed.speed, every):
        rows = np.arange(feed.top_row(index), feed.top_row(index) + feed.height) % STRIP_LENGTH  # the feed loops
        frames.append(fit_to_input(strip.image[rows], size))
        hole_px.append(strip.hole_mask[rows].sum() * scale)
        wrinkled.append(strip.wrinkled_rows[rows].mean())
    return np.stack(frames), np.asarray(hole_px), np.asarray(wrinkled)


def head_figures(p: np.ndarray, positive: np.ndarray, negative: np.ndarray, threshold: float) -> dict[str, Any]:
    keep = positive | negative
    return {
        "n_positive": int(positive.sum()),
        "n_negative": int(negative.sum()),
        "auroc": auroc(p[keep], positive[keep]),
        "recall": float((p[positive] >= threshold).mean()) if positive.any() else float("nan"),
        "false_alarm_rate": float((p[negative] >= threshold).mean()) if negative.any() else float("nan"),
    }


def score_seed(predict: Predict, thresholds: dict[str, float], seed: int, demo: DemoFrames) -> dict[str, Any]:
    frames, hole_px, wrinkled = demo
    res = run_batched(predict, frames)
    return {
        "seed": seed,
        "frames": len(frames),
        "hole": head_figures(res["hole"][1][:, 1], hole_px >= MIN_HOLE_PX, hole_px == 0, thresholds["hole"]),
        "wrinkle": head_figures(
            res["wrinkle"][1][:, 1], wrinkled >= WRINKLED_SHARE, wrinkled == 0, thresholds["wrinkle"]
        ),
    }


def score_model(path: Path, demos: dict[int, DemoFrames], threads: int = 2) -> dict[str, Any]:
    """``path``'s figures on each seed's frames (rendered once, shared by every model scored)."""
    predict, spec = onnx_predictor(path, threads)
    thresholds = shipped_thresholds(spec)
    return {
        "model": str(path),
        "thresholds": thresholds,
        "seeds": [score_seed(predict, thresholds, seed, demo) for seed, demo in demos.items()],
    }


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        f"{'model':28s} {'seed':>4s} {'head':8s} {'frames +/-':>11s} {'AUROC':>6s} {'recall':>7s} {'false alarms':>13s}"
    ]
    for r in results:
        name = Path(r["model"]).name if len(r["model"]) > 28 else r["model"]
        for s in r["seeds"]:
            for head in ("hole", "wrinkle"):
                f = s[head]
                rows.append(
                    f"{name[:28]:28s} {s['seed']:>4d} {head:8s} {f['n_positive']:>5d}/{f['n_negative']:<5d} "
                    f"{f['auroc']:6.3f} {f['recall']:7.3f} {f['false_alarm_rate']:13.3f}"
                )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m fabricscope.train demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=Path("models/fabric_inspector.onnx"))
    ap.add_argument("--baseline", type=Path, default=None, help="a second .onnx scored on the same frames")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="demo strips (the app shows seed 0)")
    ap.add_argument("--every", type=int, default=4, help="take every Nth frame of the feed (default 4: 24 rows apart)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)
    if args.every < 1:
        ap.error("--every must be >= 1")
    paths = [args.model] + ([args.baseline] if args.baseline else [])
    demos = {seed: demo_frames(seed, args.every) for seed in args.seeds}
    results = [score_model(p, demos, args.threads) for p in paths]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
