#!/usr/bin/env bash
# Watches and lease keep-alives, TinyKV vs etcd in one run: the same load generator
# (tinykv-bench watch / lease) drives both, with the same clients, threads and connections.
#
# Starts a 3-node TinyKV cluster and a 3-member etcd cluster (Debian's etcd-server) on
# 127.0.0.1, both with their default durability (fsync per commit), data of both under one
# temp dir on the same disk (default under ./data of the repo), on free ports. Then, RUNS
# times, TinyKV and etcd back to back (the order alternates between runs):
#   * for each watcher count in WATCHERS, `tinykv-bench watch`: the watchers are created on
#     one fresh prefix, then CLIENTS clients put TOTAL keys of their own under it; every
#     watcher should receive every put. 0 watchers is the baseline: the same puts, unwatched.
#     TinyKV: one Watch stream per watcher (its protocol has one watch per stream), over
#     WATCH_CONNS connections; etcd: the watchers multiplexed on WATCH_STREAMS gRPC streams
#     over WATCH_CONNS connections, as etcd's own `benchmark watch-latency` does;
#   * `tinykv-bench lease`: LEASE_CLIENTS clients each renew their own lease in a closed
#     loop, LEASE_TOTAL keep-alives in all (TinyKV: the unary LeaseKeepAlive; etcd: one
#     request and its response on each client's LeaseKeepAlive stream).
# Prints one table of the medians over the runs, TinyKV / etcd ratios (throughput: above 1
# favours TinyKV; latency and CPU: below 1 does): events delivered per second (all
# watchers), delivery latency after the put's ack (etcd's watch-latency measure; 0 when the
# event beat the ack) and after the put's send, the put rate with the watchers and as a
# fraction of the 0-watcher rate, and keep-alives per second with their latency.
#
#   scripts/bench-watch.sh                      # after scripts/build.sh
#   RUNS=1 WATCHERS="0 100" MODES=watch scripts/bench-watch.sh
#   RATE=500 TOTAL=4000 WATCHERS="1 100 1000" MODES=watch scripts/bench-watch.sh
#                                               # puts offered at 500/s to both (open loop)
#
# Settings (environment): WATCHERS (0 1 100 1000), MODES (watch lease), RUNS (3), CLIENTS
# (64 putters), TOTAL (puts per watch point, 10000), RATE (open loop: puts per second
# offered at each watch point, tinykv-bench --rate; then puts/s is the achieved rate, and
# at a rate both systems deliver, the latency is the watch path's rather than a backlog's;
# default 0: closed loop, as fast as the puts go), LEASE_CLIENTS (64), LEASE_TOTAL
# (keep-alives per lease point, 300000), THREADS (2 generator threads for the clients),
# CONNS (2 connections for the clients, in total), WATCH_THREADS (2, for the watchers),
# WATCH_CONNS (2, for the watchers), WATCH_STREAMS (10, etcd's default), VAL_SIZE (256),
# KEY_SIZE (8), DRAIN_MS (60000: how long a point waits for the watchers after its last
# put), BENCH_DIR (where the temp dir goes), KEEP=1 keeps it (logs, raw output), NICE (a
# nice value for the servers and the generator alike; default 0), ETCD_BIN.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/bench-lib.sh
etcd_bin="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"
bench_require bench-watch.sh "$bench" "$server" "$etcd_bin"
WATCHERS="${WATCHERS:-0 1 100 1000}"
MODES="${MODES:-watch lease}"
RUNS="${RUNS:-3}"
CLIENTS="${CLIENTS:-64}"
TOTAL="${TOTAL:-10000}"
LEASE_CLIENTS="${LEASE_CLIENTS:-64}"
LEASE_TOTAL="${LEASE_TOTAL:-300000}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-2}"
WATCH_THREADS="${WATCH_THREADS:-2}"
WATCH_CONNS="${WATCH_CONNS:-2}"
WATCH_STREAMS="${WATCH_STREAMS:-10}"
VAL_SIZE="${VAL_SIZE:-256}"
KEY_SIZE="${KEY_SIZE:-8}"
DRAIN_MS="${DRAIN_MS:-60000}"
RATE="${RATE:-0}"
NICE="${NICE:-0}"
mkdir -p "$root/data"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-watch-XXXXXX")"
results="$work/results.txt"
: >"$results"
cleanup() {
  bench_stop "${tk_pids[@]}" "${etcd_pids[@]}"
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

tk_port=$(bench_free_port 5479)
etcd_port=$(bench_free_port $((tk_port + 10)))
tinykv_start "$work" "$NICE" "$tk_port"
etcd_start "$work" "$NICE" "$etcd_port" "$etcd_bin"
eps_of() { [[ $1 == tinykv ]] && echo "$tk_eps" || echo "$etcd_eps"; }
pids_of() { [[ $1 == tinykv ]] && echo "$tk_pid_list" || echo "$etcd_pid_list"; }
for backend in tinykv etcd; do bench_wait_up bench-watch.sh "$backend" "$(eps_of "$backend")" "$work"; done

echo "machine: $(nproc) cores, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg); data in $work" | tee "$work/machine.txt"
echo "etcd: $("$etcd_bin" --version | head -1); tinykv-bench: $CLIENTS putters ($THREADS threads, $CONNS connections$( (( RATE > 0 )) && echo ", $RATE puts/s offered")), watchers on $WATCH_THREADS threads and $WATCH_CONNS connections (etcd: $WATCH_STREAMS streams), $TOTAL puts per watch point, $LEASE_CLIENTS lease clients and $LEASE_TOTAL keep-alives per lease point, ${VAL_SIZE} B values, ${KEY_SIZE} B keys, $RUNS runs, nice $NICE" | tee -a "$work/machine.txt"
for run in $(seq 1 "$RUNS"); do
  order="tinykv etcd"
  (( run % 2 == 0 )) && order="etcd tinykv"
  for mode in $MODES; do
    points=("${WATCHERS}")
    [[ $mode == lease ]] && points=(-)
    for n in ${points[*]}; do
      for backend in $order; do
        common=(--backend "$backend" --endpoints "$(eps_of "$backend")" --threads "$THREADS"
                --conns "$CONNS" --server-pids "$(pids_of "$backend")")
        if [[ $mode == watch ]]; then
          bench_point bench-watch.sh "run=$run" "run $run: $backend watch, $n watchers" \
            watch "${common[@]}" --clients "$CLIENTS" --total "$TOTAL" --watchers "$n" \
            --watch-streams "$WATCH_STREAMS" --watch-conns "$WATCH_CONNS" \
            --watch-threads "$WATCH_THREADS" --drain-ms "$DRAIN_MS" --key-size "$KEY_SIZE" \
            --val-size "$VAL_SIZE" --rate "$RATE"
        else
          bench_point bench-watch.sh "run=$run" "run $run: $backend lease keep-alives" \
            lease "${common[@]}" --clients "$LEASE_CLIENTS" --total "$LEASE_TOTAL"
        fi
      done
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/machine.txt"
[[ -n "${KEEP:-}" ]] && cp "$results" "$work/results.keep.txt"

.venv/bin/python - "$results" <<'PY'
import sys
sys.path.insert(0, "scripts")
from bench_results import errors, group, med, print_loads, ratio, read, runs
results = read(sys.argv[1])
rows = group(results, lambda r: (r["op"], int(r.get("watchers", -1)), r["backend"]))
print(f"\nTinyKV vs etcd: medians of {max(len(v) for v in rows.values())} runs; ratio = TinyKV / etcd. "
      "watch: events/s = events delivered to all watchers per second (first put to last event); "
      "latency after the put's ack (0 when the event came first), and after its send; "
      "puts/s with the watchers, and as a fraction of the 0-watcher rate. 0 watchers and lease: "
      "the requests' own rate and latency")
print("| mode | watchers | streams T / e | rate | TinyKV | etcd | ratio | p50 ms T / e | p99 ms T / e "
      "| p99 ratio | p50 after send ms T / e | puts/s T / e | puts vs 0 watchers T / e "
      "| server CPU us/request T / e | missing T / e | runs T; e | errors T / e |")
print("|---|---:|---|---|---:|---:|---:|---|---|---:|---|---|---|---|---|---|---|")
offered = {float(r["offered_ops_per_s"]) for r in results if r["op"] == "watch"}
if offered - {0.0}:
    print(f"open loop: {', '.join(f'{o:.0f}' for o in sorted(offered))} puts/s offered at the watch "
          "points; puts/s is the achieved rate, the puts' latency counts from each one's intended start")
base = {b: rows.get(("watch", 0, b)) for b in ("tinykv", "etcd")}
for op, n in sorted({(o, n) for o, n, _ in rows}, key=lambda k: (k[0] != "watch", k[1])):
    t, e = rows.get((op, n, "tinykv")), rows.get((op, n, "etcd"))
    if not t or not e:
        continue
    events = op == "watch" and n > 0
    field = "events_per_s" if events else "ops_per_s"
    p50, p99 = ("watch_p50_ms", "watch_p99_ms") if events else ("p50_ms", "p99_ms")
    to, eo = med(t, field), med(e, field)
    mode = "watch" if op == "watch" else "lease keep-alive"
    rate = "events/s" if events else "puts/s" if op == "watch" else "keep-alives/s"
    streams = f"{t[0]['watch_streams']} / {e[0]['watch_streams']}" if events else "-"
    cpu = "server_cpu_us_per_op"
    line = (f"| {mode} | {n if op == 'watch' else '-'} | {streams} | {rate} | {to:.0f} | {eo:.0f} | "
            f"{ratio(to, eo)} | {med(t, p50):.2f} / {med(e, p50):.2f} | "
            f"{med(t, p99):.2f} / {med(e, p99):.2f} | {ratio(med(t, p99), med(e, p99))} | ")
    if events:
        tp, ep = med(t, "ops_per_s"), med(e, "ops_per_s")
        tb, eb = (med(base[b], "ops_per_s") if base[b] else 0 for b in ("tinykv", "etcd"))
        line += (f"{med(t, 'watch_send_p50_ms'):.2f} / {med(e, 'watch_send_p50_ms'):.2f} | "
                 f"{tp:.0f} / {ep:.0f} | {ratio(tp, tb)} / {ratio(ep, eb)} | ")
    elif op == "watch":
        line += f"- | {to:.0f} / {eo:.0f} | 1 / 1 | "
    else:
        line += "- | - | - | "
    missing = (f"{sum(int(r['missing']) for r in t)} / {sum(int(r['missing']) for r in e)}"
               if op == "watch" else "-")
    line += (f"{med(t, cpu):.0f} / {med(e, cpu):.0f} | {missing} | {runs(t, field)}; "
             f"{runs(e, field)} | {errors(t)} / {errors(e)} |")
    print(line)
print_loads(results)
PY
