"""The procedural fabric generator: determinism, labels vs masks, sizes, dataset files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fabricscope.synth import Sample, generate, render_labelled_strip, render_strip, write_dataset


def test_same_seed_same_sample():
    a, b = generate(123), generate(123)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.hole_mask, b.hole_mask)
    assert (a.wrinkled, a.has_hole, a.kind) == (b.wrinkled, b.has_hole, b.kind)


def test_different_seeds_differ():
    assert not np.array_equal(generate(1).image, generate(2).image)


@pytest.mark.parametrize("size", [(224, 224), (256, 384), (300, 200), (448, 448)])
def test_sizes_and_dtypes(size):
    s = generate(7, size)
    assert isinstance(s, Sample)
    assert s.image.shape == (*size, 3) and s.image.dtype == np.uint8
    assert s.hole_mask.shape == size and s.hole_mask.dtype == bool


def test_labels_match_masks():
    for seed in range(12):
        s = generate(seed)
        assert s.has_hole == bool(s.hole_mask.any())
        assert ("hole:" in s.kind) == bool(s.hole_centres)
        assert ("wrinkles" in s.kind) == s.wrinkled


def test_forced_labels():
    for seed in range(6):
        yes = generate(seed, hole=True, wrinkled=True)
        no = generate(seed, hole=False, wrinkled=False)
        assert yes.has_hole and yes.wrinkled and yes.hole_mask.any()
        assert not no.has_hole and not no.wrinkled and not no.hole_mask.any()
        assert all(0.0 < f < 0.3 for f in yes.hole_sizes)


def test_hole_shows_background_not_cloth():
    s = generate(3, hole=True, wrinkled=False)
    inside = s.image[s.hole_mask].astype(float).mean(0)
    ring = s.image[~s.hole_mask].astype(float).mean(0)
    assert np.abs(inside - ring).max() > 10


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.299, 0.587, 0.114])


def test_every_hole_is_open_and_stands_out_from_the_cloth_around_it():
    """A hole the shade of its surroundings, or closed by loose threads, is invisible: not a label."""
    steps = []
    for seed in range(40):
        s = generate(seed, hole=True)
        assert s.hole_mask.sum() >= 8  # the smallest: a short thin tear, ~3 x 3.5 px
        grown = s.hole_mask.copy()
        for _ in range(6):  # a band of cloth 3-6 px around the holes, past the shadow rim
            grown |= np.roll(grown, 1, 0) | np.roll(grown, -1, 0) | np.roll(grown, 1, 1) | np.roll(grown, -1, 1)
            if _ == 2:
                near = grown.copy()
        band = grown & ~near
        steps.append(abs(_luma(s.image[s.hole_mask]).mean() - _luma(s.image[band]).mean()))
    # camera gain, gamma and lighting shrink the rendered 0.25 step; a 10-level median keeps it visible
    assert np.median(steps) > 25 and min(steps) > 8


@pytest.mark.parametrize("kind", ["cut", "tear"])
def test_cuts_and_tears_gape_open(kind):
    """A hairline slit vanishes in the camera's blur: every cut and tear keeps a 3 x 3 px opening."""
    from fabricscope.synth.generator import _hole_shape, _random_hole

    rng = np.random.default_rng(7)
    ys, xs = np.mgrid[0:224, 0:224].astype(np.float32)
    for pitch in np.tile([2.0, 4.0, 6.0], 20):  # 60 holes over fine to coarse threads
        hole = _random_hole(rng, 224, 224, 1.0, pitch, kind)
        inside, _ = _hole_shape(hole, ys, xs)
        core = inside.copy()  # erode once by a 3 x 3 square: empty where the slit is under 3 px wide
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                core &= np.roll(np.roll(inside, dy, 0), dx, 1)
        assert core.any(), (kind, hole.size, hole.ratio)


def test_print_dot_keeps_the_weave_a_hole_does_not():
    """Dark print dots (labelled intact) carry the thread texture; a hole shows a smooth table."""
    from fabricscope.synth.generator import _make_scene, _render_cloth

    def texture(lum: np.ndarray) -> float:  # mean pixel-to-pixel change, 0..1 units, before the camera
        return float(np.abs(np.diff(lum, axis=1)).mean())

    dots, holes = [], []
    for seed in range(300):
        scene = _make_scene(np.random.default_rng(seed), 224, 224, True, False)
        if scene.dot is None:
            continue
        cloth, mask = _render_cloth(np.random.default_rng(1), scene, 224, 224)
        lum = _luma(cloth)
        cy, cx, r, _ = scene.dot
        y0, y1, x0, x1 = int(cy - 0.4 * r), int(cy + 0.4 * r) + 1, int(cx - 0.4 * r), int(cx + 0.4 * r) + 1
        if y1 - y0 >= 3 and x1 - x0 >= 3:
            dots.append(texture(lum[y0:y1, x0:x1]))
        ys, xs = np.nonzero(mask)
        hy, hx = int(np.median(ys)), int(np.median(xs))
        if mask[hy - 2 : hy + 3, hx - 2 : hx + 3].all():
            holes.append(texture(lum[hy - 2 : hy + 3, hx - 2 : hx + 3]))
    assert len(dots) >= 10 and len(holes) >= 5
    # 0.008 ~ two grey levels: nine in ten dots show their threads through the dye (dots of value
    # 0.04-0.25 used to fall below); the table behind a hole is smooth at the pixel scale
    assert np.percentile(dots, 10) > 0.008 > 4 * np.median(holes)


def test_render_strip():
    img, mask = render_strip(5, 160, 900)
    assert img.shape == (900, 160, 3) and img.dtype == np.uint8
    assert mask.shape == (900, 160) and mask.dtype == bool
    img2, mask2 = render_strip(5, 160, 900)
    assert np.array_equal(img, img2) and np.array_equal(mask, mask2)
    # the labelled strip is the same strip, plus which rows its wrinkled stretches cover
    strip = render_labelled_strip(5, 160, 900)
    assert np.array_equal(strip.image, img) and np.array_equal(strip.hole_mask, mask)
    assert strip.wrinkled_rows.shape == (900,) and strip.wrinkled_rows.dtype == bool
    assert 0.0 < strip.wrinkled_rows.mean() < 1.0  # seed 5 has both kinds of stretch


def test_write_dataset(tmp_path):
    from PIL import Image

    labels = write_dataset(tmp_path / "ds", 4, seed=10, size=96, jpeg=False)
    assert labels == tmp_path / "ds" / "labels.csv"
    rows = list(csv.DictReader(labels.open()))
    assert len(rows) == 4
    assert set(rows[0]) == {"file", "has_hole", "wrinkled", "hole_fraction", "kind"}
    for k, row in enumerate(rows):
        img = np.asarray(Image.open(tmp_path / "ds" / row["file"]))
        assert img.shape == (96, 96, 3)
        s = generate(10 + k, (96, 96))
        assert np.array_equal(img, s.image)  # PNG is lossless
        mask = np.asarray(Image.open(tmp_path / "ds" / "masks" / f"{k:06d}.png")) > 0
        assert np.array_equal(mask, s.hole_mask)
        assert int(row["has_hole"]) == int(mask.any())
        assert abs(float(row["hole_fraction"]) - mask.mean()) < 1e-5
        assert int(row["wrinkled"]) == int(s.wrinkled)


def test_variety_adds_prints_and_ripples_and_keeps_labels():
    """generate(variety=True) changes the look of some images, never their labels or hole masks; off,
    the images are those the shipped model was trained on (its own random stream, drawn only when on)."""
    changed = 0
    tags = set()
    for seed in range(40):
        a, b = generate(seed), generate(seed, variety=True)
        assert np.array_equal(a.hole_mask, b.hole_mask)
        assert (a.has_hole, a.wrinkled, a.hole_centres) == (b.has_hole, b.wrinkled, b.hole_centres)
        assert b.kind.startswith(a.kind)
        extra = set(b.kind[len(a.kind) :].split("+")) - {""}
        assert extra <= {"blotch", "ripples"}
        assert not ("ripples" in extra and not b.wrinkled)  # ripples are wrinkles, never on smooth cloth
        assert np.array_equal(a.image, b.image) == (not extra)
        changed += bool(extra)
        tags |= extra
    assert tags == {"blotch", "ripples"} and 8 <= changed <= 30


def test_ripples_bend_the_crease_lines():
    """A meandering crease: its height peaks off the straight line through its centre."""
    from fabricscope.synth.generator import Crease, _height_field

    straight = Crease(cy=112, cx=112, angle=0.0, length=200, width=2.0, amp=3.0, curv=0.0, sharp=False)
    wavy = Crease(**{**straight.__dict__, "wave": 8.0, "wave_len": 10.0})
    h_straight, _, _ = _height_field([straight], 224, 224, None)
    h_wavy, _, _ = _height_field([wavy], 224, 224, None)
    rows_straight = np.argmax(h_straight, axis=0)[40:184]
    rows_wavy = np.argmax(h_wavy, axis=0)[40:184]
    assert np.ptp(rows_straight) <= 2 and np.ptp(rows_wavy) >= 12
