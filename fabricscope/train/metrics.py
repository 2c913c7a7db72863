"""Evaluation maths shared by training, the evaluation script and the pooling study (numpy only)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np

# predict(images uint8 [N,H,W,3]) -> {head: (maps [N,2,h,w], probs [N,2])}
Predict = Callable[[np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties averaged); nan if one class is missing."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels, bool)
    npos, nneg = int(labels.sum()), int((~labels).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def auroc_of(pos: np.ndarray, neg: np.ndarray) -> float:
    """AUROC of two score sets (positives vs negatives)."""
    return auroc(np.concatenate([pos, neg]), np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)])


SMALL_HOLE = 0.05  # "small holes": every hole in the image under 5% of the side
HOLE_SIZE_BINS = (0.0, 0.03, 0.05, 0.08, 0.12, 1.01)  # largest hole / image side
# open hole pixels in the image (where the background shows), at the test size (224 x 224). A hole's
# "size" is its longest extent; a slit 15% of the side long may open fewer pixels than a round hole 4% wide.
HOLE_OPEN_PX_BINS = (0, 50, 100, 200, 400, 10**9)
HARD_NEGATIVES = ("dot", "seam", "stripe")


def best_threshold(probs: np.ndarray, labels: np.ndarray) -> float:
    """The threshold on P(defect) with the best balanced accuracy (midpoint between neighbouring scores)."""
    labels = np.asarray(labels, bool)
    p = np.sort(np.unique(np.asarray(probs, np.float64)))
    cands = np.concatenate([[0.5], (p[1:] + p[:-1]) / 2.0]) if len(p) > 1 else np.array([0.5])
    cands = cands[(cands > 0.01) & (cands < 0.99)]
    if len(cands) == 0:
        return 0.5
    pos, neg = probs[labels], probs[~labels]
    tpr = (pos[None, :] >= cands[:, None]).mean(1) if len(pos) else np.zeros(len(cands))
    tnr = (neg[None, :] < cands[:, None]).mean(1) if len(neg) else np.zeros(len(cands))
    score = (tpr + tnr) / 2.0
    best = score.max()
    # among ties, the one closest to 0.5
    ok = np.where(score >= best - 1e-9)[0]
    return float(cands[ok[np.argmin(np.abs(cands[ok] - 0.5))]])


def _auroc_by_bin(
    probs: np.ndarray,
    positive: np.ndarray,
    values: np.ndarray,
    bins: tuple[float, ...],
    label: Callable[[float, float], str],
) -> dict[str, dict[str, float]]:
    """AUROC of each bin's positives (by ``values``) against all negatives, keyed by ``label(lo, hi)``."""
    out = {}
    for lo, hi in pairwise(bins):
        sel = positive & (values >= lo) & (values < hi)
        out[label(lo, hi)] = {"n": int(sel.sum()), "auroc": auroc_of(probs[sel], probs[~positive])}
    return out


def run_batched(predict: Predict, images: np.ndarray, batch: int = 64) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, list[list[np.ndarray]]] = {}
    for i in range(0, len(images), batch):
        res = predict(images[i : i + batch])
        for head, (maps, probs) in res.items():
            out.setdefault(head, [[], []])
            out[head][0].append(maps)
            out[head][1].append(probs)
    return {h: (np.concatenate(v[0]), np.concatenate(v[1])) for h, v in out.items()}


def small_hole_images(has_hole: np.ndarray, hole_sizes: list) -> np.ndarray:
    """Images with a hole where every hole is under SMALL_HOLE of the side."""
    return np.asarray(has_hole, bool) & np.array([(max(s) if len(s) else 0.0) < SMALL_HOLE for s in hole_sizes], bool)


def single_fold_images(wrinkled: np.ndarray, kinds: list[str]) -> np.ndarray:
    """Smooth images whose one fold is the hard negative for the wrinkle head."""
    return ~np.asarray(wrinkled, bool) & np.array(["fold" in k for k in kinds], bool)


def localisation_distance(maps: np.ndarray, has_hole: np.ndarray, hole_centres: list, stride: int = 32) -> np.ndarray:
    """For each image with exactly one hole (in order), the Chebyshev distance in cells between the
    hole map's strongest cell (largest margin, channel 1 - channel 0) and the cell holding the centre."""
    h, w = maps.shape[2:]
    dists = []
    for i in range(len(maps)):
        if not has_hole[i] or len(hole_centres[i]) != 1:
            continue
        cy, cx = hole_centres[i][0]
        r_true = min(h - 1, max(0, int(cy // stride)))
        c_true = min(w - 1, max(0, int(cx // stride)))
        margin = maps[i, 1] - maps[i, 0]
        r, c = np.unravel_index(int(np.argmax(margin)), margin.shape)
        dists.append(max(abs(int(r) - r_true), abs(int(c) - c_true)))
    return np.asarray(dists, np.int64)


def figures(
    res: dict[str, tuple[np.ndarray, np.ndarray]],
    has_hole: np.ndarray,
    wrinkled: np.ndarray,
    kinds: list[str],
    hole_centres: list,
    hole_sizes: list,
    thresholds: dict[str, float],
    image_size: int = 224,
    stride: int = 32,
    open_pixels: np.ndarray | None = None,
) -> dict[str, Any]:
    """All evaluation figures for one test set. ``open_pixels`` (per image, hole pixels in the mask)
    adds the hole head's AUROC by how much background a hole shows."""
    hp = res["hole"][1][:, 1]
    wp = res["wrinkle"][1][:, 1]
    hole = np.asarray(has_hole, bool)
    wr = np.asarray(wrinkled, bool)
    n = len(hp)
    out: dict[str, Any] = {"n_images": n, "n_hole": int(hole.sum()), "n_wrinkled": int(wr.sum())}
    out["hole_auroc"] = auroc(hp, hole)
    out["wrinkle_auroc"] = auroc(wp, wr)
    th_h, th_w = thresholds["hole"], thresholds["wrinkle"]
    out["hole_threshold"] = th_h
    out["wrinkle_threshold"] = th_w
    out["hole_accuracy"] = float(((hp >= th_h) == hole).mean())
    out["wrinkle_accuracy"] = float(((wp >= th_w) == wr).mean())
    out["hole_recall"] = float((hp[hole] >= th_h).mean())
    out["hole_false_alarm_rate"] = float((hp[~hole] >= th_h).mean())
    out["wrinkle_recall"] = float((wp[wr] >= th_w).mean())
    out["wrinkle_false_alarm_rate"] = float((wp[~wr] >= th_w).mean())
    # small holes: every hole in the image < 5% of the side
    sizes = [max(s) if len(s) else 0.0 for s in hole_sizes]
    small = small_hole_images(hole, hole_sizes)
    out["n_small_hole"] = int(small.sum())
    out["hole_auroc_small"] = auroc_of(hp[small], hp[~hole])
    out["hole_recall_small"] = float((hp[small] >= th_h).mean()) if small.any() else float("nan")
    # single folds vs many wrinkles
    fold = single_fold_images(wr, kinds)
    out["n_single_fold"] = int(fold.sum())
    out["wrinkle_auroc_fold_vs_wrinkled"] = auroc_of(wp[wr], wp[fold])
    out["wrinkle_false_alarm_on_single_fold"] = float((wp[fold] >= th_w).mean()) if fold.any() else float("nan")
    # hard negatives for the hole head
    for tag in (*HARD_NEGATIVES, "fold"):
        sel = np.array([(tag in k) and not hole[i] for i, k in enumerate(kinds)])
        out[f"hole_false_alarm_on_{tag}"] = float((hp[sel] >= th_h).mean()) if sel.any() else float("nan")
    # where the hole head's errors are: by hole size, and with the named hard negatives left out
    out["hole_auroc_by_size"] = _auroc_by_bin(
        hp, hole, np.asarray(sizes), HOLE_SIZE_BINS, lambda lo, hi: f"{lo:.0%}-{min(hi, 1.0):.0%}"
    )
    if open_pixels is not None:
        out["hole_auroc_by_open_area"] = _auroc_by_bin(
            hp,
            hole,
            np.asarray(open_pixels),
            HOLE_OPEN_PX_BINS,
            lambda lo, hi: f"{lo}-{hi} px" if hi < HOLE_OPEN_PX_BINS[-1] else f">= {lo} px",
        )
    hard = np.array([any(t in k for t in HARD_NEGATIVES) for k in kinds]) & ~hole
    out["hole_auroc_without_dot_seam_stripe_negatives"] = auroc_of(hp[hole], hp[~hole & ~hard])
    # holes on wrinkled cloth
    hw = hole & wr
    out["hole_recall_on_wrinkled_cloth"] = float((hp[hw] >= th_h).mean()) if hw.any() else float("nan")
    # localisation: one-hole images, strongest cell within Chebyshev distance 1 of the centre's cell
    dist = localisation_distance(res["hole"][0], hole, hole_centres, stride)
    total = len(dist)
    out["n_single_hole"] = total
    out["localisation_within_1_cell"] = float((dist <= 1).mean()) if total else float("nan")
    out["localisation_exact_cell"] = float((dist == 0).mean()) if total else float("nan")
    return out
