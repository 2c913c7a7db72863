"""The procedural fabric generator: determinism, labels vs masks, sizes, dataset files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fabricscope.synth import Sample, generate, render_strip, write_dataset


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


def test_render_strip():
    img, mask = render_strip(5, 160, 900)
    assert img.shape == (900, 160, 3) and img.dtype == np.uint8
    assert mask.shape == (900, 160) and mask.dtype == bool
    img2, mask2 = render_strip(5, 160, 900)
    assert np.array_equal(img, img2) and np.array_equal(mask, mask2)


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
