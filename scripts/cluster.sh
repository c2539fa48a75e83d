#!/usr/bin/env bash
# A local 3-node TinyKV cluster on loopback (ports 2379/2380, 22379/22380,
# 32379/32380, as etcd's Procfile does), data, logs and pid files under ./data.
#
#   scripts/cluster.sh              # start, wait until a leader serves reads, stay in the
#                                   # foreground; Ctrl-C stops every node cleanly
#   scripts/cluster.sh restart N    # (another terminal) stop node N if it runs -- also after
#                                   # a kill -9 -- and start it again on its ports and data
#   scripts/cluster.sh status       # each node's pid and `tinykv endpoint status`
#   scripts/cluster.sh stop         # stop every node (what Ctrl-C does)
#
#   TINYKV_DATA=/tmp/x scripts/cluster.sh
#   TINYKV_BIN_DIR=build/ci/phase6_prod scripts/cluster.sh    # unpackaged binaries
#
# "Up" means `tinykv endpoint health` passes on every node: each knows the
# leader and a linearizable read goes through (not a line found in old logs).
# Stopping goes followers first (each exits at once), then waits for the
# leader to notice it lost its quorum and step down (check-quorum, about one
# election timeout) before stopping it: a leader that is stopped while still
# leading tries to hand leadership over first, which with its followers gone
# can only time out.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
data="${TINYKV_DATA:-$root/data}"
bin_dir="${TINYKV_BIN_DIR:-}"
if [[ -z "$bin_dir" ]]; then
  bin_dir="$(.venv/bin/python -c 'import os, tinykv; print(os.path.join(os.path.dirname(tinykv.__file__), "bin"))')"
fi
server="$bin_dir/tinykv-server"
cli="$bin_dir/tinykv"
[[ -x "$server" ]] || { echo "cluster.sh: $server not found; run scripts/build.sh first" >&2; exit 1; }

ports=(2379 22379 32379)
peers=(2380 22380 32380)
ids=(1 2 3)
initial="1=127.0.0.1:${peers[0]},2=127.0.0.1:${peers[1]},3=127.0.0.1:${peers[2]}"
initial_client="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"
endpoints="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
endpoint() { echo "127.0.0.1:${ports[$1 - 1]}"; }
log_of() { echo "$data/logs/node$1.log"; }
pid_file() { echo "$data/node$1.pid"; }

# The pid of node $1 if it runs (a zombie -- exited, not yet reaped -- does not).
pid_of() {
  local f pid state
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]] || return 1
  echo "$pid"
}

# Node $1's role as it reports it ("" when it does not answer).
role_of() {
  "$cli" --endpoints "$(endpoint "$1")" --command-timeout 1s endpoint status 2>/dev/null |
    awk -F', ' '{print $3}'
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_node() {
  local id=$1 i=$(($1 - 1)) p
  for p in "${ports[$i]}" "${peers[$i]}"; do
    port_free "$p" || { echo "cluster.sh: port $p is in use (another cluster running?)" >&2; return 1; }
  done
  mkdir -p "$data/logs"
  echo "=== $(date '+%F %T') cluster.sh: starting node $id" >>"$(log_of "$id")"
  # setsid: Ctrl-C reaches this script only; it then stops the nodes in order.
  setsid "$server" --id "$id" --data-dir "$data/node$id" \
    --listen-client "127.0.0.1:${ports[$i]}" --listen-peer "127.0.0.1:${peers[$i]}" \
    --initial-cluster "$initial" --initial-cluster-client "$initial_client" \
    </dev/null >>"$(log_of "$id")" 2>&1 &
  echo $! >"$(pid_file "$id")"
}

# Waits until `tinykv endpoint health` passes on the given endpoints (30 s at most).
wait_healthy() {
  local eps=$1 id
  for _ in $(seq 1 300); do
    if "$cli" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1; then
      return 0
    fi
    for id in "${ids[@]}"; do
      if [[ -f "$(pid_file "$id")" ]] && ! pid_of "$id" >/dev/null; then
        echo "cluster.sh: node $id exited; the end of $(log_of "$id"):" >&2
        tail -5 "$(log_of "$id")" >&2
        return 1
      fi
    done
    sleep 0.1
  done
  echo "cluster.sh: not healthy after 30 s:" >&2
  "$cli" --endpoints "$eps" --command-timeout 1s endpoint health >&2 || true
  return 1
}

# SIGTERM to the given nodes, then waits for each to exit (SIGKILL after 20 s).
stop_nodes() {
  local id pid
  declare -A pids=()
  for id in "$@"; do
    pid="$(pid_of "$id")" || continue
    pids[$id]=$pid
    kill -TERM "$pid" 2>/dev/null || true
  done
  for id in "${!pids[@]}"; do
    pid=${pids[$id]}
    for _ in $(seq 1 200); do pid_of "$id" >/dev/null || break; sleep 0.1; done
    if pid_of "$id" >/dev/null; then
      echo "node $id did not exit within 20 s of SIGTERM: SIGKILL (log: $(log_of "$id"))"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    # Reaps it when it is a child of this shell; its exit code is in the log otherwise.
    if wait "$pid" 2>/dev/null; then echo "node $id stopped"; else
      rc=$?
      if [[ $rc -eq 127 ]]; then echo "node $id stopped"; else echo "node $id exited with $rc (log: $(log_of "$id"))"; fi
    fi
    rm -f "$(pid_file "$id")"
  done
}

stop_cluster() {
  local id leader="" followers=()
  for id in "${ids[@]}"; do
    pid_of "$id" >/dev/null || continue
    if [[ "$(role_of "$id")" == leader ]]; then leader=$id; else followers+=("$id"); fi
  done
  [[ ${#followers[@]} -gt 0 ]] && stop_nodes "${followers[@]}"
  if [[ -n "$leader" ]]; then
    # With its followers gone the leader steps down after about one election
    # timeout (check-quorum); stopped as a follower it has nothing to hand over.
    for _ in $(seq 1 50); do [[ "$(role_of "$leader")" == leader ]] || break; sleep 0.1; done
    stop_nodes "$leader"
  fi
}

status() {
  local id pid
  for id in "${ids[@]}"; do
    if pid="$(pid_of "$id")"; then echo "node $id: pid $pid, $(endpoint "$id"), log $(log_of "$id")"
    else echo "node $id: not running"; fi
  done
  "$cli" --endpoints "$endpoints" --command-timeout 1s -w table endpoint status || true
}

case "${1:-start}" in
  start) ;;
  restart)
    id="${2:-}"
    [[ "$id" =~ ^[123]$ ]] || { echo "usage: scripts/cluster.sh restart 1|2|3" >&2; exit 2; }
    stop_nodes "$id"
    start_node "$id"
    wait_healthy "$(endpoint "$id")"
    echo "node $id is up again (pid $(pid_of "$id")), $(endpoint "$id")"
    exit 0 ;;
  stop) stop_cluster; exit 0 ;;
  status) status; exit 0 ;;
  *) echo "usage: scripts/cluster.sh [start | restart N | status | stop]" >&2; exit 2 ;;
esac

for id in "${ids[@]}"; do
  if pid="$(pid_of "$id")"; then
    echo "cluster.sh: node $id already runs (pid $pid); scripts/cluster.sh stop first" >&2
    exit 1
  fi
done
sleeper=""
on_exit() {
  trap - INT TERM EXIT
  [[ -n "$sleeper" ]] && kill "$sleeper" 2>/dev/null
  echo
  echo "stopping the cluster (followers first, then the leader)..."
  stop_cluster
  exit "$1"
}
trap 'on_exit 0' INT TERM  # a requested stop
trap 'on_exit $?' EXIT     # a failed start
for id in "${ids[@]}"; do start_node "$id"; done
wait_healthy "$endpoints"

# The package's console scripts (tinykv, ...) live in .venv/bin.
path_dir="$root/.venv/bin"
[[ -n "${TINYKV_BIN_DIR:-}" ]] && path_dir="$bin_dir"
env_prefix=""
[[ -n "${TINYKV_DATA:-}" ]] && env_prefix="TINYKV_DATA=$data "
[[ -n "${TINYKV_BIN_DIR:-}" ]] && env_prefix+="TINYKV_BIN_DIR=$bin_dir "
cat <<MSG
TinyKV cluster is up: 3 nodes, data in $data
  endpoints: $endpoints
  logs:      tail -f $data/logs/node*.log
Try (in another terminal):
  export TINYKV_ENDPOINTS=$endpoints PATH=$path_dir:\$PATH
  tinykv put greeting hello
  tinykv get greeting
  tinykv -w json get --prefix g
  tinykv -w table endpoint status
  tinykv member list
  kill -9 \$(cat $data/node1.pid)   # the others elect a new leader if it led; your data stays
  ${env_prefix}scripts/cluster.sh restart 1    # and node 1 is back, caught up
  ${env_prefix}scripts/cluster.sh status
Press Ctrl-C to stop the cluster.
MSG
# Wait for Ctrl-C (nodes started later by `restart` are not children of this shell),
# or until `scripts/cluster.sh stop` from elsewhere removed every pid file.
while compgen -G "$data/node*.pid" >/dev/null; do
  sleep 2 &
  sleeper=$!
  wait "$sleeper" || true
done
trap - INT TERM EXIT
echo "every node was stopped; exiting"
