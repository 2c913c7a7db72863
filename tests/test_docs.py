"""The tables of figures in README.md and models/README.md are generated from models/*.json.

If this fails after a new model or a new evaluation: run ``make docs`` and commit the result.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_docs", ROOT / "scripts" / "make_docs.py")
assert _spec and _spec.loader
make_docs = importlib.util.module_from_spec(_spec)
sys.modules["make_docs"] = make_docs  # dataclasses look their module up by name
_spec.loader.exec_module(make_docs)

# a number as the tables print it: 0.965, 89.0%, 2,000, 0%-3% (not the 90 of "p90")
NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?%?")


def test_committed_docs_equal_what_the_script_generates() -> None:
    for doc, text in make_docs.generated(ROOT).items():
        stale = [
            name
            for name, body in make_docs.blocks_of(text).items()
            if make_docs.blocks_of((ROOT / doc).read_text()).get(name) != body
        ]
        assert (ROOT / doc).read_text() == text, f"{doc}: tables out of date ({', '.join(stale)}): run make docs"


def _leaves(node: Any) -> tuple[list[float], list[str]]:
    """Every number in a JSON document, and every string (keys included), for tracing figures."""
    numbers: list[float] = []
    strings: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            strings.append(str(k))
            n, s = _leaves(v)
            numbers += n
            strings += s
    elif isinstance(node, list):
        for v in node:
            n, s = _leaves(v)
            numbers += n
            strings += s
    elif isinstance(node, bool):
        pass
    elif isinstance(node, (int, float)):
        numbers.append(float(node))
    elif isinstance(node, str):
        strings.append(node)
    return numbers, strings


def _figures_in_json(models: Path, block: str) -> set[str]:
    """Every way the script may print a number found in the files a block reads (the training log's
    thousands of losses only for the block that reads it, so they cannot excuse a stray figure elsewhere)."""
    if block == "card-training-run":
        names = [make_docs.TRAINING_LOG]
    elif block == "card-ab":
        names = list(make_docs.AB_FILES)
    else:
        names = [s.src.name for s in make_docs.image_sets(models)] + [make_docs.DEMO_FEED]
    allowed: set[str] = set()
    for name in names:
        numbers, strings = _leaves(json.loads((models / name).read_text()))
        for value in numbers:
            allowed |= make_docs.renderings(value)
            if block == "card-ab":  # differences and intervals: signed, percentages in points
                allowed |= {f"{abs(value):.3f}", f"{abs(value) * 100:.1f}"}
        for text in strings:
            allowed |= set(NUMBER.findall(text))
    return allowed


def test_every_figure_a_generated_table_shows_comes_from_the_json() -> None:
    for doc in make_docs.DOCS:
        blocks = make_docs.blocks_of((ROOT / doc).read_text())
        assert set(blocks) == set(make_docs.DOCS[doc]), f"{doc}: generated blocks {sorted(blocks)}"
        for name, body in blocks.items():
            shown = NUMBER.findall(body)
            assert shown, f"{doc}: block {name} shows no figures"
            allowed = _figures_in_json(ROOT / "models", name)
            stray = sorted({x for x in shown if x not in allowed})
            assert not stray, f"{doc}: block {name} shows figures found in no JSON file it reads: {stray}"


def test_the_readme_quotes_the_shipped_figures() -> None:
    """Spot check against the files themselves, independent of the script's formatting."""
    models = ROOT / "models"
    test = json.loads((models / make_docs.EVALUATION).read_text())
    other = json.loads((models / make_docs.OTHER_RENDERER).read_text())
    body = make_docs.blocks_of((ROOT / "README.md").read_text())["model-figures"]
    for fig in (test, other):
        assert f"| {fig['hole_auroc']:.3f} | {100 * fig['hole_recall']:.1f}% |" in body
        assert f"| {fig['wrinkle_auroc']:.3f} | {100 * fig['wrinkle_recall']:.1f}% |" in body
    assert f"hole {test['hole_threshold']:.3f} and wrinkle {test['wrinkle_threshold']:.3f}" in body


# --- a new model's files: the script reads them by key and fails clearly ---------------------------


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A copy of the docs and the JSON files the script reads."""
    (tmp_path / "models").mkdir()
    for doc in make_docs.DOCS:
        shutil.copy(ROOT / doc, tmp_path / doc)
    for path in (ROOT / "models").glob("*.json"):
        shutil.copy(path, tmp_path / "models" / path.name)
    return tmp_path


def _edit(path: Path, change: Any) -> None:
    """Apply ``change`` to a JSON file: it edits the data in place, or returns what replaces them."""
    data = json.loads(path.read_text())
    new = change(data)
    path.write_text(json.dumps(new if isinstance(new, (dict, list)) else data))


def test_a_missing_figure_is_named_with_its_file_and_key(repo: Path) -> None:
    _edit(repo / "models" / make_docs.OTHER_RENDERER, lambda d: d.pop("hole_auroc"))
    with pytest.raises(make_docs.FigureError, match=r"fabric_inspector_other_renderer\.json: no key 'hole_auroc'"):
        make_docs.generated(repo)
    assert make_docs.main(["--root", str(repo)]) == 2


def test_a_missing_file_is_named(repo: Path) -> None:
    (repo / "models" / make_docs.DEMO_FEED).unlink()
    with pytest.raises(make_docs.FigureError, match=r"models/demo_feed\.json is missing"):
        make_docs.generated(repo)


def test_a_new_set_and_operating_points_are_picked_up(repo: Path) -> None:
    """A further fabric_inspector_<name>.json with a renderer becomes a row and a column; thresholds may
    come as operating points instead of <head>_threshold; keys the script does not know are ignored."""
    models = repo / "models"
    realistic = json.loads((models / make_docs.OTHER_RENDERER).read_text())
    realistic.update(renderer="realistic", hole_auroc=0.8766, some_new_figure=0.1234)
    (models / "fabric_inspector_realistic.json").write_text(json.dumps(realistic))

    def operating_points(d: dict[str, Any]) -> None:
        for head, t in (("hole", 0.3125), ("wrinkle", 0.6125)):
            d.pop(f"{head}_threshold")
            d.setdefault("thresholds", {})[head] = {"threshold": t, "rule": "recall >= 0.95"}

    _edit(models / make_docs.EVALUATION, operating_points)
    docs = make_docs.generated(repo)
    readme = make_docs.blocks_of(docs["README.md"])["model-figures"]
    assert "| realistic renderer (2,000 images) | 0.877 |" in readme
    assert "hole 0.312 and wrinkle 0.613" in readme
    card = make_docs.blocks_of(docs["models/README.md"])["card-evaluation"]
    assert "realistic renderer (`fabric_inspector_realistic.json`)" in card
    assert "0.312 (recall >= 0.95)" in card
    # and the rewrite is repeatable: run twice, same text, --check passes
    assert make_docs.main(["--root", str(repo)]) == 0
    assert make_docs.main(["--root", str(repo), "--check"]) == 0


def test_demo_feed_as_evaluate_demo_writes_it(repo: Path) -> None:
    """evaluate_demo --json writes a bare list, the models named by their paths, --model first."""

    def as_written(d: dict[str, Any]) -> list[dict[str, Any]]:
        results = d["results"]
        results[0]["model"] = "models/fabric_inspector.onnx"
        results[1]["model"] = "old.onnx"
        return results[::-1]  # the shipped file is found by its name, wherever it is

    _edit(repo / "models" / make_docs.DEMO_FEED, as_written)
    docs = make_docs.generated(repo)
    assert docs["README.md"] == (ROOT / "README.md").read_text()  # the same shipped figures
    hole = json.loads((ROOT / "models" / make_docs.EVALUATION).read_text())["hole_threshold"]
    assert f"models/fabric_inspector.onnx, thresholds hole {hole:.3f}" in docs["models/README.md"]


def test_markers_must_be_there_once() -> None:
    block = "<!-- generated:x (make docs) -->\nold\n<!-- /generated -->\n"
    assert make_docs.rewrite("a\n" + block + "b\n", {"x": "new\n"}) == "a\n" + block.replace("old", "new") + "b\n"
    with pytest.raises(make_docs.FigureError, match="should appear once, found 0"):
        make_docs.rewrite("no markers\n", {"x": "new\n"})
    with pytest.raises(make_docs.FigureError, match="unknown generated block 'x'"):
        make_docs.rewrite(block, {"y": "new\n"})
