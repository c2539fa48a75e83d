#!/usr/bin/env bash
# Builds TinyKV once for everything: configures the CMake preset (default ci,
# in build/ci) if it is not configured yet, builds it (-j2), then installs the
# tinykv Python package into .venv from that same build (no second compile:
# setup.py only copies the module and executables, stripped). The install is
# skipped when nothing it ships changed since the last one, so a second run
# costs seconds.
#
#   scripts/build.sh [preset]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${1:-ci}"
cd "$root"
bash scripts/venv.sh
# Once configured, ninja re-runs CMake by itself when a CMakeLists.txt changes.
[[ -f "build/$preset/CMakeCache.txt" ]] || cmake --preset "$preset"
cmake --build --preset "$preset"
grep -q '^TINYKV_BUILD_PYTHON:BOOL=ON' "build/$preset/CMakeCache.txt" || exit 0

stamp=".venv/.tinykv-installed-from-$preset"
manifest="build/$preset/python/package_manifest.txt"
if [[ -f "$stamp" && -x .venv/bin/tinykv ]] &&
   [[ -z "$(find python setup.py pyproject.toml $(cat "$manifest") -name __pycache__ -prune \
            -o -newer "$stamp" -print -quit)" ]]; then
  echo "build.sh: tinykv in .venv is up to date (from build/$preset)"
  exit 0
fi
rm -f .venv/.tinykv-installed-from-*
start=$(date +%s)
TINYKV_CMAKE_BUILD_DIR="build/$preset" .venv/bin/pip install --no-build-isolation --no-deps \
  --disable-pip-version-check "$root"
touch "$stamp"
echo "build.sh: installed tinykv into .venv in $(( $(date +%s) - start ))s:" \
  "$(du -sh "$(.venv/bin/python -c 'import os, tinykv; print(os.path.dirname(tinykv.__file__))')" | cut -f1)"
