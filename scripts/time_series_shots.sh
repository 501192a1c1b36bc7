#!/usr/bin/env bash
# The time series screenshots (scripts/time_series_shots.py) in the real QGIS desktop under Xvfb,
# set up as scripts/gui_shots.sh sets up its shots.
#   scripts/time_series_shots.sh OUTDIR 'JSON_PARAMS' [DAYS_PER_FRAME] [FRAMES]
set -u
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
SITE=$("$CHECKOUT/.venv/bin/python" -c 'import site,sys; print([p for p in site.getsitepackages() if p.startswith(sys.prefix)][0])')
TMP=/tmp/shot-$(printf %s "$CHECKOUT" | md5sum | cut -c1-8)
export XDG_RUNTIME_DIR=$TMP/xdg; mkdir -p -m 700 $XDG_RUNTIME_DIR
export HOME=$TMP/home; mkdir -p $HOME
mkdir -p $TMP/plugins; ln -sfn "$CHECKOUT" $TMP/plugins/geohazard
export QGIS_PLUGINPATH=$TMP/plugins PYTHONPATH="$SITE"
export QT_QPA_PLATFORM=xcb
export SHOT_DIR="$1" SHOT_PARAMS="$2" SHOT_DAYS="${3:-30}" SHOT_FRAMES="${4:-3,6,11}"
timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" /usr/bin/qgis.bin --nologo --noversioncheck --code "$CHECKOUT/scripts/time_series_shots.py"
rc=$?
echo "exit $rc"; cat "$1/gui_log.txt" 2>/dev/null
exit $rc
