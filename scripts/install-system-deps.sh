#!/usr/bin/env bash
# Debian packages FabricScope needs: libpulse0 for Qt Multimedia, the xcb libraries
# and Xvfb for a real window (screenshots, `make run` on a machine with no display).
set -euo pipefail
PKGS=(libpulse0 xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
      libxcb-randr0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
