"""The on-disk cache of rendered training data: exact round trip, and never stale."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")


def _same(a, b) -> bool:
    return (
        np.array_equal(a.images, b.images)
        and np.array_equal(a.masks, b.masks)
        and np.array_equal(a.has_hole, b.has_hole)
        and np.array_equal(a.wrinkled, b.wrinkled)
        and a.kinds == b.kinds
        and a.hole_centres == b.hole_centres
        and a.hole_sizes == b.hole_sizes
    )


def test_a_cached_set_loads_back_exactly_without_rendering(tmp_path, monkeypatch):
    from fabricscope.train import data_cache as C
    from fabricscope.train.data import TRAIN_SEED0, build

    fresh = build(6, TRAIN_SEED0, workers=1)
    first = C.build_cached(tmp_path, 6, TRAIN_SEED0, workers=1)
    assert _same(first, fresh)
    assert len(list(tmp_path.iterdir())) == 3 and not list(tmp_path.glob("tmp-*"))

    rendered: list[int] = []
    real_build = C.build

    def counting_build(n, *a, **kw):
        rendered.append(n)
        return real_build(n, *a, **kw)

    monkeypatch.setattr(C, "build", counting_build)
    again = C.build_cached(tmp_path, 6, TRAIN_SEED0, workers=1)
    assert _same(again, fresh)
    assert rendered == [1] * C.SPOT_CHECKS  # only the spot checks, one image each
    # another set (size, seeds or renderer) is another cache entry
    other = C.build_cached(tmp_path, 6, TRAIN_SEED0 + 100, workers=1)
    assert rendered[-1] == 6 and not np.array_equal(other.images, fresh.images)


def test_a_cache_the_generator_no_longer_matches_is_rendered_again(tmp_path):
    from fabricscope.train import data_cache as C
    from fabricscope.train.data import TRAIN_SEED0

    fresh = C.build_cached(tmp_path, 5, TRAIN_SEED0, workers=1)
    stem = C.cache_stem(tmp_path, 5, TRAIN_SEED0, 224, "training")
    stale = fresh.images.copy()
    stale[4] //= 2  # as if the generator had changed since the cache was written
    np.save(stem.with_name(stem.name + ".images.npy"), stale)
    assert not C.matches_generator(C.load(stem), TRAIN_SEED0, 224, "training")
    assert _same(C.build_cached(tmp_path, 5, TRAIN_SEED0, workers=1), fresh)
    assert C.matches_generator(C.load(stem), TRAIN_SEED0, 224, "training")  # and written anew


def test_an_incomplete_cache_is_not_used(tmp_path):
    from fabricscope.train import data_cache as C
    from fabricscope.train.data import TRAIN_SEED0

    C.build_cached(tmp_path, 4, TRAIN_SEED0, workers=1)
    stem = C.cache_stem(tmp_path, 4, TRAIN_SEED0, 224, "training")
    stem.with_name(stem.name + ".labels.json").unlink()  # what a run killed before the last rename leaves
    assert C.load(stem) is None


def test_the_cache_folder_does_not_change_the_recorded_command():
    from fabricscope.train.fit import COMMAND, command_of

    assert command_of(["--data-cache", "runs/data", "--steps", "9"]) == COMMAND + " --steps 9"
