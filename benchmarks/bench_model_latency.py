"""Shipped model size and ONNX Runtime CPU latency.

Batch 1 at 224x224 with 2 intra-op threads (the target: <= 10 ms median), plus
batch 8 and 448x448 for scale. Best-of-three medians, timed in one run because
these machines are noisy; the size target is <= 10 MB.

    nice -n 10 python -m benchmarks.bench_model_latency [--model FILE] [--threads 2] [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "models" / "fabric_inspector.onnx"


def _session(path: Path, threads: int):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _median_ms(sess, x: np.ndarray, runs: int) -> float:
    for _ in range(10):
        sess.run(None, {"image": x})
    best = float("inf")
    for _ in range(3):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(None, {"image": x})
            times.append((time.perf_counter() - t) * 1000.0)
        best = min(best, statistics.median(times))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}")
        return 1
    size_mb = args.model.stat().st_size / 1e6
    sess = _session(args.model, args.threads)
    rng = np.random.default_rng(0)
    results = {"model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model)}
    results["size_mb"] = round(size_mb, 2)
    for label, shape, runs in (
        ("batch1_224", (1, 224, 224, 3), args.runs),
        ("batch8_224", (8, 224, 224, 3), max(10, args.runs // 8)),
        ("batch1_448", (1, 448, 448, 3), max(10, args.runs // 4)),
    ):
        x = rng.integers(0, 256, shape, dtype=np.uint8)
        ms = _median_ms(sess, x, runs)
        results[f"{label}_ms"] = round(ms, 2)
        if shape[0] > 1:
            results[f"{label}_ms_per_image"] = round(ms / shape[0], 2)
    results["threads"] = args.threads
    ok_size = size_mb <= 10.0
    ok_latency = results["batch1_224_ms"] <= 10.0
    print(json.dumps(results, indent=2))
    print(f"size <= 10 MB: {'yes' if ok_size else 'NO'}; ", end="")
    print(f"batch-1 latency <= 10 ms: {'yes' if ok_latency else 'NO'}")
    return 0 if ok_size and ok_latency else 1


if __name__ == "__main__":
    raise SystemExit(main())
