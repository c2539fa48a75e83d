#!/usr/bin/env bash
# TinyKV vs etcd on this machine: the same load generator (tinykv-bench) drives both,
# with the same threads, connections and logical clients, point by point.
#
# Starts a 3-member etcd cluster (Debian's etcd-server, default durability: fsync per
# commit) and a 3-node TinyKV cluster (defaults: fsync per commit) on 127.0.0.1, data of
# both under one temp dir on the same disk (default under ./data of the repo). Then, RUNS
# times, for each op (put, linearizable get) and client count, runs TinyKV and etcd back
# to back (the order alternates between runs), and prints one side-by-side table of the
# medians over the runs: ops/s, p50/p99 latency, the servers' CPU per request (summed over
# the three processes of the cluster, from /proc), the generator's own CPU, and the ratios
# TinyKV / etcd (throughput: above 1 favours TinyKV; latency and CPU: below 1 does). Also
# prints the single-client floor measured in the same run: one fsync of the data
# directory's disk plus one loopback round trip (tinykv-bench floor).
#
#   scripts/bench-etcd.sh                    # after scripts/build.sh
#   RUNS=3 CLIENTS="1 64" OPS=put scripts/bench-etcd.sh
#   HTTP=1 scripts/bench-etcd.sh             # also etcd through its JSON gateway (an extra row set)
#   ETCD_SPREAD=1 scripts/bench-etcd.sh      # etcd connections over all members (etcd's tool)
#   RATE=2000 CLIENTS=64 scripts/bench-etcd.sh   # latency at a fixed offered load, both systems
#   ETCD_API=1 scripts/bench-etcd.sh         # also TinyKV through its etcd API (--listen-etcd),
#                                            # driven by the etcd backend: the gateway's cost
#
# Settings (environment): CLIENTS (1 16 64 256), OPS (put get), RUNS (2), THREADS (2
# generator threads), CONNS (2 connections, in total), VAL_SIZE (256), KEY_SIZE (8),
# KEYS (1000: the get key space), TOTAL (requests per point; default max(4000, 400 x
# clients)), BENCH_DIR (where the temp dir goes), KEEP=1 keeps it (logs, raw output),
# NICE (a nice value for the servers and the generator alike, e.g. -10 as root, to give
# the benchmark precedence over other work on a shared machine; default 0), RATE (open
# loop: requests per second offered to each system, an integer, tinykv-bench --rate;
# then ops/s is the achieved rate, latency counts from each request's intended start, and
# a point has at least 2 x RATE requests; default unset: closed loop).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/bench-lib.sh
etcd_bin="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"
bench_require bench-etcd.sh "$bench" "$server" "$etcd_bin"
CLIENTS="${CLIENTS:-1 16 64 256}"
OPS="${OPS:-put get}"
RUNS="${RUNS:-2}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-2}"
VAL_SIZE="${VAL_SIZE:-256}"
KEY_SIZE="${KEY_SIZE:-8}"
KEYS="${KEYS:-1000}"
NICE="${NICE:-0}"
RATE="${RATE:-0}"
backends="tinykv etcd"
[[ -n "${HTTP:-}" ]] && backends="$backends etcd-http"
[[ -n "${ETCD_API:-}" ]] && backends="$backends tinykv-etcd-api" && tk_etcd_port=5379
etcd_extra=()
[[ -n "${ETCD_SPREAD:-}" ]] && etcd_extra=(--etcd-spread)
mkdir -p "$root/data"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-XXXXXX")"
results="$work/results.txt"
: >"$results"
cleanup() {
  bench_stop "${tk_pids[@]}" "${etcd_pids[@]}"
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

etcd_start "$work" "$NICE" 2379 "$etcd_bin"  # client ports 12379, 22379, 32379
tinykv_start "$work" "$NICE" 4379  # client ports 14379, 24379, 34379

# A "system" is what a row measures: tinykv, etcd, etcd-http (etcd through its gateway)
# or tinykv-etcd-api (TinyKV's etcd API, through tinykv-bench's etcd backend).
eps_of() {
  case $1 in tinykv) echo "$tk_eps" ;; tinykv-etcd-api) echo "$tk_etcd_eps" ;; *) echo "$etcd_eps" ;; esac
}
pids_of() { local IFS=,; [[ $1 == tinykv* ]] && echo "${tk_pids[*]}" || echo "${etcd_pids[*]}"; }
backend_of() { [[ $1 == tinykv-etcd-api ]] && echo etcd || echo "$1"; }

# Wait until both clusters have a leader and serve a write.
for backend in tinykv etcd; do bench_wait_up bench-etcd.sh "$backend" "$(eps_of "$backend")" "$work"; done

floor() { nice -n "$NICE" "$bench" floor --dir "$work" --endpoints "${tk_eps%%,*}" --seconds 2 | tee -a "$work/bench.log" \
            | grep '^RESULT' | sed "s/^RESULT /RESULT when=$1 /" >>"$results"; }

echo "machine: $(nproc) cores, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg); data in $work" | tee "$work/machine.txt"
echo "etcd: $("$etcd_bin" --version | head -1); tinykv-bench: $THREADS threads, $CONNS connections, ${VAL_SIZE} B values, ${KEY_SIZE} B keys, $RUNS runs, nice $NICE" | tee -a "$work/machine.txt"
floor start
for run in $(seq 1 "$RUNS"); do
  # Alternate which system goes first, so that neither always runs on a warmer (or
  # busier) machine.
  order="$backends"
  (( run % 2 == 0 )) && order="$(echo "$backends" | tr ' ' '\n' | tac | tr '\n' ' ')"
  for op in $OPS; do
    for c in $CLIENTS; do
      total=$(( c * 400 > 4000 ? c * 400 : 4000 ))
      (( total < 2 * RATE )) && total=$(( 2 * RATE ))
      total=${TOTAL:-$total}
      for backend in $order; do
        extra=()
        [[ $op == get ]] && extra=(--consistency l --key-space-size "$KEYS")
        [[ $(backend_of "$backend") == etcd* ]] && extra+=("${etcd_extra[@]}")
        bench_point bench-etcd.sh "run=$run system=$backend" "run $run: $backend $op clients=$c total=$total" \
          "$op" --backend "$(backend_of "$backend")" --endpoints "$(eps_of "$backend")" --clients "$c" \
          --threads "$THREADS" --conns "$CONNS" --total "$total" --key-size "$KEY_SIZE" \
          --val-size "$VAL_SIZE" --server-pids "$(pids_of "$backend")" --rate "$RATE" "${extra[@]}"
      done
    done
  done
done
floor end
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/machine.txt"
[[ -n "${KEEP:-}" ]] && cp "$results" "$work/results.keep.txt"

.venv/bin/python - "$results" "$(nproc)" <<'PY'
import sys
sys.path.insert(0, "scripts")
from bench_results import errors, group, med, print_loads, ratio, read, runs
cores = int(sys.argv[2])
results = read(sys.argv[1])
floors = [r for r in results if r.get("op") == "floor"]
points = [r for r in results if r.get("op") != "floor"]
rows = group(points, lambda r: (r["op"], int(r["clients"]), r.get("system", r["backend"])))
for f in floors:
    print(f"floor ({f['when']}): fsync {float(f['fsync_per_s']):.0f}/s (p50 {float(f['fsync_p50_ms']):.2f} ms), "
          f"loopback round trip p50 {float(f['rtt_p50_ms']):.3f} ms -> one client at most "
          f"{float(f['floor_ops_per_s']):.0f} writes/s")
backends = sorted({b for _, _, b in rows},
                  key=lambda b: ["tinykv", "etcd", "etcd-http", "tinykv-etcd-api"].index(b))
for other in [b for b in backends if b != "tinykv"]:
    label = {"etcd": "etcd (gRPC)", "etcd-http": "etcd (HTTP/JSON gateway)",
             "tinykv-etcd-api": "TinyKV's etcd API (same cluster, etcd's gRPC)"}[other]
    print(f"\nTinyKV vs {label}: medians of {max(len(v) for v in rows.values())} runs; "
          f"ratio = TinyKV / {'etcd' if other != 'tinykv-etcd-api' else 'the etcd API'}")
    offered = {float(r["offered_ops_per_s"]) for v in rows.values() for r in v}
    if offered != {0.0}:
        print(f"open loop at {', '.join(f'{o:.0f}' for o in sorted(offered))} requests/s offered: "
              "ops/s is the achieved rate, latency counts from each request's intended start")
    print("| op | clients | TinyKV ops/s | etcd ops/s | ratio | p50 ms T / e | p99 ms T / e | p99 ratio "
          "| server CPU us/op T / e | CPU ratio | generator CPU % of machine T / e | runs ops/s T; e | errors T / e |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for op, c in sorted({(o, c) for o, c, _ in rows}):
        t, e = rows.get((op, c, "tinykv")), rows.get((op, c, other))
        if not t or not e:
            continue
        to, eo = med(t, "ops_per_s"), med(e, "ops_per_s")
        tc, ec = med(t, "server_cpu_us_per_op"), med(e, "server_cpu_us_per_op")
        tg, eg = med(t, "gen_cpu_cores") / cores * 100, med(e, "gen_cpu_cores") / cores * 100
        print(f"| {op} | {c} | {to:.0f} | {eo:.0f} | {ratio(to, eo)} | "
              f"{med(t, 'p50_ms'):.2f} / {med(e, 'p50_ms'):.2f} | {med(t, 'p99_ms'):.2f} / {med(e, 'p99_ms'):.2f} | "
              f"{ratio(med(t, 'p99_ms'), med(e, 'p99_ms'))} | {tc:.0f} / {ec:.0f} | {ratio(tc, ec)} | "
              f"{tg:.0f} / {eg:.0f} | {runs(t)}; {runs(e)} | {errors(t)} / {errors(e)} |")
print_loads(points)
PY
