#!/usr/bin/env bash
# Start the FabricScope desktop app (called by `make run`; extra arguments go to the app).
# With no display (a headless machine, CI), run it for a few seconds under Xvfb instead,
# save a screenshot and say where, so the command still shows the app works.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${VENV:-.venv}/bin/python"
[ -x "$PY" ] || PY=python3
export QT_MEDIA_BACKEND="${QT_MEDIA_BACKEND:-ffmpeg}"

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = "Darwin" ]; then
  exec "$PY" -m fabricscope gui "$@"
fi

SHOT="${SCREENSHOT:-${TMPDIR:-/tmp}/fabricscope-headless.png}"
SECONDS_UP="${RUN_SECONDS:-10}"
if ! command -v xvfb-run >/dev/null; then
  echo "No display (\$DISPLAY is unset) and no xvfb-run: cannot show the app here." >&2
  echo "Install Xvfb (Debian: apt-get install xvfb) or run on a desktop." >&2
  exit 1
fi
echo "No display (\$DISPLAY is unset): running the app under Xvfb for ${SECONDS_UP} s and saving a screenshot."
# the demo feed unless the caller chose a source; the user's settings stay untouched
SETTINGS="$(mktemp -d)/settings.ini"
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" -m fabricscope gui --demo --settings "$SETTINGS" \
  --screenshot "$SHOT" --screenshot-after "$((SECONDS_UP - 2))" --quit-after "$SECONDS_UP" "$@" 2>/dev/null
echo "Screenshot of the running app: $(realpath "$SHOT")"
