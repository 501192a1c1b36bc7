#!/usr/bin/env bash
# Runs the whole default test suite (slow tests excluded; add `-m slow` or `-m ""` for them).
# Installs what is missing first (scripts/setup.sh), so it works on a fresh Debian 12 machine.
set -euo pipefail
"$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec .venv/bin/python -m pytest "$@"
