"""Reproduce the README's Batch-tab screenshot (docs/screenshot-batch.png).

Generates 60 fabric images with fixed seeds (``fabricscope.synth.generate(0..59)``, written
as ``000000.jpg`` .. like ``fabricscope synth``) plus 3 broken files into a temp folder,
opens the app's main window at 1600x1000 with a fresh settings file and the shipped model,
scores the folder on the Batch tab, sorts by P(hole) descending, selects a small-hole image
(largest hole < 5% of the side, flagged by the hole head and no other head, darkest fabric first) and saves
``window.grab()`` to OUT. Run it under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshot_batch.py OUT.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

N_IMAGES = 60
SMALL_HOLE = 0.05  # largest hole extent / image side
WIDTH, HEIGHT = 1600, 1000


@dataclass(frozen=True)
class Generated:
    """What the generator says about one image it wrote."""

    name: str
    has_hole: bool
    hole_sizes: tuple[float, ...]
    kind: str
    brightness: float  # mean of the RGB pixels, 0-255


def write_folder(folder: Path, n: int = N_IMAGES) -> dict[str, Generated]:
    """``n`` generated images (seeds 0..n-1, JPEG quality 92) and 3 broken files; returns the images' labels."""
    from fabricscope.synth import generate

    folder.mkdir(parents=True, exist_ok=True)
    labels: dict[str, Generated] = {}
    for seed in range(n):
        sample = generate(seed)
        name = f"{seed:06d}.jpg"
        Image.fromarray(sample.image).save(folder / name, quality=92)
        labels[name] = Generated(
            name, sample.has_hole, tuple(sample.hole_sizes), sample.kind, float(sample.image.mean())
        )
    whole = (folder / "000000.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 3])  # header, then the data stops
    (folder / "notes.png").write_text("a text file with an image's name\n")
    (folder / "empty.jpg").write_bytes(b"")
    return labels


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="PNG to write")
    p.add_argument("--settings", type=Path, help="settings INI (default: a fresh one in the temp folder)")
    p.add_argument("--provider", default="cpu", help="execution provider (default: cpu, for the same numbers)")
    p.add_argument("--timeout", type=float, default=180.0, help="give up after this many seconds")
    p.add_argument("--select", metavar="NAME", help="select this file's row instead (e.g. empty.jpg, to check a view)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    from fabricscope.gui.app import make_app

    app, _gc_guard = make_app()  # the guard must stay alive as long as the app runs
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QAbstractItemView

    from fabricscope.gui.main_window import MainWindow
    from fabricscope.gui.settings import open_settings

    work = Path(tempfile.mkdtemp(prefix="fabricscope-batch-shot-"))
    folder = work / "fabric"
    labels = write_folder(folder)
    settings_path = args.settings or work / "settings.ini"
    settings_path.parent.mkdir(parents=True, exist_ok=True)

    settings = open_settings(settings_path)
    settings.setValue("provider", args.provider)
    window = MainWindow(settings, model=None, source="demo")  # model None: the shipped model
    window.resize(WIDTH, HEIGHT)
    window.show()
    tab = window.batch
    if tab is None:
        print("the Batch tab is not available", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        return 1
    window.tabs.setCurrentWidget(tab)
    outcome = {"rc": 1}

    def fail(message: str) -> None:
        print(f"FAILED: {message}", file=sys.stderr, flush=True)
        window.close()
        app.quit()

    def wait_for(cond: Callable[[], bool], then: Callable[[], None], what: str, left_s: float = 60.0) -> None:
        """Poll ``cond`` every 100 ms from the event loop; call ``then`` once it holds."""
        if cond():
            then()
        elif left_s <= 0:
            fail(f"timed out waiting for {what}")
        else:
            QTimer.singleShot(100, lambda: wait_for(cond, then, what, left_s - 0.1))

    def start() -> None:
        if not tab.start([folder], recursive=True):
            fail("the Batch tab did not start scoring")
            return
        wait_for(lambda: not tab.running, scored, "scoring to finish", 120.0)

    def scored() -> None:
        res = tab.model.results
        counts = res.counts(tab.judge)
        if counts["files"] != N_IMAGES + 3:
            fail(f"scored {counts['files']} files, expected {N_IMAGES + 3}")
            return
        hole_k = next(k for k, h in enumerate(res.heads) if h.name == "hole")
        tab.table.sortByColumn(tab.model.column_of("prob", hole_k), Qt.SortOrder.DescendingOrder)
        flags, probs = res.flags(tab.judge), res.probs
        candidates = []
        for entry, name in enumerate(res.names):
            g = labels.get(name)
            if g is None or not g.has_hole or not g.hole_sizes or max(g.hole_sizes) >= SMALL_HOLE:
                continue
            # Flagged by the hole head and by no other head (so the overlay is the hole map), then the darkest
            # fabric, then the higher P(hole).
            others = int(flags[entry].sum() - flags[entry, hole_k])
            candidates.append((not flags[entry, hole_k], others, g.brightness, -probs[entry, hole_k], entry))
        if not candidates:
            fail(f"no generated image with a hole under {SMALL_HOLE:.0%} of the side")
            return
        entry = min(candidates)[-1]
        if args.select:
            if args.select not in res.names:
                fail(f"no row named {args.select}")
                return
            entry = res.names.index(args.select)
        row = tab.model.row_of(entry)
        proxy_index = tab.proxy.mapFromSource(tab.model.index(row, 0))
        shown = {"ready": False}
        tab.selection_ready.connect(lambda *_: shown.update(ready=True))  # decoded, preview drawn
        tab.table.scrollTo(proxy_index, QAbstractItemView.ScrollHint.PositionAtCenter)
        tab.table.selectRow(proxy_index.row())

        if res.entries[entry].inspection is None:  # an error row: no decode, no selection_ready
            print(f"selected: {res.names[entry]} (an error row: {res.entries[entry].error})", flush=True)
            QTimer.singleShot(1500, grab)
            return
        g = labels[res.names[entry]]
        inspection = res.entries[entry].inspection
        heads = ", ".join(f"P({h.name}) {h.prob:.3f} ({tab.judge.label(h)})" for h in inspection.heads)
        print(f"selected: {g.name} (table row {proxy_index.row() + 1}) — {heads}")
        print(
            f"  generator: {g.kind}, hole sizes {[round(s, 3) for s in g.hole_sizes]} of the side, "
            f"mean brightness {g.brightness:.0f}/255"
        )
        print(f"  thresholds {dict(tab.judge)}; small-hole candidates (P per head, brightness):")
        for c in sorted(candidates):
            p_text = " ".join(f"{p:.3f}" for p in probs[c[-1]])
            print(f"    {res.names[c[-1]]}  {p_text}  {c[2]:.0f}  {labels[res.names[c[-1]]].kind}")
        print(
            f"counts: {counts['files']} files, {counts['flagged']} flagged, {counts['clean']} clean, "
            f"{counts['errors']} broken; per head {counts['per_head']}",
            flush=True,
        )

        def thumbs_loaded() -> bool:
            """The thumbnails of the rows in view (error rows have none)."""
            col = tab.model.column_of("thumb")
            first = max(tab.table.rowAt(0), 0)
            last = tab.table.rowAt(tab.table.viewport().height() - 1)
            last = tab.proxy.rowCount() - 1 if last < 0 else last
            for r in range(first, last + 1):
                index = tab.proxy.index(r, col)
                if res.entries[tab.model.entry_at(tab.proxy.mapToSource(index).row())].error:
                    continue
                if index.data(Qt.ItemDataRole.DecorationRole) is None:
                    return False
            return True

        wait_for(lambda: shown["ready"] and thumbs_loaded(), lambda: QTimer.singleShot(1500, grab), "the preview")

    def grab() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(args.out))
        print(f"screenshot {'saved to' if ok else 'FAILED:'} {args.out}", flush=True)
        outcome["rc"] = 0 if ok else 1
        window.close()
        app.quit()

    QTimer.singleShot(int(args.timeout * 1000), lambda: fail(f"no screenshot after {args.timeout:.0f} s"))
    wait_for(lambda: tab.inspector is not None, start, "the model to load")
    app.exec()
    shutil.rmtree(work, ignore_errors=True)  # the images and, unless --settings, the settings file
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main())
