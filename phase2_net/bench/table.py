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
        return f"{v[0]:,.0f} · {v[1]:.3f} · {v[2]:.3f}" if v else "—"

    print("Each cell: calls/s · p50 ms · p99 ms (median of runs). The reference for the ratios is")
    print("redis PING (best of INLINE/MBULK) for 64 B and redis SET/GET (best) for 4 KiB.")
    print()
    print("| payload | callers | TinyKV echo | redis PING_INLINE | redis PING_MBULK | redis SET | "
          "redis GET | rps ratio | p99 ratio (<1 better) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (payload, c), v in sorted(tk.items()):
        row = {t: redis.get((t, payload, c)) for t in ("PING_INLINE", "PING_MBULK", "SET", "GET")}
        refs = [row[t] for t in (("PING_INLINE", "PING_MBULK") if payload <= 64 else ("SET", "GET"))
                if row[t]]
        ref = max(refs, key=lambda p: p[0]) if refs else None
        ratio = f"{v[0] / ref[0]:.2f}×" if ref else "—"
        p99_ratio = f"{v[2] / ref[2]:.2f}" if ref and ref[2] > 0 else "—"
        print(f"| {payload} B | {c} | {cell(v)} | {cell(row['PING_INLINE'])} | "
              f"{cell(row['PING_MBULK'])} | {cell(row['SET'])} | {cell(row['GET'])} | {ratio} | "
              f"{p99_ratio} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
