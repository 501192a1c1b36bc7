#!/usr/bin/env bash
# Screenshots for docs/ in the real QGIS desktop under Xvfb, set up exactly as
# ../shared/tools/gui_shot.sh sets up its shots (private profile, this checkout as "geohazard").
#   scripts/gui_shots.sh installer OUTDIR                      -> OUTDIR/installer.png
#   scripts/gui_shots.sh zoom OUTDIR ALG_ID 'JSON_PARAMS' 8    -> OUTDIR/zoom.png (8x zoom)
#   scripts/gui_shots.sh training OUTDIR TRAIN_ALG_ID '{"DEM": ..., "VALUES": {...}}'
#                                                             -> OUTDIR/training.png
#   scripts/gui_shots.sh reopen OUTDIR - '{"FILES": [...]}' 1.5  -> OUTDIR/reopen.png (files opened
#       as Add Layer does, with the .qml beside them; zoom: the last file's extent x 1.5)
#   scripts/gui_shots.sh toolbox OUTDIR ALG_ID 'JSON_PARAMS'   -> OUTDIR/toolbox.png, dialog.png,
#       dialog_log.png, result.png: the algorithm opened from the Processing Toolbox, run, shown
# Exits with QGIS's status (0 when every step passed); OUTDIR/gui_log.txt says what happened.
set -u
CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
SITE=$("$CHECKOUT/.venv/bin/python" -c 'import site,sys; print([p for p in site.getsitepackages() if p.startswith(sys.prefix)][0])')
# One private home, profile and plugin folder per checkout (two checkouts can shoot at once).
TMP=/tmp/shot-$(printf %s "$CHECKOUT" | md5sum | cut -c1-8)
export XDG_RUNTIME_DIR=$TMP/xdg; mkdir -p -m 700 $XDG_RUNTIME_DIR
export HOME=$TMP/home; mkdir -p $HOME
mkdir -p $TMP/plugins; ln -sfn "$CHECKOUT" $TMP/plugins/geohazard
export QGIS_PLUGINPATH=$TMP/plugins PYTHONPATH="$SITE"
# The desktop on the X server (tests and scripts/env.sh may have set "offscreen", where QGIS
# crashes reading the clipboard at start).
export QT_QPA_PLATFORM=xcb
export SHOT_KIND="$1" SHOT_DIR="$2" SHOT_ALG="${3:-}" SHOT_PARAMS="${4:-{\}}" SHOT_ZOOM="${5:-8}"
timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" /usr/bin/qgis.bin --nologo --noversioncheck --code "$CHECKOUT/scripts/gui_shots.py"
rc=$?
echo "exit $rc"; cat "$2/gui_log.txt" 2>/dev/null
exit $rc
