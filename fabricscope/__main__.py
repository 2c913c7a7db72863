"""``python -m fabricscope``: the desktop app; ``python -m fabricscope score ...`` etc. as the CLI."""

import sys

from .cli import main

sys.exit(main())
