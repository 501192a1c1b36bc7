#!/usr/bin/env bash
# The lint, type and security gate (CI runs it after the tests; it fails if any step fails):
#   ruff check, ruff format --check      the whole tree (pyproject.toml)
#   flake8 + flake8-qgis                 QGIS and Qt6 rules over the plugin's Python files (.flake8)
#   scripts/qt6_enum_check.py            no unscoped enum use (QGIS 4 refuses them) in the plugin
#   scripts/tr_check.py                  no tr(f"...") or other text built before translation
#   mypy                                 engine/, settings in pyproject.toml
#   bandit, detect-secrets               the plugin's files, as plugins.qgis.org scans an upload
# "The plugin's files" are what the zip holds (scripts/plugin_files.py: not export-ignore'd).
# Every step runs even when an earlier one fails, so one run lists everything to fix.
# Usage: scripts/lint.sh   (installs what is missing first, like scripts/test.sh)
set -uo pipefail
"$(dirname "${BASH_SOURCE[0]}")/setup.sh" >/dev/null || exit 1
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
BIN=.venv/bin

mapfile -t plugin_py < <($BIN/python scripts/plugin_files.py --suffix .py)
mapfile -t plugin_all < <($BIN/python scripts/plugin_files.py)
if [ "${#plugin_py[@]}" -eq 0 ]; then
  echo "[lint] no plugin files found (scripts/plugin_files.py needs a git checkout)" >&2
  exit 1
fi

failed=()
step() {
  local name=$1
  shift
  echo "[lint] $name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

step "ruff check" $BIN/ruff check --no-cache .
step "ruff format --check" $BIN/ruff format --check --no-cache .
step "flake8-qgis (QGIS and Qt6 rules)" $BIN/flake8 "${plugin_py[@]}"
step "Qt6 scoped enums" $BIN/python scripts/qt6_enum_check.py "${plugin_py[@]}"
step "translate literals only" $BIN/python scripts/tr_check.py "${plugin_py[@]}"
step "mypy (engine/)" $BIN/mypy
step "bandit" $BIN/bandit -q "${plugin_py[@]}"
if [ -f .secrets.baseline ]; then
  step "detect-secrets" $BIN/detect-secrets-hook --baseline .secrets.baseline "${plugin_all[@]}"
else
  step "detect-secrets" $BIN/detect-secrets-hook "${plugin_all[@]}"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '[lint] FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "[lint] clean: ruff, flake8-qgis, Qt6 enums, tr literals, mypy, bandit, detect-secrets"
