#!/usr/bin/env bash
# Phase 2 benchmark: TinyKV RPC echo vs redis-server PING and SET/GET on
# loopback, same concurrency, no pipelining, in one run. Prints a
# side-by-side table with ratios (copied into phase2_net/README.md).
#
#   scripts/bench-net.sh                 # the ci build (PRESET=...), 3 runs per point
#   RUNS=5 DURATION_MS=3000 scripts/bench-net.sh
#   BENCH_OUT=/tmp/netbench scripts/bench-net.sh   # also keep the raw CSVs
#
# The medians of RUNS runs are reported. Needs redis-server and
# redis-benchmark (Debian package redis-server, installed by install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
preset="${PRESET:-ci}"
runs="${RUNS:-3}"
duration_ms="${DURATION_MS:-2000}"
concurrency="${CONCURRENCY:-1 16 64 256}"
cd "$root"
[[ -f "build/$preset/CMakeCache.txt" ]] || cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" --target tinykv-net-bench -j2 >/dev/null
bench="build/$preset/phase2_net/tinykv-net-bench"

tmp="$(mktemp -d)"
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
  --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null || true; wait $redis_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "# machine: $(nproc) cores, $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# tinykv: in-process server (1 io thread) + client (1 io thread, 1 multiplexed connection)" >&2
"$bench" --payload 64,4096 --concurrency "$(echo $concurrency | tr ' ' ',')" \
  --runs "$runs" --duration-ms "$duration_ms" --server-threads 1 --client-threads 1 \
  > "$tmp/tinykv.csv"

echo "system,test,payload_bytes,concurrency,run,rps,p50_ms,p99_ms" > "$tmp/redis.csv"
for c in $concurrency; do
  # Enough requests for roughly DURATION_MS at the expected rate.
  if [ "$c" -eq 1 ]; then n=40000; else n=200000; fi
  for run in $(seq "$runs"); do
    for d in 64 4096; do
      tests="set,get"
      [ "$d" -eq 64 ] && tests="ping_inline,ping_mbulk,set,get"
      redis-benchmark -h 127.0.0.1 -p "$port" -c "$c" -n "$n" -P 1 -d "$d" -t "$tests" --csv \
        | tail -n +2 | tr -d '"' \
        | awk -F, -v c="$c" -v r="$run" -v d="$d" '{print "redis," $1 "," d "," c "," r "," $2 "," $5 "," $7}' \
        >> "$tmp/redis.csv"
    done
  done
done
if [ -n "${BENCH_OUT:-}" ]; then mkdir -p "$BENCH_OUT" && cp "$tmp"/*.csv "$BENCH_OUT"/; fi
.venv/bin/python phase2_net/bench/table.py "$tmp/tinykv.csv" "$tmp/redis.csv"
