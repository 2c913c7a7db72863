#!/usr/bin/env bash
# Smoke-test the desktop bundle made by `make bundle` (dist/fabricscope/), from outside the checkout:
# info, score the bundled samples, and the GUI on the demo feed under Xvfb with a screenshot.
#   bash scripts/check-bundle.sh [dist/fabricscope]     # or: make check-bundle
set -euo pipefail
cd "$(dirname "$0")/.."
APP="$(realpath "${1:-dist/fabricscope}")"
EXE="$APP/fabricscope"
[ -x "$EXE" ] || { echo "no bundle at $APP: run make bundle first" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fabricscope-bundle.XXXXXX")"
cd "$WORK"
step() { printf '\n== %s\n' "$*"; }

step "info"
"$EXE" info > info.txt && head -3 info.txt
step "score the bundled samples"
"$EXE" score "$APP/_internal/fabricscope/_resources/samples" --out report.csv -q
ROWS="$(($(wc -l < report.csv) - 1))"; OK="$(grep -c ',ok,' report.csv || true)"
echo "report: $ROWS rows, $OK ok"; [ "$ROWS" -ge 4 ] && [ "$OK" = "$ROWS" ]
step "the GUI on the demo feed under Xvfb"
command -v xvfb-run >/dev/null || { echo "no xvfb-run (Debian: apt-get install xvfb)" >&2; exit 1; }
START="$(date +%s.%N)"
xvfb-run -a -s "-screen 0 1600x1000x24" "$EXE" gui --demo --settings "$WORK/settings.ini" \
  --screenshot "$WORK/bundle.png" --screenshot-after 6 --quit-after 8 2>/dev/null
END="$(date +%s.%N)"
[ -s "$WORK/bundle.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
echo "screenshot: $WORK/bundle.png; start to exit with --quit-after 8: $(echo "$END - $START" | bc) s (xvfb-run included)"
step "no display: exit 2 with a plain message"
set +e; env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$EXE" gui 2> nodisplay.txt; RC=$?; set -e
head -1 nodisplay.txt; [ "$RC" = 2 ]
printf '\nbundle OK: %s (%s)\n' "$APP" "$(du -sh "$APP" | cut -f1)"
