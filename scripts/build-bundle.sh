#!/usr/bin/env bash
# `make bundle`: a self-contained desktop app in dist/fabricscope/ (PyInstaller one-folder) and a
# tarball of it, dist/fabricscope-<version>-linux-<arch>.tar.gz, with install-desktop.sh inside.
#
# PyInstaller runs in its own venv (build/bundle-venv: the app's dependencies with the `cpu` extra,
# plus the `bundle` extra), so neither the app's venv nor the bundle gets torch, Ray or the tests.
# The same recipe on Windows / macOS: see README ("Desktop bundle").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
BVENV="${BUNDLE_VENV:-build/bundle-venv}"
BPY="$BVENV/bin/python"
STAMP="$BVENV/.stamp-bundle"

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "build venv: $BVENV"
  [ -x "$BPY" ] || "$PYTHON" -m venv "$BVENV"
  "$BPY" -m pip install -q --upgrade pip
  "$BPY" -m pip install -q '.[cpu,bundle]'
  "$BPY" -m pip uninstall -q -y fabricscope   # the spec takes the package from this checkout
  touch "$STAMP"
fi

"$BPY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/fabricscope.spec

APP=dist/fabricscope
cp resources/fabricscope.desktop resources/fabricscope.png "$APP/"
cat > "$APP/install-desktop.sh" <<'INSTALL'
#!/usr/bin/env bash
# Add FabricScope to this user's application menu (no root needed): a .desktop entry and its icon,
# pointing at this folder. Run it again after moving the folder.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APPS="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
ICONS="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$APPS" "$ICONS"
cp "$HERE/fabricscope.png" "$ICONS/fabricscope.png"
sed "s|^Exec=fabricscope |Exec=\"$HERE/fabricscope\" |" "$HERE/fabricscope.desktop" > "$APPS/fabricscope.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$APPS" || true
echo "FabricScope is in your application menu ($APPS/fabricscope.desktop)."
INSTALL
chmod +x "$APP/install-desktop.sh"

VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])' 2>/dev/null || echo 0)"
TARBALL="dist/fabricscope-$VERSION-linux-$(uname -m).tar.gz"
tar -C dist -czf "$TARBALL" fabricscope
echo "bundle: $APP ($(du -sh "$APP" | cut -f1)); archive: $TARBALL ($(du -sh "$TARBALL" | cut -f1))"
echo "try it: $APP/fabricscope gui --demo    add it to the menu: $APP/install-desktop.sh"
