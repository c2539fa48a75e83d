#!/usr/bin/env bash
# The cost of TLS: the same 3-node TinyKV cluster setup twice on 127.0.0.1, one plaintext and
# one with mutual TLS on both the client and the peer ports (every client and every member
# presents a certificate; throwaway EC P-256 CA made here with the openssl CLI), driven by
# the same load generator (tinykv-bench, TinyKV backend, with --cacert/--cert/--key for the
# TLS cluster). RUNS times, for each op (put, linearizable get) and client count, runs
# plaintext and TLS back to back (the order alternates between runs) and prints one table of
# the medians: ops/s, p50/p99 latency, the servers' CPU per request (summed over the three
# processes, from /proc) and the ratios TLS / plaintext. With ETCD=1 the same for etcd
# (Debian's etcd-server, two 3-member clusters, mutual TLS with etcd's own flags of the
# same names, the bench's gRPC backend with the same certificates).
#
#   scripts/bench-tls.sh                     # after scripts/build.sh
#   RUNS=5 CLIENTS="1 64" scripts/bench-tls.sh
#   ETCD=1 scripts/bench-tls.sh              # also etcd, plaintext vs TLS
#
# Settings (environment): CLIENTS (64), OPS (put get), RUNS (3), THREADS (2 generator
# threads), CONNS (2 connections, in total), VAL_SIZE (256), KEY_SIZE (8), KEYS (1000: the
# get key space), TOTAL (requests per point; default max(4000, 400 x clients)), BENCH_DIR
# (where the temp dir goes), KEEP=1 keeps it (logs, raw output).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/bench-lib.sh
bench_require bench-tls.sh "$bench" "$server"
command -v openssl >/dev/null || { echo "bench-tls.sh: the openssl command is needed" >&2; exit 1; }
CLIENTS="${CLIENTS:-64}"
OPS="${OPS:-put get}"
RUNS="${RUNS:-3}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-2}"
VAL_SIZE="${VAL_SIZE:-256}"
KEY_SIZE="${KEY_SIZE:-8}"
KEYS="${KEYS:-1000}"
NICE=0  # bench_point's nice value: this comparison runs at the default priority
mkdir -p "$root/data"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-tls-XXXXXX")"
results="$work/results.txt"
: >"$results"
pids_plain=()
pids_tls=()
pids_etcd_plain=()
pids_etcd_tls=()
cleanup() {
  bench_stop "${pids_plain[@]}" "${pids_tls[@]}" "${pids_etcd_plain[@]}" "${pids_etcd_tls[@]}"
  [[ -n "${KEEP:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The throwaway CA and certificates (node certificates serve and dial: both usages).
pki="$work/pki"
mkdir -p "$pki"
issue() {
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$pki/$1.ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1.key" 2>/dev/null
  openssl req -new -key "$pki/$1.key" -subj "/CN=$1" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.pem" 2>/dev/null
}
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
openssl req -x509 -new -key "$pki/ca.key" -subj /CN=bench-ca -days 2 -out "$pki/ca.pem" 2>/dev/null
for n in node1 node2 node3 client; do issue "$n"; done
tls_client=(--cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key")

# Fixed ports below the ephemeral range (32768 and up), so that no outgoing connection of
# this machine holds one: 21xxx plaintext, 22xxx TLS, 23xxx/24xxx etcd; member i is 2x0i1
# (client) and 2x0i2 (peer).
plain_cluster="1=127.0.0.1:21012,2=127.0.0.1:21022,3=127.0.0.1:21032"
plain_eps="127.0.0.1:21011,127.0.0.1:21021,127.0.0.1:21031"
tls_cluster="1=https://127.0.0.1:22012,2=https://127.0.0.1:22022,3=https://127.0.0.1:22032"
tls_eps="https://127.0.0.1:22011,https://127.0.0.1:22021,https://127.0.0.1:22031"
for i in 1 2 3; do
  "$server" --id "$i" --data-dir "$work/plain$i" --listen-client "127.0.0.1:210${i}1" \
    --listen-peer "127.0.0.1:210${i}2" --initial-cluster "$plain_cluster" \
    --initial-cluster-client "1=127.0.0.1:21011,2=127.0.0.1:21021,3=127.0.0.1:21031" \
    --log-level warn >"$work/plain$i.log" 2>&1 &
  pids_plain+=($!)
  "$server" --id "$i" --data-dir "$work/tls$i" --listen-client "https://127.0.0.1:220${i}1" \
    --listen-peer "https://127.0.0.1:220${i}2" --initial-cluster "$tls_cluster" \
    --initial-cluster-client "1=127.0.0.1:22011,2=127.0.0.1:22021,3=127.0.0.1:22031" \
    --cert-file "$pki/node$i.pem" --key-file "$pki/node$i.key" --trusted-ca-file "$pki/ca.pem" \
    --client-cert-auth --peer-cert-file "$pki/node$i.pem" --peer-key-file "$pki/node$i.key" \
    --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth \
    --log-level warn >"$work/tls$i.log" 2>&1 &
  pids_tls+=($!)
done

modes="plain tls"
if [[ -n "${ETCD:-}" ]]; then
  etcd_bin="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"
  [[ -x "$etcd_bin" ]] || { echo "bench-tls.sh: etcd not found (scripts/install-deps.sh)" >&2; exit 1; }
  modes="$modes etcd-plain etcd-tls"
  ep_cluster="e1=http://127.0.0.1:23012,e2=http://127.0.0.1:23022,e3=http://127.0.0.1:23032"
  et_cluster="e1=https://127.0.0.1:24012,e2=https://127.0.0.1:24022,e3=https://127.0.0.1:24032"
  for i in 1 2 3; do
    "$etcd_bin" --name "e$i" --data-dir "$work/etcd-plain$i" \
      --listen-client-urls "http://127.0.0.1:230${i}1" --advertise-client-urls "http://127.0.0.1:230${i}1" \
      --listen-peer-urls "http://127.0.0.1:230${i}2" --initial-advertise-peer-urls "http://127.0.0.1:230${i}2" \
      --initial-cluster "$ep_cluster" --initial-cluster-state new --initial-cluster-token bench-plain \
      --log-level error >"$work/etcd-plain$i.log" 2>&1 &
    pids_etcd_plain+=($!)
    "$etcd_bin" --name "e$i" --data-dir "$work/etcd-tls$i" \
      --listen-client-urls "https://127.0.0.1:240${i}1" --advertise-client-urls "https://127.0.0.1:240${i}1" \
      --listen-peer-urls "https://127.0.0.1:240${i}2" --initial-advertise-peer-urls "https://127.0.0.1:240${i}2" \
      --initial-cluster "$et_cluster" --initial-cluster-state new --initial-cluster-token bench-tls \
      --cert-file "$pki/node$i.pem" --key-file "$pki/node$i.key" --trusted-ca-file "$pki/ca.pem" \
      --client-cert-auth --peer-cert-file "$pki/node$i.pem" --peer-key-file "$pki/node$i.key" \
      --peer-trusted-ca-file "$pki/ca.pem" --peer-client-cert-auth \
      --log-level error >"$work/etcd-tls$i.log" 2>&1 &
    pids_etcd_tls+=($!)
  done
fi

args_of() {
  case $1 in
    plain) echo "--endpoints $plain_eps" ;;
    tls) echo "--endpoints $tls_eps ${tls_client[*]}" ;;
    etcd-plain) echo "--backend etcd --endpoints 127.0.0.1:23011,127.0.0.1:23021,127.0.0.1:23031" ;;
    etcd-tls) echo "--backend etcd --endpoints 127.0.0.1:24011,127.0.0.1:24021,127.0.0.1:24031 ${tls_client[*]}" ;;
  esac
}
pids_of() {
  local IFS=,
  case $1 in
    plain) echo "${pids_plain[*]}" ;;
    tls) echo "${pids_tls[*]}" ;;
    etcd-plain) echo "${pids_etcd_plain[*]}" ;;
    etcd-tls) echo "${pids_etcd_tls[*]}" ;;
  esac
}

# Wait until every cluster has a leader and serves a write.
for mode in $modes; do
  ok=
  for _ in $(seq 1 150); do
    # shellcheck disable=SC2046
    if "$bench" put $(args_of "$mode") --total 1 --timeout-ms 2000 >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.2
  done
  [[ -n $ok ]] || { echo "bench-tls.sh: the $mode cluster did not come up (logs in $work)" >&2; KEEP=1; exit 1; }
done

echo "machine: $(nproc) cores, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$work/machine.txt"
echo "tinykv-bench: $THREADS threads, $CONNS connections, ${VAL_SIZE} B values, ${KEY_SIZE} B keys, $RUNS runs; $(openssl version)" | tee -a "$work/machine.txt"
for run in $(seq 1 "$RUNS"); do
  order="$modes"
  (( run % 2 == 0 )) && order="$(echo "$modes" | tr ' ' '\n' | tac | tr '\n' ' ')"
  for op in $OPS; do
    for c in $CLIENTS; do
      total=$(( c * 400 > 4000 ? c * 400 : 4000 )); total=${TOTAL:-$total}
      for mode in $order; do
        extra=()
        [[ $op == get ]] && extra=(--consistency l --key-space-size "$KEYS")
        # shellcheck disable=SC2046
        bench_point bench-tls.sh "run=$run mode=$mode" "run $run: $mode $op clients=$c total=$total" \
          "$op" $(args_of "$mode") --clients "$c" --threads "$THREADS" --conns "$CONNS" \
          --total "$total" --key-size "$KEY_SIZE" --val-size "$VAL_SIZE" \
          --server-pids "$(pids_of "$mode")" "${extra[@]}"
      done
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/machine.txt"

.venv/bin/python - "$results" <<'PY'
import sys
sys.path.insert(0, "scripts")
from bench_results import errors, group, med, print_loads, ratio, read, runs
results = read(sys.argv[1])
rows = group(results, lambda r: (r["op"], int(r["clients"]), r["mode"]))
print(f"\nTLS (mutual, client and peer ports) vs plaintext: medians of "
      f"{max(len(v) for v in rows.values())} runs; ratio = TLS / plaintext")
print("| system | op | clients | plaintext ops/s | TLS ops/s | ratio | p50 ms plain / TLS | p99 ms plain / TLS "
      "| server CPU us/op plain / TLS | CPU ratio | runs ops/s plain; TLS | errors plain / TLS |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
for system, plain, tls in (("TinyKV", "plain", "tls"), ("etcd", "etcd-plain", "etcd-tls")):
    for op, c in sorted({(o, c) for o, c, _ in rows}, key=lambda k: (not k[0].startswith("put"), k)):
        p, t = rows.get((op, c, plain)), rows.get((op, c, tls))
        if not p or not t:
            continue
        po, to = med(p, "ops_per_s"), med(t, "ops_per_s")
        pc, tc = med(p, "server_cpu_us_per_op"), med(t, "server_cpu_us_per_op")
        name = {"get-l": "get (linearizable)", "get-s": "get (serializable)"}.get(op, op)
        print(f"| {system} | {name} | {c} | {po:.0f} | {to:.0f} | {ratio(to, po)} | "
              f"{med(p, 'p50_ms'):.2f} / {med(t, 'p50_ms'):.2f} | {med(p, 'p99_ms'):.2f} / {med(t, 'p99_ms'):.2f} | "
              f"{pc:.0f} / {tc:.0f} | {ratio(tc, pc)} | {runs(p)}; {runs(t)} | {errors(p)} / {errors(t)} |")
print_loads(results)
PY
