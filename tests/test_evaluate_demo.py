"""Scoring the Live tab's demo feed (fabricscope.train.evaluate_demo): numpy and ONNX Runtime only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fabricscope.engine.imaging import fit_to_input
from fabricscope.sources.demo import DemoFeed
from fabricscope.train.evaluate_demo import demo_frames, main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_frames_are_the_frames_the_app_shows():
    frames, hole_px, wrinkled = demo_frames(0, every=50)
    feed = DemoFeed(seed=0)
    assert len(frames) == len(hole_px) == len(wrinkled) == 14  # 667 frames a loop, every 50th
    for k in (0, 5, 13):  # 13 * 50 * 6 rows wraps past the strip's end: the feed's loop
        assert np.array_equal(frames[k], fit_to_input(feed.frame(k * 50), 224))
    assert (hole_px > 0).any() and (hole_px == 0).any()
    assert ((wrinkled >= 0) & (wrinkled <= 1)).all() and (wrinkled == 0).any() and (wrinkled == 1).any()


def test_the_shipped_model_ranks_the_feeds_labels(tmp_path, capsys):
    out = tmp_path / "demo.json"
    model = ROOT / "models" / "fabric_inspector.onnx"
    assert main(["--model", str(model), "--seeds", "0", "--every", "8", "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text())
    (seed0,) = result["seeds"]
    assert seed0["frames"] == 84 and seed0["hole"]["n_positive"] > 10 and seed0["wrinkle"]["n_negative"] > 10
    # labels read from the strip agree with what the model sees (both heads score > 0.85 on seed 0)
    assert seed0["hole"]["auroc"] > 0.8 and seed0["wrinkle"]["auroc"] > 0.9
    assert "false alarms" in capsys.readouterr().out
