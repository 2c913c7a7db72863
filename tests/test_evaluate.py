"""The held-out evaluation command (fabricscope.train.evaluate): numpy and ONNX Runtime only."""

from __future__ import annotations

import json

import pytest

from fabricscope.train.evaluate import main


def test_evaluate_command_writes_the_figures_at_the_files_thresholds(toy_model, tmp_path, capsys):
    out = tmp_path / "eval.json"
    argv = ["--model", str(toy_model), "--n", "24", "--n-shift", "2", "--threads", "1", "--json", str(out)]
    assert main(argv) == 0
    fig = json.loads(out.read_text())
    assert fig["n_images"] == 24 and fig["renderer"] == "training" and fig["test_seeds"] == "3000000..3000023"
    assert fig["hole_threshold"] == 0.5 and fig["wrinkle_threshold"] == 0.5  # the toy file's own
    assert 0.0 <= fig["hole_accuracy"] <= 1.0 and fig["shift"]["n_images"] == 2
    printed = capsys.readouterr().out
    assert "test set (training renderer): 24 images" in printed and '"hole_auroc"' in printed


def test_evaluate_command_stores_only_the_training_renderers_figures_in_a_card(toy_model):
    with pytest.raises(SystemExit):
        main(["--model", str(toy_model), "--renderer", "other", "--update-card"])
