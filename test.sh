#!/usr/bin/env bash
# Runs the whole test suite (and ruff). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")"
scripts/venv.sh
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest "$@"
