#!/usr/bin/env bash
# The replication layer's write benchmark (tinykv_raft_real_bench: three real
# replicas in one process on loopback, fsync on, closed-loop clients writing
# 256-byte values), optionally side by side with another build of it.
#
#   scripts/bench-raft.sh                          # this build, 1 group
#   RAFT_GROUPS=3 scripts/bench-raft.sh                 # 3 groups over 3 shared peer hosts
#   scripts/bench-raft.sh OTHER/tinykv_raft_real_bench
#       # ROUNDS rounds, each running both binaries back to back (the order
#       # swapped every round), then one table of medians with the ratio
#       # this build / the other (writes/s above 1 favours this build)
#
# Settings (environment): CLIENTS (1,16,64), LEVEL_SECONDS (4 per level), ROUNDS (3),
# RAFT_GROUPS (1), BENCH_DIR (where the data goes; default ./data of the repo).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
this="${TINYKV_RAFT_BENCH:-build/ci/phase3_raft/tinykv_raft_real_bench}"
other="${1:-}"
[[ -x "$this" ]] || { echo "bench-raft.sh: $this not found (scripts/build.sh)" >&2; exit 1; }
[[ -z "$other" || -x "$other" ]] || { echo "bench-raft.sh: $other is not executable" >&2; exit 1; }
CLIENTS="${CLIENTS:-1,16,64}"
SECONDS_PER_LEVEL="${LEVEL_SECONDS:-4}"
ROUNDS="${ROUNDS:-3}"
NGROUPS="${RAFT_GROUPS:-1}"
mkdir -p "${BENCH_DIR:-$root/data}"
work="$(mktemp -d "${BENCH_DIR:-$root/data}/bench-raft-XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM

run() {  # run LABEL BINARY ROUND
  local args=(--dir "$work/$1" --seconds "$SECONDS_PER_LEVEL" --clients "$CLIENTS")
  # --groups exists only in builds with the replication layer; pass it when asked for.
  [[ "$NGROUPS" != 1 ]] && args+=(--groups "$NGROUPS")
  echo "== round $3: $1 ($2)" >&2
  "$2" "${args[@]}" | tee -a "$work/$1.out" >&2
}

if [[ -z "$other" ]]; then
  run this "$this" 1
  exit 0
fi
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then run this "$this" "$r"; run other "$other" "$r"
  else run other "$other" "$r"; run this "$this" "$r"; fi
done
.venv/bin/python - "$work/this.out" "$work/other.out" <<'EOF'
import re, statistics, sys

def rows(path):
    """clients -> list of (writes/s, p50, p99) over the rounds."""
    out = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].isdigit():
            out.setdefault(int(cells[0]), []).append(tuple(float(x) for x in cells[1:4]))
    return out

def fsync_rates(path):
    return [float(m.group(1)) for m in re.finditer(r"raw fsync rate.*?: (\d+) fdatasync/s", open(path).read())]

this, other = rows(sys.argv[1]), rows(sys.argv[2])
med = lambda xs, i: statistics.median(x[i] for x in xs)
print(f"\nraw fsync rate over the run (fdatasync/s, each probe): {fsync_rates(sys.argv[1]) + fsync_rates(sys.argv[2])}")
print("| clients | writes/s this | writes/s other | ratio | p50 ms this / other | p99 ms this / other | rounds writes/s this; other |")
print("|--:|--:|--:|--:|--:|--:|---|")
for c in sorted(this):
    t, o = this[c], other.get(c, [])
    if not o:
        continue
    ratio = med(t, 0) / med(o, 0) if med(o, 0) else float("nan")
    print(f"| {c} | {med(t, 0):.0f} | {med(o, 0):.0f} | {ratio:.2f} | {med(t, 1):.2f} / {med(o, 1):.2f} "
          f"| {med(t, 2):.2f} / {med(o, 2):.2f} | {', '.join(f'{x[0]:.0f}' for x in t)}; "
          f"{', '.join(f'{x[0]:.0f}' for x in o)} |")
EOF
