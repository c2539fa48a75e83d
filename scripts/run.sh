#!/usr/bin/env bash
# The README's main command: builds TinyKV (scripts/build.sh: preset ci, the
# same build the tests use, and the Python package in .venv), then starts a
# local 3-node cluster on loopback with its data under ./data, prints the
# endpoints and CLI commands to try, and stops it cleanly on Ctrl-C.
# Arguments go to scripts/cluster.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build.sh
exec bash scripts/cluster.sh "$@"
