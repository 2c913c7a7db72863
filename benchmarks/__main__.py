"""``python -m benchmarks [NAME ...]``: run every ``benchmarks/bench_*.py`` that has a ``main()``.

NAME filters by substring (``python -m benchmarks batch`` runs bench_batch.py).
Each benchmark prints its own figures; this runner reports which ran and
exits non-zero if any raised or returned non-zero. Run under ``nice -n 10``
on a shared machine.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(filters: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in names if not filters or any(f in n for f in filters)]


def main(argv: list[str] | None = None) -> int:
    filters = list(sys.argv[1:] if argv is None else argv)
    names = discover(filters)
    if not names:
        print(f"no benchmarks match {filters}", file=sys.stderr)
        return 2
    failed: list[str] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        entry = getattr(module, "main", None)
        if not callable(entry):
            print(f"skipping {name}: no main()")
            continue
        print(f"\n===== {name} =====", flush=True)
        start = time.perf_counter()
        try:
            code = entry([])
        except Exception:  # one broken benchmark must not hide the others
            traceback.print_exc()
            code = 1
        print(f"----- {name}: {'ok' if not code else f'exit {code}'} in {time.perf_counter() - start:.0f} s")
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
