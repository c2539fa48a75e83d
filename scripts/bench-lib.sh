# Shared by the benchmark scripts (bench-etcd.sh, bench-tls.sh, bench-txn.sh,
# bench-watch.sh), which source it: the packaged binaries, a 3-node TinyKV cluster and a
# 3-member etcd cluster on 127.0.0.1 with default settings, free ports for them, one
# measured point, and stopping what a script started. Sourcing runs nothing but the
# binary lookup. Their tables are made by bench_results.py.
#
#   source "$root/scripts/bench-lib.sh"    # sets bin_dir, bench, server; from the repo root
#   bench_require NAME FILE...             # exits naming NAME when a binary is missing
#   tinykv_start DIR NICE PORT             # nodes 1-3: client port ${i}PORT, peer port
#                                          # ${i}(PORT+1), data DIR/tinykv$i, log DIR/tinykv$i.log;
#                                          # appends the pids to tk_pids, sets tk_eps and
#                                          # tk_pid_list (comma-separated, for --server-pids);
#                                          # with tk_etcd_port set, each node also serves etcd's
#                                          # API on ${i}tk_etcd_port (tk_etcd_eps)
#   etcd_start DIR NICE PORT BIN           # members e1-e3 (etcd binary BIN): client port
#                                          # ${i}PORT, peer port ${i}(PORT+1), data DIR/etcd$i,
#                                          # log DIR/etcd$i.log; appends the pids to etcd_pids,
#                                          # sets etcd_eps and etcd_pid_list
#   bench_free_port PORT                   # PORT, or the first of PORT+10, PORT+20, ... such
#                                          # that nothing listens on ${i}PORT or ${i}(PORT+1),
#                                          # i = 1..3 (a cluster's ports, as above)
#   bench_wait_up NAME BACKEND EPS DIR     # until one put goes through (30 s), else exits
#   bench_point NAME TAGS WHAT ARG...      # one point: tinykv-bench ARG... (nice $NICE), its
#                                          # output appended to $work/bench.log, its RESULT
#                                          # line to $results with "TAGS load=<1-min load>" in
#                                          # front; a failed point is reported, the run goes on
#   bench_stop PID...                      # SIGTERM to each, then waits for them
bin_dir="${TINYKV_BIN_DIR:-$(.venv/bin/python -c 'import os, tinykv; print(os.path.join(os.path.dirname(tinykv.__file__), "bin"))')}"
bench="$bin_dir/tinykv-bench"
server="$bin_dir/tinykv-server"
tk_pids=()
tk_eps=""
tk_pid_list=""
tk_etcd_port=""
tk_etcd_eps=""
etcd_pids=()
etcd_eps=""
etcd_pid_list=""

bench_require() {
  local name=$1 b
  shift
  for b in "$@"; do
    [[ -x "$b" ]] || { echo "$name: $b not found (scripts/build.sh; scripts/install-deps.sh for etcd)" >&2; exit 1; }
  done
}

tinykv_start() {
  local dir=$1 nice=$2 port=$3 i cluster="" client="" eps="" etcd_api=()
  for i in 1 2 3; do
    cluster+="${cluster:+,}$i=127.0.0.1:${i}$((port + 1))"
    client+="${client:+,}$i=127.0.0.1:${i}${port}"
    eps+="${eps:+,}127.0.0.1:${i}${port}"
  done
  for i in 1 2 3; do
    etcd_api=()
    if [[ -n "$tk_etcd_port" ]]; then
      etcd_api=(--listen-etcd "127.0.0.1:${i}${tk_etcd_port}")
      tk_etcd_eps+="${tk_etcd_eps:+,}127.0.0.1:${i}${tk_etcd_port}"
    fi
    nice -n "$nice" "$server" --id "$i" --data-dir "$dir/tinykv$i" --listen-client "127.0.0.1:${i}${port}" \
      --listen-peer "127.0.0.1:${i}$((port + 1))" --initial-cluster "$cluster" \
      --initial-cluster-client "$client" --log-level warn "${etcd_api[@]}" >"$dir/tinykv$i.log" 2>&1 &
    tk_pids+=($!)
  done
  tk_eps=$eps
  tk_pid_list=$(IFS=,; echo "${tk_pids[*]}")
}

etcd_start() {
  local dir=$1 nice=$2 port=$3 bin=$4 i cluster="" eps=""
  for i in 1 2 3; do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:${i}$((port + 1))"
    eps+="${eps:+,}127.0.0.1:${i}${port}"
  done
  for i in 1 2 3; do
    nice -n "$nice" "$bin" --name "e$i" --data-dir "$dir/etcd$i" \
      --listen-client-urls "http://127.0.0.1:${i}${port}" --advertise-client-urls "http://127.0.0.1:${i}${port}" \
      --listen-peer-urls "http://127.0.0.1:${i}$((port + 1))" \
      --initial-advertise-peer-urls "http://127.0.0.1:${i}$((port + 1))" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token tinykv-bench \
      --log-level error >"$dir/etcd$i.log" 2>&1 &
    etcd_pids+=($!)
  done
  etcd_eps=$eps
  etcd_pid_list=$(IFS=,; echo "${etcd_pids[*]}")
}

bench_free_port() {
  local port=$1 listening i p busy
  listening=" $(ss -Htln 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}')"
  while :; do
    busy=0
    for i in 1 2 3; do
      for p in "${i}${port}" "${i}$((port + 1))"; do
        [[ $listening == *" $p "* ]] && busy=1
      done
    done
    (( busy == 0 )) && { echo "$port"; return 0; }
    port=$((port + 10))
  done
}

bench_wait_up() {
  local name=$1 backend=$2 eps=$3 dir=$4
  for _ in $(seq 1 150); do
    "$bench" put --backend "$backend" --endpoints "$eps" --total 1 --timeout-ms 2000 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$name: the $backend cluster did not come up (logs in $dir)" >&2
  KEEP=1
  exit 1
}

bench_point() {
  local name=$1 tags=$2 what=$3 load
  shift 3
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "== $what (load $load)" >&2
  nice -n "${NICE:-0}" "$bench" "$@" >"$work/out.txt" 2>&1 || true
  cat "$work/out.txt" >>"$work/bench.log"
  if grep -q '^RESULT' "$work/out.txt"; then
    grep '^RESULT' "$work/out.txt" | sed "s/^RESULT /RESULT $tags load=$load /" >>"$results"
  else
    echo "$name: $what failed:" >&2
    cat "$work/out.txt" >&2
  fi
}

bench_stop() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}
