"""``python -m fabricscope.train [COMMAND] ...``: the training tool's one command.

    python -m fabricscope.train --out models/                 # fit (the default): retrain the shipped model
    python -m fabricscope.train fit --out models/             # the same
    python -m fabricscope.train evaluate --model FILE         # figures on a held-out generated set
    python -m fabricscope.train compare NEW.onnx OLD.onnx     # two models, paired bootstrap intervals
    python -m fabricscope.train demo --model FILE             # the Live tab's demo feed, frame by frame
    python -m fabricscope.train study --out DIR               # the pooling study (max vs average per head)

Each command's ``--help`` lists its options. Only ``fit`` and ``study`` need torch.
"""

from __future__ import annotations

import importlib
import sys

# command -> module whose main(argv) runs it
COMMANDS = {
    "fit": "fabricscope.train.fit",
    "evaluate": "fabricscope.train.evaluate",
    "compare": "fabricscope.train.compare",
    "demo": "fabricscope.train.evaluate_demo",
    "study": "fabricscope.train.study",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command = args.pop(0) if args and args[0] in COMMANDS else "fit"  # bare options: fit, as before
    return int(importlib.import_module(COMMANDS[command]).main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
