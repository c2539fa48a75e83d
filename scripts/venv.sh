#!/usr/bin/env bash
# Creates .venv from Debian's /usr/bin/python3 with --system-site-packages, so
# Debian's pytest, nbclient and matplotlib are visible (no PyPI here).
# Idempotent: an existing venv made that way is kept (with the tinykv package
# installed in it); prints nothing then.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
cfg="$venv/pyvenv.cfg"
# The build needs no Python module (pybind11-dev provides the CMake config and
# headers); the tests need pytest from Debian. Recreate only a venv that is
# missing, broken, or not made from /usr/bin/python3 with system packages.
if [ -x "$venv/bin/python" ] && grep -qx 'include-system-site-packages = true' "$cfg" 2>/dev/null \
   && grep -qx 'home = /usr/bin' "$cfg" && "$venv/bin/python" -c 'import pytest' 2>/dev/null; then
  exit 0
fi
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
echo "venv: created $venv from /usr/bin/python3"
