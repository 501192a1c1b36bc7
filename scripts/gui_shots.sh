#!/usr/bin/env bash
# Screenshots for docs/ in the real QGIS desktop under Xvfb, set up exactly as
# ../shared/tools/gui_shot.sh sets up its shots (private profile, this checkout as "geohazard").
#   scripts/gui_shots.sh installer OUTDIR                      -> OUTDIR/installer.png
#   scripts/gui_shots.sh zoom OUTDIR ALG_ID 'JSON_PARAMS' 8    -> OUTDIR/zoom.png (8x zoom)
#   scripts/gui_shots.sh training OUTDIR TRAIN_ALG_ID '{"DEM": ..., "VALUES": {...}}'
#                                                             -> OUTDIR/training.png
set -u
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
SITE=$("$CHECKOUT/.venv/bin/python" -c 'import site,sys; print([p for p in site.getsitepackages() if p.startswith(sys.prefix)][0])')
export XDG_RUNTIME_DIR=/tmp/shot-xdg; mkdir -p -m 700 $XDG_RUNTIME_DIR
export HOME=/tmp/shot-home; mkdir -p $HOME
mkdir -p /tmp/shot-plugins; ln -sfn "$CHECKOUT" /tmp/shot-plugins/geohazard
export QGIS_PLUGINPATH=/tmp/shot-plugins PYTHONPATH="$SITE"
export SHOT_KIND="$1" SHOT_DIR="$2" SHOT_ALG="${3:-}" SHOT_PARAMS="${4:-{\}}" SHOT_ZOOM="${5:-8}"
timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" /usr/bin/qgis.bin --nologo --noversioncheck --code "$CHECKOUT/scripts/gui_shots.py"
echo "exit $?"; cat "$2/gui_log.txt" 2>/dev/null
