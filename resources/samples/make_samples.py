"""Regenerate the bundled sample photos: ``python resources/samples/make_samples.py``.

Small synthetic fabric JPEGs (480x360) from ``fabricscope.synth`` with the realistic camera
(``realism=True``: uneven light, tone curve, noise, JPEG; without the blotch prints of ``variety``), for trying the app and the CLI on a
machine with no camera: ``fabricscope score resources/samples``.

How the images are chosen, fixed before any model scored them: for each kind, the first seed from
its start that fits the kind. A hole must be visible at a glance, its largest extent at least
``MIN_HOLE`` of the shorter side (an inspector's sample shows the defect, not a needle's eye); a
smooth sample carries a knot, a slub or a dark print (the look-alikes the hole head must not flag).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from fabricscope.synth import generate
from fabricscope.synth.generator import Sample

HERE = Path(__file__).resolve().parent
SIZE = (360, 480)  # height, width
MIN_HOLE = 0.06
LOOK_ALIKES = ("knot", "slub", "darkprint", "thick_yarn")


def visible_hole(s: Sample) -> bool:
    return s.has_hole and max(s.hole_sizes) >= MIN_HOLE


def with_look_alike(s: Sample) -> bool:
    return any(k in s.kind for k in LOOK_ALIKES)


#: (file name, first seed, hole, wrinkled, what the sample must show)
SAMPLES: list[tuple[str, int, bool, bool, Callable[[Sample], bool]]] = [
    ("intact_smooth_1.jpg", 11, False, False, with_look_alike),
    ("intact_smooth_2.jpg", 111, False, False, with_look_alike),
    ("hole_1.jpg", 21, True, False, visible_hole),
    ("hole_2.jpg", 121, True, False, visible_hole),
    ("wrinkled_1.jpg", 31, False, True, lambda s: True),
    ("wrinkled_2.jpg", 131, False, True, lambda s: True),
    ("hole_and_wrinkled_1.jpg", 41, True, True, visible_hole),
    ("hole_and_wrinkled_2.jpg", 141, True, True, visible_hole),
]


def main() -> None:
    for name, seed, hole, wrinkled, fits in SAMPLES:
        while not fits(sample := generate(seed, SIZE, hole=hole, wrinkled=wrinkled, realism=True)):
            seed += 1
        Image.fromarray(sample.image).save(HERE / name, quality=75, optimize=True)
        print(f"{name}: seed {seed}, {sample.kind}")


if __name__ == "__main__":
    main()
