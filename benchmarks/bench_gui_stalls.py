"""How long the GUI thread is blocked while the Batch tab scores a big folder, and by what.

Scores N small PNGs (default 2,000) in the real Batch tab, offscreen, with the
table sorted by P(hole) so rows stream into a sorted view, while a
:class:`benchmarks.stall_watch.StallWatch` beats every 5 ms on the GUI
thread. Prints the gap distribution (p50, p99, max, gaps over 50 ms) and, for
each stall caught over 40 ms, the GUI thread's Python stack at that moment.

    nice -n 10 python -m benchmarks.bench_gui_stalls [--images 2000] [--side 64] [--gil-switch S]
                                                     [--model FILE] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from fabricscope.engine.inspector import Inspector
from fabricscope.gui import background
from fabricscope.gui.background import lower_this_thread

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QLabel

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "fabric_inspector.onnx"


def make_folder(root: Path, n: int, side: int) -> Path:
    """``n`` noise images: PNGs when small (decoding is mostly Python: the worst case for the GIL),
    JPEGs of side x 3/4 side from 256 px on (a webcam-like folder; decoding is mostly C)."""
    rng = np.random.default_rng(0)
    for i in range(n):
        if side < 256:
            Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(root / f"t{i:05d}.png")
        else:
            img = rng.integers(0, 255, (side * 3 // 4, side, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / f"t{i:05d}.jpg", quality=85)
    return root


class ResizeCounter(QObject):
    """Counts resize events per widget class (installed on the QApplication)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            name = obj.objectName() or (obj.text()[:24] if isinstance(obj, QLabel) else "")
            self.counts[f"{type(obj).__name__} {name}".strip()] += 1
        return False


def load_like_the_app(model: Path) -> Inspector:
    """Open the model on a background thread as the app's ModelLoader does (ONNX Runtime's threads
    inherit that thread's lowered priority)."""
    got: list[Inspector] = []

    def load() -> None:
        lower_this_thread()
        got.append(Inspector(model, provider="cpu"))

    t = threading.Thread(target=load)
    t.start()
    t.join()
    return got[0]


def run(n_images: int, model: Path, side: int = 64, gil_switch_s: float | None = None) -> dict:
    from benchmarks.stall_watch import StallWatch, run_event_loop
    from fabricscope.gui.app import apply_theme, collect_garbage_on_gui_thread, share_the_gil
    from fabricscope.gui.batch_tab import BatchTab
    from fabricscope.state import AppState

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    gc_guard = collect_garbage_on_gui_thread()  # noqa: F841 - as the app does
    if gil_switch_s is None:
        share_the_gil()  # as the app does
    else:
        sys.setswitchinterval(gil_switch_s)
    folder = make_folder(Path(tempfile.mkdtemp(prefix="bench_stalls_")), n_images, side)
    tab = BatchTab(AppState(load_like_the_app(model)))
    tab.resize(1400, 900)
    tab.show()
    tab.table.sortByColumn(tab.model.column_of("prob", 0), Qt.SortOrder.DescendingOrder)
    QCoreApplication.processEvents()
    resizes = ResizeCounter()
    app.installEventFilter(resizes)
    watch = StallWatch(beat_ms=5, catch_ms=40)
    watch.start()
    t0 = time.perf_counter()
    tab.start([folder], recursive=False, batch_size=32)
    run_event_loop(600, until=lambda: not tab.running and len(tab.model.results) >= n_images)
    wall = time.perf_counter() - t0
    report = watch.stop()
    app.removeEventFilter(resizes)
    tab.shutdown()
    result = {"images": len(tab.model.results), "wall_s": round(wall, 1), **report.summary()}
    # widgets re-laid out while rows streamed in (a label whose text changes width can resize plots)
    result["resize_events"] = dict(resizes.counts.most_common(12))
    result["caught_stacks"] = [{"count": c, "stack": s} for s, c in report.stacks.most_common(8)]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--side", type=int, default=64, help="image width in px (default 64: tiny PNGs)")
    ap.add_argument("--model", type=Path, default=SHIPPED)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-background-priority", action="store_true", help="background threads at the GUI's priority")
    ap.add_argument("--gil-switch", type=float, help="seconds; default: what the app sets (gui.app.GIL_SWITCH_S)")
    args = ap.parse_args(argv)
    if args.no_background_priority:
        background.NICE_STEPS = 0  # lower_this_thread() then leaves every thread as it is
    res = run(args.images, args.model, side=args.side, gil_switch_s=args.gil_switch)
    res["gil_switch_s"] = sys.getswitchinterval()
    res["background_priority"] = background.NICE_STEPS > 0
    stacks = res.pop("caught_stacks")
    print(json.dumps(res, indent=1))
    for item in stacks:
        print(f"--- stall caught {item['count']}x, GUI thread was in:\n{item['stack']}")
    if args.json:
        args.json.write_text(json.dumps({**res, "caught_stacks": stacks}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
