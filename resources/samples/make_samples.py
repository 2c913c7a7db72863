"""Regenerate the bundled sample photos: ``python resources/samples/make_samples.py``.

Small synthetic fabric JPEGs from ``fabricscope.synth`` (fixed seeds), for trying
the app and the CLI on a machine with no camera:
``fabricscope score resources/samples``.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from fabricscope.synth import generate

HERE = Path(__file__).resolve().parent
#: (file name, seed, hole, wrinkled)
SAMPLES = [
    ("intact_smooth_1.jpg", 11, False, False),
    ("intact_smooth_2.jpg", 12, False, False),
    ("hole_1.jpg", 21, True, False),
    ("hole_2.jpg", 22, True, False),
    ("wrinkled_1.jpg", 31, False, True),
    ("wrinkled_2.jpg", 32, False, True),
    ("hole_and_wrinkled_1.jpg", 41, True, True),
    ("hole_and_wrinkled_2.jpg", 42, True, True),
]


def main() -> None:
    for name, seed, hole, wrinkled in SAMPLES:
        sample = generate(seed, size=(360, 480), hole=hole, wrinkled=wrinkled)
        Image.fromarray(sample.image).save(HERE / name, quality=75, optimize=True)
        print(f"{name}: {sample.kind}")


if __name__ == "__main__":
    main()
