"""Without a display, ``fabricscope gui`` says so and how to run headless (exit 2) instead of Qt's abort.

Qt's xcb plugin aborts the process (exit 134) with a hint about libxcb-cursor0 whatever the cause;
fabricscope.gui.display checks first, with no Qt imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fabricscope.gui.display import SKIP_VARIABLE, display_problem

ROOT = Path(__file__).resolve().parent.parent


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM: a server, a container, an SSH session without -X."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return env | extra


def _gui(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from fabricscope.cli import main; rc = main(sys.argv[1:]); "
        "print('Qt imported' if 'PySide6.QtWidgets' in sys.modules else 'no Qt'); sys.exit(rc)"
    )
    cmd = [sys.executable, "-c", code, "gui", "--settings", str(tmp_path / "s.ini"), *args]
    return subprocess.run(cmd, env=_bare_env(tmp_path, **extra), capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux desktops")
def test_no_display_is_said_plainly_with_the_headless_ways(tmp_path):
    done = _gui(tmp_path, "--demo")
    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert err.startswith("error: no display found") and "$DISPLAY" in err
    for way in ("QT_QPA_PLATFORM=offscreen fabricscope gui", "--screenshot", "xvfb-run", "fabricscope score"):
        assert way in err
    assert "xcb-cursor" not in err and "Aborted" not in err
    assert done.stdout.strip() == "no Qt"  # refused before Qt was loaded


def test_help_needs_no_display(tmp_path):
    done = _gui(tmp_path, "--help")
    assert done.returncode == 0 and "--screenshot" in done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux desktops")
def test_a_display_no_x_server_answers_is_named(tmp_path):
    done = _gui(tmp_path, DISPLAY=":4093")  # no server at /tmp/.X11-unix/X4093
    assert done.returncode == 2, done.stderr
    assert "cannot connect to the X display :4093" in done.stderr and "xvfb-run" in done.stderr


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", "no display found"),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", "no display found: QT_QPA_PLATFORM=xcb but"),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", "no display found"),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", None),
        ({"QT_QPA_PLATFORM": "minimal"}, "linux", None),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", None),
        ({"QT_QPA_PLATFORM": "xcb;offscreen"}, "linux", None),  # Qt falls back to offscreen
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({"DISPLAY": ":0"}, "linux", None),
        ({SKIP_VARIABLE: "1"}, "linux", None),
        ({}, "darwin", None),
        ({}, "win32", None),
    ],
)
def test_which_environments_have_a_display(env, platform, expected):
    problem = display_problem(env, platform=platform, loads=lambda name: True, answers=lambda display: True)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected)


def test_missing_x_libraries_are_named_with_their_packages():
    missing = {"libxcb-cursor.so.0", "libxkbcommon-x11.so.0"}
    problem = display_problem({"DISPLAY": ":0"}, platform="linux", loads=lambda n: n not in missing)
    assert problem is not None and problem.startswith("cannot open a window on display :0")
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0" in problem
    assert "apt-get install libxcb-cursor0 libxkbcommon-x11-0" in problem and SKIP_VARIABLE in problem
    # under Wayland the X libraries do not matter
    assert display_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w"}, platform="linux", loads=lambda n: False) is None


def test_an_x_server_that_does_not_answer_is_named():
    problem = display_problem({"DISPLAY": ":7"}, platform="linux", loads=lambda n: True, answers=lambda d: False)
    assert problem is not None and problem.startswith("cannot connect to the X display :7")
