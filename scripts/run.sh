#!/usr/bin/env bash
# The README's main command: builds TinyKV and runs its most advanced working
# demo. Until tinykv-server exists (phase 6), that is the demo of the newest
# finished phase; this script says which one it runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build.sh release
exec .venv/bin/python -m tinykv.demo "$@"
