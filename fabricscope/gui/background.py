"""Background threads yield the CPU to the GUI thread.

On a 2-core machine a batch run keeps five threads busy (two decoders, the
scoring thread, two ONNX Runtime threads); the OS shares the cores among them
and the GUI thread, so a repaint could wait 100 ms and more for a core. Each
background thread of the app lowers its own priority when it starts. On Linux
priority (nice) is per thread and inherited by the threads a thread creates, so
the decode pool inherits it from the scoring thread, and ONNX Runtime's
thread pool from the thread that created the session (the model loader).
Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

#: How much lower (nice steps) background threads run than the GUI thread.
NICE_STEPS = 10


def lower_this_thread() -> bool:
    """Raise the calling thread's nice value by :data:`NICE_STEPS` (Linux); True if it was changed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, tid)
        if now >= NICE_STEPS:  # already a background thread (or the whole app runs niced)
            return False
        os.setpriority(os.PRIO_PROCESS, tid, min(19, now + NICE_STEPS))
        return True
    except (AttributeError, OSError):  # no per-thread priority here: run as is
        return False
