"""Write generated samples to disk: images, masks and a labels.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fabricscope.synth.renderers import check, render

LABEL_FIELDS = ("file", "has_hole", "wrinkled", "hole_fraction", "kind")


def write_dataset(
    out_dir: Path, n: int, seed: int = 0, size: int = 224, jpeg: bool = True, renderer: str = "training"
) -> Path:
    """Write ``n`` samples (seeds ``seed .. seed+n-1``) of the named generator (``renderers.RENDERERS``)
    under ``out_dir``; return the labels.csv path.

    Layout: ``images/NNNNNN.jpg`` (or ``.png``), ``masks/NNNNNN.png`` (255 = hole) and
    ``labels.csv`` with columns file, has_hole, wrinkled, hole_fraction, kind
    (``file`` is relative to ``out_dir``).
    """
    from PIL import Image

    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    check(renderer, size)  # before any folder is made
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    labels = out_dir / "labels.csv"
    ext = "jpg" if jpeg else "png"
    with labels.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(LABEL_FIELDS)
        for k in range(n):
            s = render(seed + k, size, renderer)
            name = f"{k:06d}"
            rel = f"images/{name}.{ext}"
            im = Image.fromarray(s.image)
            if jpeg:
                im.save(out_dir / rel, quality=92)
            else:
                im.save(out_dir / rel)
            Image.fromarray(s.hole_mask.astype(np.uint8) * 255).save(out_dir / "masks" / f"{name}.png")
            writer.writerow(
                [rel, int(s.has_hole), int(s.wrinkled), f"{float(s.hole_mask.mean()):.6f}", s.kind]
            )
    return labels
