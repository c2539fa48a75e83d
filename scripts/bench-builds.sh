#!/usr/bin/env bash
# This build of tinykv-server against another one: puts at CLIENTS logical clients on a
# 3-node cluster of each build (fsync on, tinykv.testing.Cluster on loopback, data under
# ./data of the repo), ROUNDS rounds with the order swapped every round, each build
# driven by its own tinykv-bench (so a wire change between the builds does not matter),
# once per BACKENDS entry: `tinykv` (the coroutine RpcClient generator) and
# `tinykv-blocking` (the phase 5 client, a thread per logical client). Prints every run,
# then the medians and the ratio this / other (above 1 favours this build). The check
# for a change on a hot path: build the commit before it in a worktree and compare.
#
#   git worktree add ../base HEAD~1 && (cd ../base && cmake --preset ci \
#       -DTINYKV_BUILD_PYTHON=OFF && cmake --build --preset ci --target tinykv-server tinykv-bench)
#   scripts/bench-builds.sh ../base/build/ci
#
# Settings (environment): ROUNDS (5), CLIENTS (64), BACKENDS ("tinykv tinykv-blocking"),
# TOTAL (requests per run and backend; default 40000 for tinykv, 24000 for
# tinykv-blocking), NICE (the generators' nice value, e.g. -10 as root; default 0).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
other="${1:-}"
this_dir="build/ci"
for d in "$this_dir" "$other"; do
  [[ -n "$d" && -x "$d/phase6_prod/tinykv-server" && -x "$d/phase6_prod/tinykv-bench" ]] || {
    echo "usage: scripts/bench-builds.sh OTHER_BUILD_DIR (with phase6_prod/tinykv-server and" \
         "tinykv-bench; this build: $this_dir, made by scripts/build.sh)" >&2
    exit 2
  }
done
mkdir -p "$root/data"
exec .venv/bin/python - "$this_dir" "$other" <<'EOF'
import os, re, statistics, subprocess, sys, tempfile
from tinykv import testing

builds = {"this": sys.argv[1], "other": sys.argv[2]}
rounds = int(os.environ.get("ROUNDS", "5"))
clients = os.environ.get("CLIENTS", "64")
backends = os.environ.get("BACKENDS", "tinykv tinykv-blocking").split()
nice = os.environ.get("NICE", "0")
runs = {}
for r in range(rounds):
    for name in (["this", "other"] if r % 2 == 0 else ["other", "this"]):
        exe = os.path.join(builds[name], "phase6_prod")
        with tempfile.TemporaryDirectory(dir="data", prefix="bench-builds-") as d, \
                testing.Cluster(n=3, data_dir=d, server_bin=os.path.join(exe, "tinykv-server"),
                                tick_ms=100, election_ticks=10) as c:
            c.leader()
            for be in backends:
                total = os.environ.get("TOTAL", "40000" if be == "tinykv" else "24000")
                p = subprocess.run(["nice", "-n", nice, os.path.join(exe, "tinykv-bench"), "put",
                                    "--endpoints", ",".join(c.endpoints), "--backend", be,
                                    "--clients", clients, "--total", total],
                                   capture_output=True, text=True)
                out = p.stdout + p.stderr
                ops, p99 = (re.search(rf"{k}=([\d.]+)", out) for k in ("ops_per_s", "p99_ms"))
                if p.returncode != 0 or not ops or not p99:
                    sys.exit(f"bench-builds.sh: {name} {be} run failed:\n{out[-2000:]}")
                runs.setdefault((be, name), []).append((float(ops.group(1)), float(p99.group(1))))
                print(f"round {r + 1} {name:5} {be:16} {float(ops.group(1)):8.0f} ops/s "
                      f"p99 {float(p99.group(1)):6.2f} ms", flush=True)
print(f"\nputs, {clients} clients, medians of {rounds} rounds:")
print("| backend | this ops/s | other ops/s | this / other | this p99 ms | other p99 ms |")
print("|---|--:|--:|--:|--:|--:|")
for be in backends:
    med = {n: (statistics.median(o for o, _ in runs[(be, n)]),
               statistics.median(p for _, p in runs[(be, n)])) for n in builds}
    print(f"| {be} | {med['this'][0]:.0f} | {med['other'][0]:.0f} | "
          f"{med['this'][0] / med['other'][0]:.2f} | {med['this'][1]:.1f} | {med['other'][1]:.1f} |")
EOF
