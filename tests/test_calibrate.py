"""Calibration of a trained model's heads (numpy only): temperature and operating-point thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from fabricscope.train.calibrate import fit_temperature, margins, nll, sigmoid, threshold_for_false_alarms


def test_an_overconfident_head_gets_a_temperature_above_one_and_a_better_likelihood():
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.4
    true_margin = np.where(labels, 1.0, -1.0) + rng.normal(0, 1.5, labels.size)
    # labels drawn from sigmoid(true_margin); the model reports 3x the margin: over-confident
    labels = rng.random(labels.size) < sigmoid(true_margin)
    probs = sigmoid(3.0 * true_margin)
    t = fit_temperature(probs, labels)
    assert 2.6 < t < 3.4
    m = margins(probs)
    assert nll(m, labels, t) < nll(m, labels, 1.0)


def test_a_calibrated_head_keeps_temperature_near_one():
    rng = np.random.default_rng(1)
    m = rng.normal(0, 2.5, 5000)
    labels = rng.random(m.size) < sigmoid(m)
    assert fit_temperature(sigmoid(m), labels) == pytest.approx(1.0, abs=0.12)


def test_an_operating_point_needs_both_classes():
    with pytest.raises(ValueError, match="positive and negative"):
        threshold_for_false_alarms(np.array([0.2, 0.4]), np.array([1, 1], bool), 0.05, "toy")


def test_a_temperature_folded_into_the_heads_divides_the_pooled_margin():
    torch = pytest.importorskip("torch")
    from fabricscope.train.model import ExportWrapper, FabricNet, apply_temperatures

    torch.manual_seed(0)
    net = FabricNet(stages=((8, 0), (8, 0), (16, 0), (16, 0), (16, 0))).eval()
    x = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (3, 224, 224, 3), dtype=np.uint8))
    with torch.no_grad():
        before = [t.numpy().astype(np.float64) for t in ExportWrapper(net)(x)]
        apply_temperatures(net, {"hole": 2.0, "wrinkle": 0.5})
        after = [t.numpy().astype(np.float64) for t in ExportWrapper(net)(x)]
    for prob, t in ((1, 2.0), (3, 0.5)):  # hole_prob, wrinkle_prob: max and avg pooling alike
        np.testing.assert_allclose(margins(after[prob][:, 1]), margins(before[prob][:, 1]) / t, atol=1e-4)
    np.testing.assert_allclose(after[0], before[0] / 2.0, rtol=1e-5, atol=1e-6)  # the drawn map, divided too


def test_calibration_error_is_zero_when_p_says_how_often_and_large_when_it_does_not():
    from fabricscope.train.compare import calibration_error

    rng = np.random.default_rng(3)
    p = rng.random(20000)
    honest = rng.random(p.size) < p
    assert calibration_error(p, honest) < 0.02
    assert calibration_error(np.full(1000, 0.95), np.zeros(1000, bool)) == pytest.approx(0.95)


def test_threshold_for_false_alarms_keeps_the_budget_at_the_highest_recall():
    rng = np.random.default_rng(4)
    neg, pos = rng.beta(2, 5, 1000), rng.beta(5, 2, 800)
    probs = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(pos.size, bool), np.zeros(neg.size, bool)])
    point = threshold_for_false_alarms(probs, labels, 0.05, "toy")
    assert point.false_alarms <= 0.05 and point.false_alarms >= 0.049  # the budget, used up
    # one step lower would break the budget: the threshold is as low (recall as high) as it may be
    below = np.sort(neg)[::-1][int(0.05 * neg.size)]
    assert below < point.threshold and (neg >= below).mean() > 0.05
    assert point.recall == pytest.approx((pos >= point.threshold).mean())
    assert "5%" in point.rule
