"""Can the desktop app open a window here? Checked before Qt starts, said in words.

Without a display, Qt's default Linux platform plugin (xcb) cannot connect, and Qt aborts the
process (exit 134) with a message about ``libxcb-cursor0`` that sends people to the wrong fix.
With a display but without the X libraries the plugin links against, or with a $DISPLAY that no
X server answers, Qt aborts the same way. :func:`display_problem` spots all three cheaply (the
environment; ``dlopen`` of the plugin's X libraries; one ``xcb_connect``) and returns what to do.
It imports no Qt and takes about 10 ms.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

#: Set to 1 to skip the check (a platform this check does not know, a false alarm).
SKIP_VARIABLE = "FABRICSCOPE_SKIP_DISPLAY_CHECK"

#: Platforms that need a display server; any other (offscreen, minimal, vnc, eglfs, linuxfb, ...) does not.
_WINDOWED = ("xcb", "wayland", "wayland-egl")

#: What Qt's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6) links against beyond a base system, and the
#: Debian/Ubuntu package of each (the list of scripts/install-system-deps.sh).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
}

HEADLESS_HELP = """\
To run FabricScope without a screen:
  QT_QPA_PLATFORM=offscreen fabricscope gui --demo --screenshot shot.png --quit-after 6
      the app renders off screen and saves a PNG of its window
  xvfb-run -a fabricscope gui --demo
      a virtual X display (Debian/Ubuntu: apt-get install xvfb)
  fabricscope score FOLDER --out report.csv
      score images from the command line, no window at all
Over SSH, `ssh -X` shows the window on your own screen."""


def _library_loads(name: str) -> bool:
    """Whether the dynamic linker finds ``name``; in a PyInstaller bundle also the bundled copy."""
    try:
        ctypes.CDLL(name)
        return True
    except OSError:
        bundle = getattr(sys, "_MEIPASS", None)
        return bool(bundle) and any(Path(bundle).rglob(name))


def _x_server_answers(display: str) -> bool:
    """Whether the X server named by ``display`` accepts a connection (libxcb, as Qt's plugin connects).

    True when libxcb itself cannot be loaded: the library check names that problem instead."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)  # never NULL: an error object at worst
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def _chosen_platforms(env: Mapping[str, str]) -> list[str]:
    """The platform plugins QT_QPA_PLATFORM asks for, in order (``"xcb;offscreen"``, ``"vnc:size=..."``)."""
    value = env.get("QT_QPA_PLATFORM", "")
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    loads: Callable[[str], bool] = _library_loads,
    answers: Callable[[str], bool] = _x_server_answers,
) -> str | None:
    """Why the app cannot open a window here (a message for the user), or None when it can or may."""
    env = os.environ if env is None else env
    if not platform.startswith("linux") or env.get(SKIP_VARIABLE, "") not in ("", "0"):
        return None
    chosen = _chosen_platforms(env)
    if any(p not in _WINDOWED for p in chosen):
        return None  # offscreen, minimal, vnc, eglfs, ...: no display server needed (or a fallback exists)
    has_x, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    wants_x = not chosen or "xcb" in chosen
    wants_wayland = not chosen or any(p.startswith("wayland") for p in chosen)
    if not (has_x and wants_x) and not (has_wayland and wants_wayland):
        which = f"QT_QPA_PLATFORM={env['QT_QPA_PLATFORM']} but " if chosen else ""
        return (
            f"no display found: {which}$DISPLAY and $WAYLAND_DISPLAY are not set, so the desktop app has no "
            f"screen to open on.\n{HEADLESS_HELP}"
        )
    if has_wayland and wants_wayland:
        return None  # Qt may well use Wayland; the X libraries do not matter then
    display = env.get("DISPLAY", "")
    missing = [name for name in XCB_LIBRARIES if not loads(name)]
    if missing:
        packages = " ".join(XCB_LIBRARIES[name] for name in missing)
        return (
            f"cannot open a window on display {display}: Qt's X11 (xcb) platform plugin needs "
            f"libraries this system lacks: {', '.join(missing)}.\n"
            f"Install them (Debian/Ubuntu): sudo apt-get install {packages}\n"
            f"(set {SKIP_VARIABLE}=1 to try anyway)\n{HEADLESS_HELP}"
        )
    if not answers(display):
        return (
            f"cannot connect to the X display {display}: no X server answers there, or it refuses this user "
            f"(check $DISPLAY and $XAUTHORITY; over SSH, connect with `ssh -X`).\n{HEADLESS_HELP}"
        )
    return None
