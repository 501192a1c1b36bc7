#!/usr/bin/env bash
# The main job: installs what is missing, builds the sample data, runs the algorithms through
# the real qgis_process and prints how far each result is from the known truth.
#   scripts/demo.sh [output_folder]      (default: demo_output/)
set -euo pipefail
"$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" "$@"
