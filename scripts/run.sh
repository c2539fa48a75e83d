#!/usr/bin/env bash
# The README's main command: builds TinyKV (release preset, installs the Python
# package into .venv), then starts a local 3-node cluster on loopback with its
# data under ./data, prints the endpoints and CLI commands to try, and stops it
# cleanly on Ctrl-C. See scripts/cluster.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/build.sh release
exec bash scripts/cluster.sh "$@"
