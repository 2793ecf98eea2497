#!/usr/bin/env bash
# Runs the assistant: console chat unless channel credentials are configured. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")"
scripts/venv.sh
exec .venv/bin/python bot.py "$@"
