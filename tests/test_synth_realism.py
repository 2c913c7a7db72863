"""generate(realism=True) / the "realistic" renderer: hard negatives, puckers, a phone-like camera."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from fabricscope.synth import generate, realism
from fabricscope.synth import generator as g
from fabricscope.synth.renderers import MIN_SIDE, RENDERERS, render

# sha256[:16] of image + mask bytes of generate() with the options off, taken before realism existed
_TRAINING_HASHES = [
    (0, (224, 224), False, "a992ad0a6bf28d00"),
    (1, (224, 224), False, "2448a09eba50a16a"),
    (2, (160, 96), False, "fc3e4aa2e17ccda2"),
    (3, (224, 224), True, "30bf423fdc2f5065"),
    (4, (224, 224), True, "d1b375b4a9a4c2ea"),
]


@pytest.mark.parametrize(("seed", "size", "variety", "digest"), _TRAINING_HASHES)
def test_training_and_varied_images_are_bit_identical(seed, size, variety, digest):
    s = generate(seed, size, variety=variety)
    assert hashlib.sha256(s.image.tobytes() + s.hole_mask.tobytes()).hexdigest()[:16] == digest


def test_realistic_renderer_is_registered_and_deterministic():
    assert "realistic" in RENDERERS and MIN_SIDE["realistic"] == 16
    a, b = render(11, 96, "realistic"), render(11, 96, "realistic")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.hole_mask, b.hole_mask)
    assert a.kind == b.kind
    c = generate(11, (96, 96), variety=True, realism=True)
    assert np.array_equal(a.image, c.image)


@pytest.mark.parametrize("size", [(224, 224), (200, 300), (16, 16)])
def test_realism_keeps_shape_and_dtype(size):
    s = generate(5, size, realism=True)
    assert s.image.shape == (*size, 3) and s.image.dtype == np.uint8
    assert s.hole_mask.shape == size and s.hole_mask.dtype == bool


def test_realism_never_changes_labels_or_hole_masks():
    """Hard negatives, dark prints, puckers and the camera change the look only: same mask, same labels."""
    tags: set[str] = set()
    changed = 0
    for seed in range(60):
        a = generate(seed, (128, 128), variety=True)
        b = generate(seed, (128, 128), variety=True, realism=True)
        assert np.array_equal(a.hole_mask, b.hole_mask)
        assert (a.has_hole, a.wrinkled, a.hole_centres, a.hole_sizes) == (
            b.has_hole,
            b.wrinkled,
            b.hole_centres,
            b.hole_sizes,
        )
        assert b.kind.startswith(a.kind)
        extra = set("+".join(b.kind[len(a.kind) :].split("+")).split("+")) - {""}
        assert extra <= {*realism.HARD_NEGATIVES, "darkprint", "pucker", "pinch"}
        assert not ({"pucker", "pinch"} & extra and not b.wrinkled)
        changed += bool(extra & {*realism.HARD_NEGATIVES, "darkprint"})
        tags |= extra
    assert {"knot", "slub", "darkprint", "pucker", "pinch"} <= tags
    assert 15 <= changed <= 36  # about 40% of the images carry hard negatives


def _scene(seed: int, hole: bool) -> g.Scene:
    return g._make_scene(np.random.default_rng(seed), 160, 160, hole, False)


@pytest.mark.parametrize("kind", realism.HARD_NEGATIVES)
def test_each_hard_negative_changes_the_cloth_where_it_is_placed(kind):
    scene = _scene(4, hole=False)
    mark = realism.Mark(
        kind=kind,
        cy=80.0,
        cx=80.0,
        angle=0.3,
        length=40.0 if kind != "thick_yarn" else 500.0,
        width=5.0 if kind != "float" else 1.5,
        tone=0.6 if kind in ("spot", "stain", "thick_yarn") else 1.3,
        colour=np.array([0.8, 0.7, 0.5], np.float32),
        params=np.full(8, 0.5, np.float32),
    )
    plain, mask0 = g._render_cloth(np.random.default_rng(1), scene, 160, 160)
    scene.real = realism.Realism(marks=[mark])
    marked, mask1 = g._render_cloth(np.random.default_rng(1), scene, 160, 160)
    diff = np.abs(marked - plain).max(-1)
    assert diff[74:87, 74:87].max() > 0.05  # where it is
    assert diff[:20, :20].max() == 0 or kind == "thick_yarn"  # and nowhere far from it
    assert not mask0.any() and not mask1.any()


def test_hard_negatives_never_add_hole_pixels_to_holed_cloth():
    for seed in range(8):
        scene = _scene(seed, hole=True)
        _, before = g._render_cloth(np.random.default_rng(2), scene, 160, 160)
        scene.real = realism.Realism(
            marks=realism.random_marks(np.random.default_rng(seed), 160, 160, 160 / 224, 0.2, 5.0, np.ones((1, 3))) * 3
        )
        _, after = g._render_cloth(np.random.default_rng(2), scene, 160, 160)
        assert np.array_equal(before, after)


def test_camera_and_jpeg_keep_shape_and_dtype_and_are_deterministic():
    img = np.random.default_rng(0).uniform(0, 1, (50, 70, 3)).astype(np.float32)
    a = realism.camera(np.random.default_rng(3), img, 50 / 224)
    b = realism.camera(np.random.default_rng(3), img, 50 / 224)
    assert a.shape == (50, 70, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    j = realism.jpeg(a, 40)
    assert j.shape == a.shape and j.dtype == np.uint8 and not np.array_equal(j, a)


def test_pucker_and_pinch_make_wrinkles():
    rng = np.random.default_rng(0)
    ripples, _line = g._pucker(rng, 224, 224, 1.0)
    assert len(ripples) >= 10 and all(c.length <= 30.0 for c in ripples)
    spokes = g._pinch(rng, 224, 224, 1.0)
    assert 5 <= len(spokes) <= 12
    for creases in (ripples, spokes):
        height = g._height_field(creases, 224, 224, None)[0]
        assert np.abs(height).max() > 0.5


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.299, 0.587, 0.114])


def test_realistic_holes_still_stand_out_from_the_cloth_around_them():
    """The phone camera (blur, tone, JPEG) and the hard negatives must not hide the holes."""
    steps = []
    for seed in range(30):
        s = generate(seed, (224, 224), hole=True, variety=True, realism=True)
        assert s.hole_mask.sum() >= 8
        grown = s.hole_mask.copy()
        near = grown
        for k in range(6):  # a band of cloth 3-6 px around the holes
            grown = grown | np.roll(grown, 1, 0) | np.roll(grown, -1, 0) | np.roll(grown, 1, 1) | np.roll(grown, -1, 1)
            if k == 2:
                near = grown.copy()
        band = grown & ~near
        steps.append(abs(_luma(s.image[s.hole_mask]).mean() - _luma(s.image[band]).mean()))
    assert np.median(steps) > 25 and min(steps) > 8


def test_dark_print_keeps_the_weave():
    """Dark printed motifs are dye: the thread shading still shows through them, unlike a hole."""
    scene = _scene(6, hole=False)
    scene.fabric.mottle = scene.fabric.fuzz = 0.0
    scene.creases = []
    scene.undulation = 0.0
    plain, _ = g._render_cloth(np.random.default_rng(1), scene, 160, 160)
    dark = np.array([0.1, 0.08, 0.12], np.float32)
    scene.real = realism.Realism(dark_print=("dots", 30.0, 0.3, dark, 0.0, 0.0))
    printed, mask = g._render_cloth(np.random.default_rng(1), scene, 160, 160)
    inked = np.abs(printed - plain).max(-1) > 0.05
    assert 0.05 < inked.mean() < 0.6 and not mask.any()
    lum = _luma(printed)
    core = inked & np.roll(inked, 2, 0) & np.roll(inked, -2, 0) & np.roll(inked, 2, 1) & np.roll(inked, -2, 1)
    assert lum[core].std() > 0.004  # thread relief under the ink, not a flat fill
