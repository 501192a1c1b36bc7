# Sourced by the scripts: environment for running QGIS headless with this plugin and the venv.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export QT_QPA_PLATFORM=offscreen
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/geohazard-xdg-$(id -u)}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
VENV_SITE="$("$ROOT/.venv/bin/python" -c 'import site,sys; print([p for p in site.getsitepackages() if p.startswith(sys.prefix)][0])')"
export VENV_SITE
# The plugin is found by QGIS as a folder named "geohazard" inside QGIS_PLUGINPATH.
GEOHAZARD_PLUGINS="$ROOT/.venv/qgis-plugins"
mkdir -p "$GEOHAZARD_PLUGINS"
ln -sfn "$ROOT" "$GEOHAZARD_PLUGINS/geohazard"
export QGIS_PLUGINPATH="$GEOHAZARD_PLUGINS${QGIS_PLUGINPATH:+:$QGIS_PLUGINPATH}"
