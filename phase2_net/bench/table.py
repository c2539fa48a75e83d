"""Merges tinykv-net-bench and redis-benchmark CSVs into the README table.

tinykv.csv rows are already medians over runs; redis.csv has one row per run,
reduced here to the median per (test, payload, concurrency).
"""

import csv
import statistics
import sys
from collections import defaultdict


def main(tinykv_csv, redis_csv):
    tk = {}
    with open(tinykv_csv) as f:
        for r in csv.DictReader(f):
            tk[(int(r["payload_bytes"]), int(r["concurrency"]))] = (
                float(r["rps"]), float(r["p50_ms"]), float(r["p99_ms"]))
    runs = defaultdict(list)
    with open(redis_csv) as f:
        for r in csv.DictReader(f):
            runs[(r["test"], int(r["payload_bytes"]), int(r["concurrency"]))].append(
                (float(r["rps"]), float(r["p50_ms"]), float(r["p99_ms"])))
    redis = {k: tuple(statistics.median(x[i] for x in v) for i in range(3))
             for k, v in runs.items()}

    def cell(v):
        return f"{v[0]:>9,.0f} | {v[1]:.3f} | {v[2]:.3f}"

    print("| payload | callers | TinyKV echo rps / p50 ms / p99 ms | redis PING_INLINE | "
          "redis PING_MBULK | redis SET | redis GET | echo ÷ best PING (rps) | "
          "echo ÷ PING_MBULK (p99, lower is better) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (payload, c), v in sorted(tk.items()):
        ping_i = redis.get(("PING_INLINE", payload, c))
        ping_m = redis.get(("PING_MBULK", payload, c))
        set_ = redis.get(("SET", payload, c))
        get = redis.get(("GET", payload, c))
        pings = [p for p in (ping_i, ping_m) if p]
        best = max(pings, key=lambda p: p[0]) if pings else None
        fmt = lambda p: cell(p) if p else "—"  # noqa: E731
        ratio = f"{v[0] / best[0]:.2f}×" if best else "—"
        p99_ratio = f"{v[2] / ping_m[2]:.2f}" if ping_m and ping_m[2] > 0 else "—"
        print(f"| {payload} B | {c} | {cell(v)} | {fmt(ping_i)} | {fmt(ping_m)} | {fmt(set_)} | "
              f"{fmt(get)} | {ratio} | {p99_ratio} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
