#!/usr/bin/env bash
# TinyKV vs etcd on this machine, same load generator (tinykv-bench), same settings.
#
# Starts a 3-member etcd cluster (Debian's etcd-server) and a 3-node TinyKV cluster on
# loopback, data for both under one temp dir on the same disk (default under ./data of the
# repo), then drives them one after the other: put and linearizable get, 256-byte values,
# 1, 16, 64 and 256 clients. Prints the side-by-side table with ratios (TinyKV / etcd:
# above 1 is better for TinyKV in throughput, below 1 is better in latency).
#
#   scripts/bench-etcd.sh                    # after scripts/build.sh
#   CLIENTS="1 64" TOTAL=20000 scripts/bench-etcd.sh
#
# etcd is driven through its v3 HTTP/JSON gateway (see phase6_prod/bench/etcd_backend.cc
# for what that costs it); both run with their default fsync-per-commit durability.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin_dir="${TINYKV_BIN_DIR:-$(.venv/bin/python -c 'import os, tinykv; print(os.path.join(os.path.dirname(tinykv.__file__), "bin"))')}"
bench="$bin_dir/tinykv-bench"
server="$bin_dir/tinykv-server"
etcd_bin="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"
for b in "$bench" "$server" "$etcd_bin"; do
  [[ -x "$b" ]] || { echo "bench-etcd.sh: $b not found (build, or apt-get install etcd-server)" >&2; exit 1; }
done
CLIENTS="${CLIENTS:-1 16 64 256}"
OPS="${OPS:-put get}"
VAL_SIZE="${VAL_SIZE:-256}"
KEY_SIZE="${KEY_SIZE:-8}"
CONNS="${CONNS:-16}"
mkdir -p "$root/data"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-XXXXXX")"
results="$work/results.txt"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

etcd_cluster="e1=http://127.0.0.1:12380,e2=http://127.0.0.1:22380,e3=http://127.0.0.1:32380"
etcd_eps="127.0.0.1:12379,127.0.0.1:22379,127.0.0.1:32379"
for i in 1 2 3; do
  "$etcd_bin" --name "e$i" --data-dir "$work/etcd$i" \
    --listen-client-urls "http://127.0.0.1:${i}2379" --advertise-client-urls "http://127.0.0.1:${i}2379" \
    --listen-peer-urls "http://127.0.0.1:${i}2380" --initial-advertise-peer-urls "http://127.0.0.1:${i}2380" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token tinykv-bench \
    --log-level error >"$work/etcd$i.log" 2>&1 &
  pids+=($!)
done
tk_cluster="1=127.0.0.1:14380,2=127.0.0.1:24380,3=127.0.0.1:34380"
tk_eps="127.0.0.1:14379,127.0.0.1:24379,127.0.0.1:34379"
tk_client="1=127.0.0.1:14379,2=127.0.0.1:24379,3=127.0.0.1:34379"
for i in 1 2 3; do
  "$server" --id "$i" --data-dir "$work/tinykv$i" --listen-client "127.0.0.1:${i}4379" \
    --listen-peer "127.0.0.1:${i}4380" --initial-cluster "$tk_cluster" --initial-cluster-client "$tk_client" --log-level warn \
    >"$work/tinykv$i.log" 2>&1 &
  pids+=($!)
done

# Wait until both clusters serve a write.
for target in etcd tinykv; do
  eps=$([[ $target == etcd ]] && echo "$etcd_eps" || echo "$tk_eps")
  for _ in $(seq 1 100); do
    if "$bench" put --target "$target" --endpoints "$eps" --total 1 >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
done

echo "machine: $(nproc) cores, $(uname -r); data in $work"
echo "etcd: $("$etcd_bin" --version | head -1)"
for op in $OPS; do
  for c in $CLIENTS; do
    total=$(( c < 16 ? 2000 : c * 200 )); total=${TOTAL:-$total}
    for target in etcd tinykv; do
      eps=$([[ $target == etcd ]] && echo "$etcd_eps" || echo "$tk_eps")
      extra=()
      [[ $op == get ]] && extra=(--consistency l --key-space-size 1000)
      echo "== $target $op clients=$c total=$total" >&2
      "$bench" "$op" --target "$target" --endpoints "$eps" --clients "$c" --conns "$CONNS" \
        --total "$total" --key-size "$KEY_SIZE" --val-size "$VAL_SIZE" "${extra[@]}" \
        | tee -a "$work/bench.log" | grep '^RESULT' >>"$results" || true
    done
  done
done

.venv/bin/python - "$results" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split()[1:])
    rows[(kv["op"], int(kv["clients"]), kv["target"])] = kv
print()
print("| op | clients | etcd ops/s | TinyKV ops/s | ratio | etcd p50 ms | TinyKV p50 ms | etcd p99 ms | TinyKV p99 ms | p99 ratio | errors e/t |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for (op, c) in sorted({(o, c) for o, c, _ in rows}, key=lambda x: (x[0], x[1])):
    e, t = rows.get((op, c, "etcd")), rows.get((op, c, "tinykv"))
    if not e or not t:
        continue
    f = lambda r, k: float(r[k])
    ratio = f(t, "ops_per_s") / max(f(e, "ops_per_s"), 1e-9)
    p99r = f(t, "p99_ms") / max(f(e, "p99_ms"), 1e-9)
    print(f"| {op} | {c} | {f(e,'ops_per_s'):.0f} | {f(t,'ops_per_s'):.0f} | {ratio:.2f} | "
          f"{f(e,'p50_ms'):.2f} | {f(t,'p50_ms'):.2f} | {f(e,'p99_ms'):.2f} | {f(t,'p99_ms'):.2f} | "
          f"{p99r:.2f} | {e['errors']}/{t['errors']} |")
PY
