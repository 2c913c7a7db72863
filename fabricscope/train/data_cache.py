"""Rendered training data kept on disk, so a resumed run does not render it again.

Rendering 30,000 training images takes 8-17 minutes on 2 cores; a run that spans several
sittings (``--state`` / ``--resume``) paid that at every resume. ``--data-cache DIR`` stores
the arrays once (about 6 GB for the default set) and loads them in seconds afterwards.

A cache is only as good as the generator it came from, and the generator changes between
releases. So a loaded cache is checked against the generator as it is now: a few of its
images are rendered afresh and must match exactly, or the cache is rendered again. Files
are written under temporary names and renamed last, so a run killed mid-write leaves no
half cache behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fabricscope.train.data import Arrays, build

SPOT_CHECKS = 3  # images re-rendered to check a loaded cache: first, middle, last


def cache_stem(directory: Path, n: int, seed0: int, size: int, renderer: str) -> Path:
    return directory / f"{renderer}-{size}px-seeds{seed0}-n{n}"


def _paths(stem: Path) -> dict[str, Path]:
    return {part: stem.with_name(f"{stem.name}.{part}") for part in ("images.npy", "masks.npy", "labels.json")}


def save(stem: Path, arrays: Arrays) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = _paths(stem)
    labels = {
        "has_hole": arrays.has_hole.tolist(),
        "wrinkled": arrays.wrinkled.tolist(),
        "kinds": arrays.kinds,
        "hole_centres": arrays.hole_centres,
        "hole_sizes": arrays.hole_sizes,
    }
    writers: dict[str, Callable[[Path], None]] = {
        "images.npy": lambda p: np.save(p, arrays.images),
        "masks.npy": lambda p: np.save(p, arrays.masks),
        "labels.json": lambda p: p.write_text(json.dumps(labels)),
    }
    # labels last: its presence marks a complete cache
    for part in ("images.npy", "masks.npy", "labels.json"):
        tmp = paths[part].with_name("tmp-" + paths[part].name)  # keeps the suffix: np.save adds none
        writers[part](tmp)
        os.replace(tmp, paths[part])


def load(stem: Path) -> Arrays | None:
    """The cached arrays, or None where there is no complete cache."""
    paths = _paths(stem)
    if not all(p.is_file() for p in paths.values()):
        return None
    labels = json.loads(paths["labels.json"].read_text())
    images = np.load(paths["images.npy"])
    masks = np.load(paths["masks.npy"])
    n = len(labels["kinds"])
    if len(images) != n or len(masks) != n:
        return None
    return Arrays(
        images,
        masks,
        np.asarray(labels["has_hole"], bool),
        np.asarray(labels["wrinkled"], bool),
        labels["kinds"],
        [tuple(tuple(c) for c in cs) for cs in labels["hole_centres"]],
        [tuple(s) for s in labels["hole_sizes"]],
    )


def matches_generator(arrays: Arrays, seed0: int, size: int, renderer: str) -> bool:
    """Whether a few cached images are what the generator renders for their seeds today."""
    n = len(arrays)
    for k in sorted({0, n // 2, n - 1})[:SPOT_CHECKS]:
        fresh = build(1, seed0 + k, size=size, workers=1, renderer=renderer)
        same = (
            np.array_equal(fresh.images[0], arrays.images[k])
            and np.array_equal(fresh.masks[0], arrays.masks[k])
            and bool(fresh.has_hole[0]) == bool(arrays.has_hole[k])
            and bool(fresh.wrinkled[0]) == bool(arrays.wrinkled[k])
        )
        if not same:
            return False
    return True


def build_cached(
    directory: Path | None,
    n: int,
    seed0: int,
    size: int = 224,
    workers: int | None = None,
    log: bool = False,
    renderer: str = "training",
) -> Arrays:
    """``data.build`` through a cache in ``directory`` (None: no cache)."""
    if directory is None:
        return build(n, seed0, size=size, workers=workers, log=log, renderer=renderer)
    stem = cache_stem(directory, n, seed0, size, renderer)
    cached = load(stem)
    if cached is not None and matches_generator(cached, seed0, size, renderer):
        if log:
            print(f"  loaded {n} images from {stem}.*", flush=True)
        return cached
    if cached is not None and log:
        print(f"  {stem}.* no longer matches the generator: rendering again", flush=True)
    arrays = build(n, seed0, size=size, workers=workers, log=log, renderer=renderer)
    save(stem, arrays)
    return arrays
