#!/usr/bin/env bash
# Installs what the project needs on Debian 12, idempotently, and fast when nothing changed:
#   - QGIS 3.22 LTR with its Python bindings, Xvfb (apt, only when missing);
#   - .venv made with Debian's Python (sees qgis, PyQt5, numpy) and the pinned requirements
#     (requirements.txt: the plugin and its tests; requirements-dev.txt: the lint gate).
# Usage: scripts/setup.sh   (as root, or with sudo available)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=0
for f in /usr/bin/qgis_process.bin /usr/bin/qgis.bin /usr/bin/xvfb-run /usr/bin/xauth; do
  [ -x "$f" ] || need_apt=1
done
/usr/bin/python3 -c "import qgis.core" 2>/dev/null || need_apt=1
if [ "$need_apt" = 1 ]; then
  echo "[setup] installing QGIS and Xvfb with apt (about a minute)..."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
    qgis python3-qgis qgis-providers xvfb xauth python3-venv
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with /usr/bin/python3 (system site packages for qgis)..."
  /usr/bin/python3 -m venv --system-site-packages .venv
fi

stamp=.venv/.requirements.sha256
want=$(cat requirements.txt requirements-dev.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing pinned Python packages into .venv..."
  .venv/bin/pip install -q --disable-pip-version-check \
    -r requirements.txt -r requirements-dev.txt -c constraints.txt
  echo "$want" > "$stamp"
fi
echo "[setup] ready: $(.venv/bin/python -c 'import torch, rasterio; from qgis.core import Qgis; print("QGIS", Qgis.QGIS_VERSION, "| torch", torch.__version__, "| rasterio", rasterio.__version__)' 2>/dev/null)"
