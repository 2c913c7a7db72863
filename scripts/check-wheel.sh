#!/usr/bin/env bash
# Build the wheel, install it into a clean venv with the `cpu` extra, and run it there from a
# folder outside the checkout: `fabricscope info` (the shipped model must be the packaged one),
# `fabricscope score` on the packaged samples, the GUI offscreen on the demo feed (a screenshot
# must come out), and the no-display refusal. Takes a minute or two (a venv with Qt).
#
#   bash scripts/check-wheel.sh            # or: make check-wheel
#   KEEP=1 bash scripts/check-wheel.sh     # keep the venv (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fabricscope-wheel.XXXXXX")"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "build the wheel"
"$PYTHON" -m pip wheel --no-deps -q -w "$WORK/dist" .
WHEEL="$(ls "$WORK"/dist/fabricscope-*.whl)"
ls -l "$WHEEL"

step "install it into a clean venv: pip install '$(basename "$WHEEL")[cpu]'"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$WHEEL[cpu]" 2> >(grep -v "^WARNING: Location" >&2)
BIN="$WORK/venv/bin"
mkdir "$WORK/elsewhere" && cd "$WORK/elsewhere"   # nothing of the checkout on sys.path

step "fabricscope info"
"$BIN/fabricscope" info > "$WORK/info.txt" || { cat "$WORK/info.txt"; echo "FAIL: fabricscope info" >&2; exit 1; }
head -4 "$WORK/info.txt"
SITE="$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
MODEL="$("$BIN/python" -c 'from fabricscope.engine.inspector import DEFAULT_MODEL; print(DEFAULT_MODEL)')"
echo "default model: $MODEL"
[ "$MODEL" = "$SITE/fabricscope/_models/fabric_inspector.onnx" ] && [ -s "$MODEL" ] \
  || { echo "FAIL: the default model is not the packaged one" >&2; exit 1; }

step "fabricscope score <the packaged samples>"
SAMPLES="$("$BIN/python" -c 'from fabricscope import assets; print(assets.samples_dir())')"
case "$SAMPLES" in "$SITE"/*) ;; *) echo "FAIL: samples not from the installed package: $SAMPLES" >&2; exit 1 ;; esac
"$BIN/fabricscope" score "$SAMPLES" --out "$WORK/report.csv" -q
ROWS="$(($(wc -l < "$WORK/report.csv") - 1))"
OK="$(grep -c ',ok,' "$WORK/report.csv" || true)"
echo "report: $ROWS rows, $OK scored ok"
[ "$ROWS" -ge 4 ] && [ "$OK" = "$ROWS" ] || { echo "FAIL: not every sample scored" >&2; exit 1; }

step "the GUI offscreen on the demo feed"
QT_QPA_PLATFORM=offscreen "$BIN/fabricscope" gui --demo --settings "$WORK/settings.ini" \
  --screenshot "$WORK/shot.png" --screenshot-after 3 --quit-after 5
[ -s "$WORK/shot.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
"$BIN/python" -c "from PIL import Image; im = Image.open('$WORK/shot.png'); print('screenshot', im.size)"

step "no display: a plain refusal, exit 2"
set +e
env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$BIN/fabricscope" gui --settings "$WORK/settings.ini" \
  2> "$WORK/nodisplay.txt"
RC=$?
set -e
head -2 "$WORK/nodisplay.txt"
[ "$RC" = 2 ] || { echo "FAIL: exit $RC without a display (expected 2)" >&2; exit 1; }

du -sh "$WORK/venv" | sed 's/^/installed venv: /'
[ -z "${KEEP:-}" ] || echo "kept: $WORK"
printf '\nwheel OK: %s\n' "$(basename "$WHEEL")"
