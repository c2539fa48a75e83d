#!/usr/bin/env bash
# Starts a local 3-node TinyKV cluster on loopback (ports 2379/2380, 22379/22380,
# 32379/32380, as etcd's Procfile does), data and logs under ./data of the repo,
# prints the endpoints and some CLI commands to try, and stops every node cleanly
# (SIGTERM: leadership transfer, drain, exit 0) on Ctrl-C.
#
#   scripts/cluster.sh            # after scripts/build.sh; scripts/run.sh does both
#   TINYKV_DATA=/tmp/x scripts/cluster.sh
#   TINYKV_BIN_DIR=build/ci/phase6_prod scripts/cluster.sh
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
initial="1=127.0.0.1:${peers[0]},2=127.0.0.1:${peers[1]},3=127.0.0.1:${peers[2]}"
initial_client="1=127.0.0.1:${ports[0]},2=127.0.0.1:${ports[1]},3=127.0.0.1:${ports[2]}"
for p in "${ports[@]}" "${peers[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "cluster.sh: port $p is in use (another cluster running?)" >&2
    exit 1
  fi
done
mkdir -p "$data/logs"

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping the cluster (SIGTERM to every node)..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  rc=0
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then echo "node $((i + 1)) exited cleanly"
    else rc=$?; echo "node $((i + 1)) exited with $rc (log: $data/logs/node$((i + 1)).log)"; fi
  done
  exit 0
}
trap stop INT TERM EXIT

for i in 0 1 2; do
  id=$((i + 1))
  # setsid: Ctrl-C reaches this script only; it then stops the nodes in order.
  setsid "$server" --id "$id" --data-dir "$data/node$id" \
    --listen-client "127.0.0.1:${ports[$i]}" --listen-peer "127.0.0.1:${peers[$i]}" \
    --initial-cluster "$initial" --initial-cluster-client "$initial_client" >>"$data/logs/node$id.log" 2>&1 &
  pids+=($!)
done

endpoints="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
for _ in $(seq 1 100); do
  if grep -q "became leader" "$data"/logs/node*.log 2>/dev/null; then break; fi
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "node $((i + 1)) died:"; tail -5 "$data/logs/node$((i + 1)).log"; exit 1; }
  done
  sleep 0.1
done

cat <<MSG
TinyKV cluster is up: 3 nodes, data in $data
  endpoints: $endpoints
  logs:      tail -f $data/logs/node*.log
Try (in another terminal):
  export TINYKV_ENDPOINTS=$endpoints PATH=$bin_dir:\$PATH
  tinykv put greeting hello
  tinykv get greeting
  tinykv -w json get --prefix g
  tinykv -w table endpoint status
  tinykv member list
  kill -9 <pid of the leader>     # the others elect a new leader; your data stays
  node pids: ${pids[*]}
Press Ctrl-C to stop the cluster.
MSG
wait
