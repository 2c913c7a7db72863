"""The paired comparison of two models (fabricscope.train.compare): numpy and ONNX Runtime only."""

from __future__ import annotations

import json

import numpy as np

from fabricscope.train.compare import FIGURES, Labels, Scores, main, paired_bootstrap


def _labels(n: int, rng: np.random.Generator) -> Labels:
    hole = rng.random(n) < 0.5
    wrinkled = rng.random(n) < 0.5
    return Labels(
        hole=hole,
        wrinkled=wrinkled,
        small=hole & (rng.random(n) < 0.3),
        fold=~wrinkled & (rng.random(n) < 0.3),
        single=hole & (rng.random(n) < 0.7),
    )


def _scores(labels: Labels, separation: float, rng: np.random.Generator) -> Scores:
    def p(positive: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(rng.normal(size=len(positive)) + separation * (2 * positive - 1))))

    hole, wrinkle = p(labels.hole), p(labels.wrinkled)
    dist = np.where(labels.single, (rng.random(len(hole)) > separation / 3).astype(np.int64) * 2, -1)
    return Scores(hole, wrinkle, hole >= 0.5, wrinkle >= 0.5, dist)


def test_a_model_against_itself_differs_by_exactly_nothing():
    rng = np.random.default_rng(0)
    y = _labels(300, rng)
    s = _scores(y, 1.0, rng)
    out = paired_bootstrap(s, s, y, n_boot=50)
    assert set(out) == set(FIGURES)
    for f in out.values():
        assert f["diff"] == 0.0 and f["ci95_low"] == 0.0 and f["ci95_high"] == 0.0
        assert f["share_not_ahead"] == 1.0


def test_a_clearly_better_model_is_ahead_and_a_worse_one_behind():
    rng = np.random.default_rng(1)
    y = _labels(600, rng)
    good, weak = _scores(y, 2.5, rng), _scores(y, 0.5, rng)
    ahead = paired_bootstrap(good, weak, y, n_boot=200)
    for name in ("hole_auroc", "wrinkle_auroc", "hole_accuracy", "localisation_within_1_cell"):
        assert ahead[name]["diff"] > 0 and ahead[name]["ci95_low"] > 0, name
        assert ahead[name]["share_not_ahead"] < 0.05, name
    behind = paired_bootstrap(weak, good, y, n_boot=200)
    assert behind["hole_auroc"]["ci95_high"] < 0 and behind["hole_auroc"]["share_not_ahead"] > 0.95
    # the figures themselves are the plain ones on the whole set, not a bootstrap mean
    assert ahead["hole_accuracy"]["new"] == float((good.hole_said == y.hole).mean())


def test_compare_command_scores_two_files_on_one_rendered_set(toy_model, tmp_path, capsys):
    out = tmp_path / "cmp.json"
    argv = [str(toy_model), str(toy_model), "--n", "24", "--boot", "20", "--threads", "1", "--json", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["n_images"] == 24 and result["test_seeds"].startswith("3000000..")
    assert result["figures"]["hole_auroc"]["diff"] == 0.0
    assert 0.0 <= result["figures"]["hole_auroc"]["new"] <= 1.0
    assert "95% interval" in capsys.readouterr().out
