#!/usr/bin/env bash
# Creates .venv from Debian's /usr/bin/python3 with --system-site-packages, so
# Debian's pytest, nbclient, matplotlib and pybind11 are visible (no PyPI
# here). Idempotent. Prints nothing on success when the venv already exists.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pytest, pybind11' 2>/dev/null; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  echo "venv: created $venv from /usr/bin/python3"
fi
