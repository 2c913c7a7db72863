"""Evaluate an exported FabricScope model on a held-out generated set (ONNX Runtime, CPU).

    python -m fabricscope.train.evaluate --model models/fabric_inspector.onnx --n 2000

Figures: AUROC and accuracy at the shipped thresholds per head, small holes,
single folds vs many wrinkles, hard negatives, localisation of single holes,
and shift invariance (|change in P| when the view shifts by 1..16 px).
Seeds start at ``TEST_SEED0`` / ``SHIFT_SEED0`` and never overlap training or
validation seeds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from fabricscope.engine.contract import ModelSpec
from fabricscope.engine.inspector import Inspector
from fabricscope.synth.renderers import RENDERERS, render
from fabricscope.train.data import OTHER_SEED0, SHIFT_SEED0, TEST_SEED0, Arrays, build
from fabricscope.train.metrics import Predict, auroc, figures, run_batched

DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1), (0, -1), (-1, 0), (-1, -1), (-1, 1))


def onnx_predictor(path: Path, threads: int = 2) -> tuple[Predict, ModelSpec]:
    """A metrics.Predict backed by the app's own :class:`Inspector` (the contract checked as the app checks
    it, CPU provider), and the file's parsed metadata."""
    inspector = Inspector(path, provider="cpu", threads=threads)

    def predict(images: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        results = inspector.run(np.ascontiguousarray(images))
        out = {}
        for head in inspector.spec.heads:
            answers = [r.head(head.name) for r in results]
            p = np.array([a.prob for a in answers], np.float32)
            out[head.name] = (np.stack([a.class_map for a in answers]), np.stack([1.0 - p, p], axis=1))
        return out

    return predict, inspector.spec


def shipped_thresholds(spec: ModelSpec) -> dict[str, float]:
    """Each head's threshold as the file ships it (from its metadata)."""
    return {h.name: h.threshold for h in spec.heads}


def shift_study(
    predict: Predict, n: int = 150, max_shift: int = 16, seed0: int = SHIFT_SEED0, renderer: str = "training"
) -> dict[str, Any]:
    """|P(shifted view) - P(view)| per head for shifts of 1..max_shift px in 8 directions."""
    size, pad = 224, max_shift
    deltas: dict[str, list[np.ndarray]] = {}
    per_shift: dict[str, np.ndarray] = {}
    for k in range(n):
        s = render(seed0 + k, size + 2 * pad, renderer)
        views = [s.image[pad : pad + size, pad : pad + size]]
        for d in range(1, max_shift + 1):
            dy, dx = DIRECTIONS[(k + d) % len(DIRECTIONS)]
            views.append(s.image[pad + dy * d : pad + dy * d + size, pad + dx * d : pad + dx * d + size])
        res = predict(np.stack(views))
        for head, (_, probs) in res.items():
            deltas.setdefault(head, []).append(np.abs(probs[1:, 1] - probs[0, 1]))
    out: dict[str, Any] = {"n_images": n, "shifts_px": f"1..{max_shift}", "directions": 8}
    for head, rows in deltas.items():
        arr = np.stack(rows)  # n x max_shift
        per_shift[head] = np.median(arr, axis=0)
        flat = arr.ravel()
        out[head] = {
            "median": float(np.median(flat)),
            "mean": float(flat.mean()),
            "p90": float(np.quantile(flat, 0.9)),
            "p99": float(np.quantile(flat, 0.99)),
            "max": float(flat.max()),
            "share_over_0.05": float((flat > 0.05).mean()),
            "median_by_shift": [round(float(v), 4) for v in per_shift[head]],
        }
    return out


def figures_on_set(
    res: dict[str, tuple[np.ndarray, np.ndarray]], test: Arrays, thresholds: dict[str, float]
) -> dict[str, Any]:
    """metrics.figures for predictions ``res`` on the labelled set ``test``."""
    return figures(
        res,
        test.has_hole,
        test.wrinkled,
        test.kinds,
        test.hole_centres,
        test.hole_sizes,
        thresholds,
        open_pixels=test.open_pixels(),
    )


def held_out_seed0(renderer: str) -> int:
    """First seed of a renderer's held-out test set (the training generator's, varied or not, shares one)."""
    return OTHER_SEED0 if renderer == "other" else TEST_SEED0


def by_cloth(res: dict[str, tuple[np.ndarray, np.ndarray]], test: Arrays) -> dict[str, dict[str, Any]]:
    """Each head's AUROC within each cloth family (the kind's first tag before "/": the weave, or the
    other renderer's texture), so a weak family shows instead of hiding in the overall figure."""
    fam = np.array([k.split("/", 1)[0] for k in test.kinds])
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(set(fam)):
        sel = fam == f
        hp, wp = res["hole"][1][sel, 1], res["wrinkle"][1][sel, 1]
        hole, wr = test.has_hole[sel], test.wrinkled[sel]
        out[str(f)] = {
            "n": int(sel.sum()),
            "hole_auroc": auroc(hp, hole) if 0 < hole.sum() < sel.sum() else float("nan"),
            "wrinkle_auroc": auroc(wp, wr) if 0 < wr.sum() < sel.sum() else float("nan"),
        }
    return out


def evaluate(
    predict: Predict,
    thresholds: dict[str, float],
    n: int = 2000,
    n_shift: int = 150,
    log: bool = True,
    renderer: str = "training",
) -> dict[str, Any]:
    """Figures on ``n`` held-out images. ``renderer="other"`` renders them with the second,
    independent generator (``synth.spectral``) the model never trained on."""
    t0 = time.time()
    seed0 = held_out_seed0(renderer)
    shift_seed0 = OTHER_SEED0 + n if renderer == "other" else SHIFT_SEED0
    test = build(n, seed0, log=log, renderer=renderer)
    if log:
        print(f"test set ({renderer} renderer): {n} images in {time.time() - t0:.0f} s", flush=True)
    res = run_batched(predict, test.images)
    out = figures_on_set(res, test, thresholds)
    out["renderer"] = renderer
    out["test_seeds"] = f"{seed0}..{seed0 + n - 1}"
    out["by_cloth"] = by_cloth(res, test)
    if n_shift > 0:
        out["shift"] = shift_study(predict, n_shift, seed0=shift_seed0, renderer=renderer)
    out["eval_seconds"] = round(time.time() - t0, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m fabricscope.train evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", type=Path, default=Path("models/fabric_inspector.onnx"))
    ap.add_argument("--n", type=int, default=2000, help="held-out test images (default 2000)")
    ap.add_argument("--n-shift", type=int, default=150, help="images for the shift-invariance study")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--update-card", action="store_true", help="store the figures in the model's card")
    ap.add_argument(
        "--renderer",
        choices=RENDERERS,
        default="training",
        help="other: fabric from the second, independent generator (synth.spectral) the model never saw; "
        "varied: the test scenes with generate(variety=True)",
    )
    ap.add_argument("--sheet", type=Path, default=None, help="write a PNG of the first 24 images with the verdicts")
    args = ap.parse_args(argv)
    if args.update_card and args.renderer != "training":
        ap.error("--update-card stores the held-out figures of the training renderer only")
    predict, spec = onnx_predictor(args.model, args.threads)
    thresholds = shipped_thresholds(spec)
    out = evaluate(predict, thresholds, args.n, args.n_shift, renderer=args.renderer)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    if args.sheet:
        write_sheet(args.sheet, build(24, held_out_seed0(args.renderer), renderer=args.renderer), predict, thresholds)
    if args.update_card:
        from fabricscope.train.export import update_card

        card = dict(spec.card)
        card["evaluation"] = compact(out)
        update_card(args.model, card)
    return 0


def write_sheet(path: Path, test: Arrays, predict: Predict, thresholds: dict[str, float]) -> None:
    """A 6-wide grid of the images, each captioned per head with its label (1: defect) and P(defect),
    e.g. "hole=1 0.93"; the caption is red where a head's verdict at its threshold is wrong."""
    from PIL import Image, ImageDraw

    res = predict(test.images)
    tiles = []
    for i, img in enumerate(test.images):
        tile = Image.fromarray(img).convert("RGB")
        draw = ImageDraw.Draw(tile)
        parts = []
        wrong = False
        for head, truth in (("hole", test.has_hole[i]), ("wrinkle", test.wrinkled[i])):
            p = float(res[head][1][i, 1])
            said = p >= thresholds[head]
            wrong |= said != bool(truth)
            parts.append(f"{head}={int(truth)} {p:.2f}")
        draw.rectangle((0, 0, tile.width, 14), fill=(200, 30, 30) if wrong else (20, 20, 20))
        draw.text((3, 2), "  ".join(parts), fill=(255, 255, 255))
        tiles.append(np.asarray(tile))
    cols = 6
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[r : r + cols], 1) for r in range(0, len(tiles), cols)]
    Image.fromarray(np.concatenate(rows, 0)).save(path)


def compact(fig: dict[str, Any]) -> dict[str, Any]:
    """Figures rounded for the model card."""

    def r(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 4)
        if isinstance(v, dict):
            return {k: r(x) for k, x in v.items()}
        if isinstance(v, list):
            return [r(x) for x in v]
        return v

    return r(fig)


if __name__ == "__main__":
    raise SystemExit(main())
