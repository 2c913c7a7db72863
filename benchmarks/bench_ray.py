"""The Ray engine against the local engine: images/s on this machine, same folders, one run.

Also splits Ray's time into what is paid once (Ray start-up; per run: actor
start and model load, scheduling) and what is paid per image (decode,
inference), so the numbers say how a cluster would scale:

- per-image costs: decode of one file (``decode_pool.prepare_file``) and model time
  per image at the engine's batch size, measured here on one core;
- local engine: ``batch.score_folder`` end to end (decode threads + one session);
- Ray: ``ray.init`` on this machine; a 16-image run (the fixed cost of a run);
  the whole folder; the marginal rate (images beyond the first 16 divided by
  the time beyond the 16-image run) is the steady-state throughput.

Both engines score the same files with the same model; the row counts are
checked equal. Folders are the ones bench_batch generates (cached under
/tmp/fabricscope-bench). Needs the ``cluster`` extra.

    nice -n 10 python -m benchmarks.bench_ray [--model FILE] [--quick] [--cpus N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.bench_batch import CACHE, make_folder, pick_model
from fabricscope.engine import batch, decode_pool, ray_engine
from fabricscope.engine.inspector import DEFAULT_MODEL, Inspector


def per_image_costs(inspector: Inspector, files: Sequence[Path], batch_size: int) -> tuple[float, float]:
    """Median decode ms per file, and model ms per image at ``batch_size`` (one thread)."""
    size = inspector.input_size
    decode = []
    arrays = []
    for f in files[:24]:
        t0 = time.perf_counter()
        prep = decode_pool.prepare_file(f, size)
        decode.append(time.perf_counter() - t0)
        arrays.append(prep.array)
    stack = np.stack([a for a in arrays if a is not None][:batch_size])
    inspector.run(stack)  # warm-up
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        inspector.run(stack)
        times.append(time.perf_counter() - t0)
    return statistics.median(decode) * 1000, statistics.median(times) * 1000 / len(stack)


def time_local(inspector: Inspector, files: Sequence[Path], batch_size: int, workers: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    summary = batch.score_folder(inspector, files, batch_size=batch_size, workers=workers)
    return time.perf_counter() - t0, summary.ok + summary.errors


def time_ray(scorer: ray_engine.RayScorer, files: Sequence[Path]) -> tuple[float, int]:
    t0 = time.perf_counter()
    summary = batch.score_folder(scorer.inspector, files, scorer=scorer)
    return time.perf_counter() - t0, summary.ok + summary.errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_ray", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="fewer images (20 camera, 100 webcam)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    try:
        ray_engine.import_ray()
    except ray_engine.ClusterError as exc:
        print(f"skipped: {exc}")
        return 0

    model, which = pick_model(args.model)
    untrained = CACHE / "fabricnet_untrained.onnx"  # the real architecture, when bench_model_latency made one
    if args.model is None and not DEFAULT_MODEL.exists() and untrained.exists():
        model, which = untrained, f"{untrained} (FabricNet architecture, untrained: real compute per image)"
    workers = min(4, os.cpu_count() or 2)
    local_inspector = Inspector(model, provider="cpu")  # as the CLI: all cores for the session
    one_thread = Inspector(model, provider="cpu", threads=1)
    print(f"model: {which}; {os.cpu_count()} cores; batch {args.batch_size}")
    print(f"local engine: {workers} decode threads + one session on all cores")
    print(f"ray engine:   local Ray with {args.cpus} CPUs; decode tasks of 1 CPU, inference actors of 1 CPU/1 thread")

    folders = {
        "webcam 640x480": sorted(make_folder("webcam_640x480", 500, 640, 480).glob("*.jpg")),
        "camera 4000x3000": sorted(make_folder("camera_4000x3000", 100, 4000, 3000).glob("*.jpg")),
    }
    if args.quick:
        folders = {
            "webcam 640x480": folders["webcam 640x480"][:100],
            "camera 4000x3000": folders["camera 4000x3000"][:20],
        }

    print("\nper image, one core:")
    for name, files in folders.items():
        decode_ms, infer_ms = per_image_costs(one_thread, files, args.batch_size)
        print(f"  {name:17s} decode {decode_ms:6.1f} ms   inference {infer_ms:6.1f} ms (batch {args.batch_size})")

    local: dict[str, tuple[float, int]] = {}
    for name, files in folders.items():
        time_local(local_inspector, files[:16], args.batch_size, workers)  # warm-up: page cache, allocations
        local[name] = time_local(local_inspector, files, args.batch_size, workers)

    t0 = time.perf_counter()
    with ray_engine.ray_session(num_cpus=args.cpus):
        init_s = time.perf_counter() - t0
        scorer = ray_engine.RayScorer(local_inspector, provider="cpu", batch_size=args.batch_size)
        print(
            f"\nray: start-up (ray.init, {args.cpus} CPUs) {init_s:.1f} s; inference actors: up to {scorer.pool_size()}"
        )
        time_ray(scorer, next(iter(folders.values()))[:16])  # warm-up: the first run also starts worker processes
        rows = []
        for name, files in folders.items():
            small_s, _ = time_ray(scorer, files[:16])  # fixed cost of one run: actors start, model loads
            ray_s, n_ray = time_ray(scorer, files)
            local_s, n_local = local[name]
            assert n_ray == n_local == len(files), (n_ray, n_local, len(files))
            marginal = (len(files) - 16) / (ray_s - small_s) if ray_s > small_s else float("nan")  # nan: noise won
            rows.append((name, len(files), local_s, ray_s, small_s, marginal))

    print(f"\n{'folder':17s} {'files':>5s} {'local img/s':>11s} {'ray img/s':>9s} {'ray/local':>9s}"
          f" {'ray 16-img run':>14s} {'ray marginal img/s':>18s}")  # fmt: skip
    for name, n, local_s, ray_s, small_s, marginal in rows:
        print(f"{name:17s} {n:5d} {n / local_s:11.1f} {n / ray_s:9.1f} {local_s / ray_s:9.2f}"
              f" {small_s:12.1f} s {marginal:18.1f}")  # fmt: skip
    print(
        f"\nray start-up ({init_s:.1f} s) is paid once per command, not counted in the rates above;"
        " the 16-image run is the fixed cost of every run (actor pool start, model load, scheduling)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
