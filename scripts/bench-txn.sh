#!/usr/bin/env bash
# Client transactions against single-key puts, on one 3-node TinyKV cluster in one run.
#
# Starts a 3-node TinyKV cluster on 127.0.0.1 (default settings: fsync per commit; data in
# a temp dir, default under ./data of the repo). Then, RUNS times, for each contention
# (low: a key space of LOW_KEYS keys, high: HIGH_KEYS keys): the single-key put baseline
# (tinykv-bench put --backend tinykv-blocking) and, for each transaction size in TXN_KEYS,
# the transactions (tinykv-bench txn --txn-keys N: each reads its keys, writes a counter
# one above each, commits; a write conflict aborts it and the client starts a new one).
# Both through the same blocking phase 5 client, one thread per logical client, the same
# Client objects, so the ratio compares like with like. The baseline goes first in odd
# runs and last in even ones. Prints one table of the medians over the runs: transactions
# (or puts) committed per second, the keys written per second, p50/p99 latency (begin to
# commit returned), the abort rate (aborts / attempts) and the ratio of the transactions
# per second to the single-key puts per second at the same contention.
#
#   scripts/bench-txn.sh                      # after scripts/build.sh
#   RUNS=3 TXN_KEYS="2 8" CONTENTION=high scripts/bench-txn.sh
#   RMW=0 scripts/bench-txn.sh                # blind writes: no reads in the transactions
#
# Settings (environment): CLIENTS (64), TXN_KEYS (2 4 8), CONTENTION (low high), LOW_KEYS
# (100000), HIGH_KEYS (64), RUNS (2), TOTAL (transactions attempted per point, 4000),
# PUT_TOTAL (puts per baseline point, 4 x TOTAL: puts are faster), CONNS (Client objects
# the logical clients share, default CLIENTS: one each, as separate application
# processes would have; each Client commits the secondaries of its transactions on one
# background thread, which falls behind when many clients share it), VAL_SIZE (256),
# KEY_SIZE (8), RMW (1: read-modify-write; 0: blind writes), BENCH_DIR (where the temp dir
# goes), KEEP=1 keeps it (logs, raw output), NICE (a nice value for the servers and the
# generator alike; default 0).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/bench-lib.sh
bench_require bench-txn.sh "$bench" "$server"
CLIENTS="${CLIENTS:-64}"
TXN_KEYS="${TXN_KEYS:-2 4 8}"
CONTENTION="${CONTENTION:-low high}"
LOW_KEYS="${LOW_KEYS:-100000}"
HIGH_KEYS="${HIGH_KEYS:-64}"
RUNS="${RUNS:-2}"
TOTAL="${TOTAL:-4000}"
PUT_TOTAL="${PUT_TOTAL:-$(( 4 * TOTAL ))}"
CONNS="${CONNS:-$CLIENTS}"
VAL_SIZE="${VAL_SIZE:-256}"
KEY_SIZE="${KEY_SIZE:-8}"
RMW="${RMW:-1}"
NICE="${NICE:-0}"
rmw=()
[[ $RMW == 1 ]] && rmw=(--read-modify-write)
mkdir -p "$root/data"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-txn-XXXXXX")"
results="$work/results.txt"
: >"$results"
cleanup() {
  bench_stop "${tk_pids[@]}"
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

tinykv_start "$work" "$NICE" 5379  # client ports 15379, 25379, 35379
bench_wait_up bench-txn.sh tinykv "$tk_eps" "$work"

# One point of this run: what, the contention, then tinykv-bench's op and its own flags.
point() {
  local what=$1 contention=$2
  shift 2
  bench_point bench-txn.sh "run=$run contention=$contention" "run $run: $what, $contention contention" \
    "$@" --backend tinykv-blocking --endpoints "$tk_eps" --clients "$CLIENTS" --conns "$CONNS" \
    --key-size "$KEY_SIZE" --val-size "$VAL_SIZE" --server-pids "$tk_pid_list"
}

echo "machine: $(nproc) cores, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg); data in $work" | tee "$work/machine.txt"
echo "tinykv-bench: $CLIENTS clients, $CONNS Client objects, ${VAL_SIZE} B values, ${KEY_SIZE} B keys, $TOTAL transactions and $PUT_TOTAL puts per point, $RUNS runs, nice $NICE, $([[ $RMW == 1 ]] && echo read-modify-write || echo blind writes)" | tee -a "$work/machine.txt"
for run in $(seq 1 "$RUNS"); do
  for contention in $CONTENTION; do
    space=$LOW_KEYS
    [[ $contention == high ]] && space=$HIGH_KEYS
    (( run % 2 == 1 )) && point "puts" "$contention" put --total "$PUT_TOTAL" --key-space "$space"
    for keys in $TXN_KEYS; do
      point "txn of $keys keys" "$contention" txn --total "$TOTAL" --key-space "$space" \
        --txn-keys "$keys" "${rmw[@]}"
    done
    (( run % 2 == 0 )) && point "puts" "$contention" put --total "$PUT_TOTAL" --key-space "$space"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/machine.txt"
[[ -n "${KEEP:-}" ]] && cp "$results" "$work/results.keep.txt"

.venv/bin/python - "$results" <<'PY'
import sys
sys.path.insert(0, "scripts")
from bench_results import errors, group, med, print_loads, read, runs
results = read(sys.argv[1])
rows = group(results, lambda r: (r["contention"], r["op"], int(r["keys_per_op"])))
order = {"low": 0, "high": 1}
print(f"\nmedians of {max(len(v) for v in rows.values())} runs; ratio = txn/s / single-key puts/s "
      "at the same contention; latency from begin to commit returned, committed transactions only")
print("| mode | keys | contention | key space | txn/s | keys written/s | p50 ms | p99 ms | abort rate "
      "| ratio | runs txn/s | errors |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
for contention, op, keys in sorted(rows, key=lambda k: (order.get(k[0], 2), k[1] != "put", k[2])):
    rs = rows[(contention, op, keys)]
    puts = rows.get((contention, "put", 1))
    ops = med(rs, "ops_per_s")
    ratio = "-"
    if puts and med(puts, "ops_per_s") > 0:
        x = ops / med(puts, "ops_per_s")
        ratio = f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"
    print(f"| {op} | {keys} | {contention} | {rs[0]['key_space']} | {ops:.0f} | {ops * keys:.0f} | "
          f"{med(rs, 'p50_ms'):.2f} | {med(rs, 'p99_ms'):.2f} | {med(rs, 'abort_rate') * 100:.1f} % | "
          f"{ratio} | {runs(rs)} | {errors(rs)} |")
print_loads(results)
PY
