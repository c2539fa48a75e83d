#!/usr/bin/env bash
# The README's test command: builds everything (scripts/build.sh: the one
# build/ci that scripts/run.sh and the Python package use too), then runs every
# GoogleTest suite (ctest) and every pytest milestone, notebooks included.
# Exits non-zero on any failure, and when either runner finds no tests.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -m phase1  # extra arguments go to pytest
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
start=$(date +%s)
bash scripts/build.sh
echo "== ctest"
ctest --preset ci
echo "== pytest"
# Run from the repo root: the package under python/ is not on sys.path, so
# the tests import the installed tinykv (what a user gets from pip).
.venv/bin/python -m pytest "$@"
echo "== all tests passed in $(( $(date +%s) - start ))s"
