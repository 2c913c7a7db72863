#!/usr/bin/env python3
"""Rewrite the tables of figures in README.md and models/README.md from the JSON files the evaluation writes.

    python3 scripts/make_docs.py            # rewrite the tables (also: make docs)
    python3 scripts/make_docs.py --check    # exit 1 and name the tables that differ; change nothing

Each table lies between two markers in the Markdown, e.g.

    <!-- generated:model-figures (make docs; edit scripts/make_docs.py, not this table) -->
    ...
    <!-- /generated -->

and everything between them is replaced; the text around the markers is left as it is. The figures
are read by key from models/*.json (the files `python -m fabricscope.train` and its evaluate and
evaluate_demo commands write), so a key that is missing or renamed stops the script with a message
naming the file and the key, instead of a table that silently shows something else.

Sets of images: fabric_inspector_evaluation.json (the held-out test set) and
fabric_inspector_other_renderer.json (the second renderer) must exist; any further
fabric_inspector_<name>.json holding a "renderer" key (e.g. a "realistic" renderer's figures) becomes
one more column or row, in the order of its file name. demo_feed.json gives the demo-feed figures.

Standard library only, so it runs before any install.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

EVALUATION = "fabric_inspector_evaluation.json"
OTHER_RENDERER = "fabric_inspector_other_renderer.json"
DEMO_FEED = "demo_feed.json"
TRAINING_LOG = "fabric_inspector_training_log.json"
NOT_A_SET = {TRAINING_LOG}  # fabric_inspector_*.json files that are not figures on a set of images
HEADS = ("hole", "wrinkle")
APP_STRIP = 0  # the demo strip the app's Live tab shows (sources.demo.DemoFeed's default seed)

# How a set of images is named in the tables, by the "renderer" key its file records.
RENDERER_LABELS = {
    "training": "generated, training renderer",
    "other": "second renderer, never trained on",
    "varied": "varied renderer",
    "realistic": "realistic renderer",
}

MARKER = re.compile(r"(<!-- generated:(?P<name>[a-z0-9-]+)[^>]*-->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)
DASH = "—"


class FigureError(Exception):
    """A figure the docs need is missing from its JSON file, or has the wrong type."""


# --- reading figures by key -----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One JSON file: its name (for messages) and its contents."""

    name: str
    data: Any

    def get(self, *path: str | int) -> Any:
        """The value at ``path``; a FigureError naming the file and the key path when it is not there."""
        node = self.data
        for depth, key in enumerate(path):
            found = isinstance(node, dict) and key in node
            found = found or (isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node))
            if not found:
                where = "/".join(str(k) for k in path[: depth + 1])
                raise FigureError(f"models/{self.name}: no key '{where}' (the docs read this figure from it)")
            node = node[key]
        return node

    def has(self, *path: str | int) -> bool:
        try:
            self.get(*path)
        except FigureError:
            return False
        return True

    def number(self, *path: str | int) -> float:
        value = self.get(*path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            where = "/".join(str(k) for k in path)
            raise FigureError(f"models/{self.name}: '{where}' should be a number, it is {value!r}")
        return float(value)


def load(models: Path, name: str) -> Source:
    path = models / name
    if not path.is_file():
        raise FigureError(f"models/{name} is missing: run the evaluation that writes it (see models/README.md)")
    try:
        return Source(name, json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise FigureError(f"models/{name} is not valid JSON: {exc}") from None


def threshold(src: Source, head: str) -> float:
    """A head's threshold: ``<head>_threshold`` as evaluate writes it, or ``thresholds/<head>`` (a number,
    or an object with ``threshold``, e.g. an operating point)."""
    if src.has(f"{head}_threshold"):
        return src.number(f"{head}_threshold")
    if src.has("thresholds", head, "threshold"):
        return src.number("thresholds", head, "threshold")
    if src.has("thresholds", head):
        return src.number("thresholds", head)
    raise FigureError(f"models/{src.name}: no threshold for head '{head}' ('{head}_threshold' or 'thresholds/{head}')")


def operating_rule(src: Source, head: str) -> str | None:
    """How the threshold was chosen, where the file says so (an operating point's ``rule``)."""
    for path in (("thresholds", head, "rule"), ("operating_points", head, "rule"), ("calibration", head, "rule")):
        if src.has(*path):
            return str(src.get(*path))
    if src.has("calibration", head, "operating_point", "rule"):
        return str(src.get("calibration", head, "operating_point", "rule"))
    return None


# --- formatting: every figure shown is one of these renderings of a JSON value --------------------


def _finite(value: float) -> bool:
    return not (isinstance(value, float) and math.isnan(value))


def f3(value: float) -> str:
    """An AUROC, an accuracy, a threshold: three decimals."""
    return f"{value:.3f}" if _finite(value) else DASH


def pct(value: float) -> str:
    """A rate (recall, false alarms, localisation) as a percentage with one decimal."""
    return f"{100 * value:.1f}%" if _finite(value) else DASH


def count(value: float) -> str:
    return f"{int(value):,}"


def minutes(value: float) -> str:
    return f"{value:.1f}"


FORMATS: tuple[Callable[[float], str], ...] = (f3, pct, count, minutes)


def renderings(value: float) -> set[str]:
    """Every way this script may print a JSON number (for the test that traces each figure to its file)."""
    out = {fmt(value) for fmt in FORMATS if _finite(value)}
    if _finite(value) and float(value).is_integer():
        out.add(str(int(value)))
    return out


def table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- the sets of images --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageSet:
    label: str
    src: Source


def image_sets(models: Path) -> list[ImageSet]:
    """The evaluation's sets: the test set, the second renderer, then any further fabric_inspector_*.json
    that records a renderer, by file name."""
    names = [EVALUATION, OTHER_RENDERER]
    for path in sorted(models.glob("fabric_inspector_*.json")):
        if path.name in names or path.name in NOT_A_SET:
            continue
        data = load(models, path.name).data
        if isinstance(data, dict) and "renderer" in data:
            names.append(path.name)
    sets = []
    for name in names:
        src = load(models, name)
        renderer = str(src.get("renderer"))
        sets.append(ImageSet(RENDERER_LABELS.get(renderer, f"{renderer} renderer"), src))
    return sets


def load_demo(models: Path) -> Source:
    """demo_feed.json as {"results": [...]}: evaluate_demo --json writes the list of results itself (the
    model named by its path, the --model first); the stored file may wrap it with its command."""
    demo = load(models, DEMO_FEED)
    if isinstance(demo.data, list):
        return Source(demo.name, {"results": demo.data})
    return demo


def shipped_demo(demo: Source) -> tuple[int, Source]:
    """The index of the shipped model's entry: named '... (shipped)' or by the shipped file's name, else
    the first (evaluate_demo scores --model first, --baseline second)."""
    results = demo.get("results")
    if not isinstance(results, list) or not results:
        raise FigureError(f"models/{demo.name}: 'results' should be a non-empty list")
    for i, _ in enumerate(results):
        name = str(demo.get("results", i, "model"))
        if "shipped" in name or name.endswith("models/fabric_inspector.onnx"):
            return i, demo
    return 0, demo


def demo_strip(demo: Source, result: int, seed: int) -> int:
    seeds = demo.get("results", result, "seeds")
    for i, _ in enumerate(seeds):
        if demo.number("results", result, "seeds", i, "seed") == seed:
            return i
    raise FigureError(f"models/{demo.name}: results/{result}/seeds has no strip with seed {seed}")


# --- the blocks ----------------------------------------------------------------------------------


def block_model_figures(models: Path) -> str:
    """README: one short table per head, at the shipped thresholds, on every set and on the demo feed."""
    sets = image_sets(models)
    demo = load_demo(models)
    shipped, _ = shipped_demo(demo)
    strip = demo_strip(demo, shipped, APP_STRIP)
    test = sets[0].src
    out = [
        f"At the shipped thresholds, hole {f3(threshold(test, 'hole'))} and wrinkle {f3(threshold(test, 'wrinkle'))} "
        "(a head flags an image when its P(defect) is at or above its threshold):\n"
    ]

    def demo_row(head: str) -> list[str]:
        base = ("results", shipped, "seeds", strip, head)
        return [
            "demo feed, the app's strip (frames)",
            f3(demo.number(*base, "auroc")),
            pct(demo.number(*base, "recall")),
            pct(demo.number(*base, "false_alarm_rate")),
        ]

    hole_rows = []
    for s in sets:
        hole_rows.append(
            [
                f"{s.label} ({count(s.src.number('n_images'))} images)",
                f3(s.src.number("hole_auroc")),
                pct(s.src.number("hole_recall")),
                pct(s.src.number("hole_false_alarm_rate")),
                pct(s.src.number("hole_recall_small")),
                pct(s.src.number("localisation_within_1_cell")),
            ]
        )
    hole_rows.append([*demo_row("hole"), DASH, DASH])
    out.append("\n**Holes** (max pooling)\n\n")
    out.append(
        table(
            [
                "set of images",
                "AUROC",
                "holes flagged",
                "false alarms",
                "small holes flagged",
                "strongest cell on or next to the hole",
            ],
            hole_rows,
        )
    )
    wrinkle_rows = []
    for s in sets:
        wrinkle_rows.append(
            [
                f"{s.label} ({count(s.src.number('n_images'))} images)",
                f3(s.src.number("wrinkle_auroc")),
                pct(s.src.number("wrinkle_recall")),
                pct(s.src.number("wrinkle_false_alarm_rate")),
                pct(s.src.number("wrinkle_false_alarm_on_single_fold")),
            ]
        )
    wrinkle_rows.append([*demo_row("wrinkle"), DASH])
    out.append("\n**Wrinkles** (average pooling)\n\n")
    out.append(
        table(
            ["set of images", "AUROC", "wrinkled flagged", "false alarms", "single folds flagged (false alarms)"],
            wrinkle_rows,
        )
    )
    return "".join(out)


def block_card_evaluation(models: Path) -> str:
    """Card: the evaluation's figures on every set, one column per set."""
    sets = image_sets(models)

    def row(label: str, cell: Callable[[Source], str]) -> list[str]:
        return [label, *(cell(s.src) for s in sets)]

    def rule(head: str) -> Callable[[Source], str]:
        return lambda s: f3(threshold(s, head)) + (f" ({r})" if (r := operating_rule(s, head)) else "")

    def shift(s: Source) -> str:
        if not s.has("shift"):
            return DASH
        h, w = ("shift", "hole"), ("shift", "wrinkle")
        return (
            f"{f3(s.number(*h, 'median'))} / {f3(s.number(*w, 'median'))} "
            f"({f3(s.number(*h, 'p90'))} / {f3(s.number(*w, 'p90'))})"
        )

    rows = [
        row(
            "images (with holes / wrinkled)",
            lambda s: f"{count(s.number('n_images'))} ({count(s.number('n_hole'))} / {count(s.number('n_wrinkled'))})",
        ),
        row("test seeds", lambda s: str(s.get("test_seeds"))),
        row("**hole** threshold", rule("hole")),
        row("hole AUROC", lambda s: f3(s.number("hole_auroc"))),
        row("hole accuracy at the threshold", lambda s: f3(s.number("hole_accuracy"))),
        row(
            "holes flagged / false alarms",
            lambda s: f"{pct(s.number('hole_recall'))} / {pct(s.number('hole_false_alarm_rate'))}",
        ),
        row(
            "small holes: images, AUROC, flagged",
            lambda s: (
                f"{count(s.number('n_small_hole'))}, {f3(s.number('hole_auroc_small'))}, "
                f"{pct(s.number('hole_recall_small'))}"
            ),
        ),
        row("holes on wrinkled cloth flagged", lambda s: pct(s.number("hole_recall_on_wrinkled_cloth"))),
        row(
            "hole false alarms on dark print dots / seams / stripes / single folds",
            lambda s: " / ".join(pct(s.number(f"hole_false_alarm_on_{k}")) for k in ("dot", "seam", "stripe", "fold")),
        ),
        row(
            "hole AUROC without the dot, seam and stripe images",
            lambda s: f3(s.number("hole_auroc_without_dot_seam_stripe_negatives")),
        ),
        row(
            "strongest hole cell on or next to the hole / exactly on it (one-hole images)",
            lambda s: (
                f"{pct(s.number('localisation_within_1_cell'))} / {pct(s.number('localisation_exact_cell'))} "
                f"({count(s.number('n_single_hole'))})"
            ),
        ),
        row("**wrinkle** threshold", rule("wrinkle")),
        row("wrinkle AUROC", lambda s: f3(s.number("wrinkle_auroc"))),
        row("wrinkle accuracy at the threshold", lambda s: f3(s.number("wrinkle_accuracy"))),
        row(
            "wrinkled flagged / false alarms",
            lambda s: f"{pct(s.number('wrinkle_recall'))} / {pct(s.number('wrinkle_false_alarm_rate'))}",
        ),
        row(
            "many wrinkles vs a single fold: AUROC; single folds flagged (images)",
            lambda s: (
                f"{f3(s.number('wrinkle_auroc_fold_vs_wrinkled'))}; "
                f"{pct(s.number('wrinkle_false_alarm_on_single_fold'))} ({count(s.number('n_single_fold'))})"
            ),
        ),
        row("shift: median change of P, hole / wrinkle (p90)", shift),
    ]
    return table(["figure", *(f"{s.label} (`{s.src.name}`)" for s in sets)], rows)


def _bins(sets: list[ImageSet], key: str) -> list[str]:
    names: list[str] = []
    for s in sets:
        bins = s.src.get(key)
        if not isinstance(bins, dict):
            raise FigureError(f"models/{s.src.name}: '{key}' should be an object of bins")
        names += [b for b in bins if b not in names]
    return names


def block_card_by_size(models: Path) -> str:
    """Card: hole AUROC by the hole's largest extent and by the pixels it opens, per set (images in brackets)."""
    sets = image_sets(models)
    rows = []
    for key, what in (("hole_auroc_by_size", "largest extent"), ("hole_auroc_by_open_area", "open pixels")):
        for b in _bins(sets, key):
            cells = []
            for s in sets:
                if s.src.has(key, b):
                    cells.append(f"{f3(s.src.number(key, b, 'auroc'))} ({count(s.src.number(key, b, 'n'))})")
                else:
                    cells.append(DASH)
            rows.append([f"{what} {b}", *cells])
    return table(["hole images by", *(s.label for s in sets)], rows)


def block_card_by_cloth(models: Path) -> str:
    """Card: hole / wrinkle AUROC by cloth family, one row per set (each renderer has its own families)."""
    rows = []
    for s in image_sets(models):
        if not s.src.has("by_cloth"):
            continue
        cells = []
        for cloth in s.src.get("by_cloth"):
            b = ("by_cloth", cloth)
            cells.append(
                f"{cloth} {f3(s.src.number(*b, 'hole_auroc'))} / {f3(s.src.number(*b, 'wrinkle_auroc'))} "
                f"({count(s.src.number(*b, 'n'))})"
            )
        rows.append([s.label, ", ".join(cells)])
    return table(["set", "cloth: hole / wrinkle AUROC (images)"], rows)


def block_card_demo_feed(models: Path) -> str:
    """Card: the shipped model's entry in demo_feed.json, per strip and head, at its thresholds."""
    demo = load_demo(models)
    r, _ = shipped_demo(demo)
    thresholds = Source(demo.name, demo.get("results", r))
    rows = []
    for i, _ in enumerate(demo.get("results", r, "seeds")):
        base = ("results", r, "seeds", i)
        seed = int(demo.number(*base, "seed"))
        strip = f"{seed} (the app's)" if seed == APP_STRIP else str(seed)
        for head in HEADS:
            h = (*base, head)
            rows.append(
                [
                    strip,
                    head,
                    f"{count(demo.number(*h, 'n_positive'))} / {count(demo.number(*h, 'n_negative'))}",
                    f3(demo.number(*h, "auroc")),
                    pct(demo.number(*h, "recall")),
                    pct(demo.number(*h, "false_alarm_rate")),
                ]
            )
    return (
        f"{demo.get('results', r, 'model')}, thresholds hole {f3(threshold(thresholds, 'hole'))}, "
        f"wrinkle {f3(threshold(thresholds, 'wrinkle'))}:\n\n"
        + table(["strip", "head", "frames with / without", "AUROC", "flagged", "false alarms"], rows)
    )


def block_card_training_run(models: Path) -> str:
    """Card: how long the shipped model's training run took, from its training log."""
    log = load(models, TRAINING_LOG)
    last = log.get("history", -1)
    if not isinstance(last, dict):
        raise FigureError(f"models/{log.name}: 'history' should be a list of logged steps")
    return (
        f"The shipped model's run: {count(log.number('history', -1, 'step'))} steps, "
        f"{minutes(log.number('history', -1, 'minutes'))} min in the training loop and "
        f"{minutes(log.number('wall_minutes'))} min in all (`{log.name}`).\n"
    )


AB_FILES = ("tenth_vs_ninth_training.json", "tenth_vs_ninth_realistic.json", "tenth_vs_ninth_other.json")
AB_FIGURES = (
    ("hole_auroc", "hole AUROC", f3),
    ("hole_recall", "holes flagged", pct),
    ("hole_false_alarms", "hole false alarms", pct),
    ("localisation_within_1_cell", "strongest cell on or next to the hole", pct),
    ("localisation_exact_cell", "strongest cell exactly on the hole", pct),
    ("hole_calibration_error", "hole calibration error", f3),
    ("wrinkle_auroc", "wrinkle AUROC", f3),
    ("wrinkle_recall", "wrinkled flagged", pct),
    ("wrinkle_false_alarms", "wrinkle false alarms", pct),
    ("wrinkle_calibration_error", "wrinkle calibration error", f3),
)


def _signed(value: float, fmt: Callable[[float], str]) -> str:
    if fmt is pct:
        return f"{value * 100:+.1f}"
    return f"{value:+.3f}"


def block_card_ab(models: Path) -> str:
    """Card: the shipped (tenth) model against the ninth on the same images of each renderer, with the
    95% paired-bootstrap interval of each difference, from ``python -m fabricscope.train compare``."""
    sources = [load(models, name) for name in AB_FILES]
    header = ["figure (ninth -> tenth; difference [interval])"]
    for src in sources:
        renderer = src.get("renderer")
        header.append(f"{RENDERER_LABELS.get(str(renderer), str(renderer))} ({count(src.number('n_images'))})")
    rows = []
    for key, label, fmt in AB_FIGURES:
        row = [label]
        for src in sources:
            base, new = src.number("figures", key, "baseline"), src.number("figures", key, "new")
            lo, hi = src.number("figures", key, "ci95_low"), src.number("figures", key, "ci95_high")
            row.append(
                f"{fmt(base)} -> {fmt(new)}; {_signed(new - base, fmt)} "
                f"[{_signed(lo, fmt)}, {_signed(hi, fmt)}]"
            )
        rows.append(row)
    note = "Percentages differ in points. Each model at its own shipped thresholds; files: " + ", ".join(
        f"`{name}`" for name in AB_FILES
    )
    return table(header, rows) + "\n" + note + ".\n"


BLOCKS: dict[str, Callable[[Path], str]] = {
    "card-ab": block_card_ab,
    "model-figures": block_model_figures,
    "card-evaluation": block_card_evaluation,
    "card-by-size": block_card_by_size,
    "card-by-cloth": block_card_by_cloth,
    "card-demo-feed": block_card_demo_feed,
    "card-training-run": block_card_training_run,
}

# which file holds which blocks (each must appear exactly once)
DOCS: dict[str, tuple[str, ...]] = {
    "README.md": ("model-figures",),
    "models/README.md": (
        "card-ab",
        "card-evaluation",
        "card-by-size",
        "card-by-cloth",
        "card-demo-feed",
        "card-training-run",
    ),
}


# --- rewriting the Markdown ----------------------------------------------------------------------


def rewrite(text: str, blocks: dict[str, str], doc: str = "the document") -> str:
    """``text`` with the body of each ``<!-- generated:NAME -->`` block replaced by ``blocks[NAME]``."""
    seen: list[str] = []

    def swap(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in blocks:
            raise FigureError(f"{doc}: unknown generated block '{name}' (known: {', '.join(sorted(blocks))})")
        seen.append(name)
        return m.group(1) + blocks[name] + m.group(4)

    out = MARKER.sub(swap, text)
    for name in blocks:
        if seen.count(name) != 1:
            raise FigureError(
                f"{doc}: the block <!-- generated:{name} --> ... <!-- /generated --> should appear once, "
                f"found {seen.count(name)} times"
            )
    return out


def generated(root: Path = ROOT, models: Path | None = None) -> dict[str, str]:
    """Each document's text as the script would write it: {relative path: text}."""
    models = models or root / "models"
    out = {}
    for doc, names in DOCS.items():
        blocks = {name: BLOCKS[name](models) for name in names}
        out[doc] = rewrite((root / doc).read_text(), blocks, doc)
    return out


def blocks_of(text: str) -> dict[str, str]:
    """The bodies of the generated blocks in ``text``, by name."""
    return {m.group("name"): m.group("body") for m in MARKER.finditer(text)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table differs")
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    args = ap.parse_args(argv)
    try:
        docs = generated(args.root)
    except FigureError as exc:
        print(f"make_docs: {exc}", file=sys.stderr)
        return 2
    stale = []
    for doc, text in docs.items():
        path = args.root / doc
        if path.read_text() == text:
            continue
        old, new = blocks_of(path.read_text()), blocks_of(text)
        stale += [f"{doc}: {name}" for name in new if old.get(name) != new[name]]
        if not args.check:
            path.write_text(text)
    if args.check:
        for line in stale:
            print(f"out of date: {line} (run: make docs)", file=sys.stderr)
        return 1 if stale else 0
    print("rewrote " + (", ".join(stale) if stale else "nothing: the tables were up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
