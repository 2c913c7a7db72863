"""Entry point of the PyInstaller bundle: the ``fabricscope`` command (no arguments: the desktop app)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Batch scoring runs in a spawned child process; in a frozen app the child is this same
    # executable, and freeze_support() turns it into the child instead of a second app.
    multiprocessing.freeze_support()
    from fabricscope.cli import main

    sys.exit(main())
