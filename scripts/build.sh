#!/usr/bin/env bash
# Configures and builds one CMake preset (default: ci), then installs the
# tinykv Python package from that same build into .venv (no second compile).
#
#   scripts/build.sh [preset]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-ci}"
cd "$root"
bash scripts/venv.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
if grep -q '^TINYKV_BUILD_PYTHON:BOOL=ON' "build/$preset/CMakeCache.txt"; then
  TINYKV_CMAKE_BUILD_DIR="build/$preset" .venv/bin/pip install --no-build-isolation --no-deps \
    --disable-pip-version-check -q "$root"
fi
