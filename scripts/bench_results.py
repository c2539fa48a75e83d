"""The RESULT lines a bench-*.sh script collected, read back for its table of medians.

Each line is tinykv-bench's ``RESULT key=value ...`` (phase6_prod/bench/bench_main.cc),
with the script's own fields (run=, load=, ...) put in front. The scripts run from the
repository root and import this with ``sys.path.insert(0, "scripts")``.
"""

import statistics
from collections import defaultdict


def read(path: str) -> list[dict]:
    """Every line of ``path`` as a dict of its key=value fields."""
    return [dict(p.split("=", 1) for p in line.split()[1:]) for line in open(path) if line.strip()]


def group(results: list[dict], key) -> dict:
    """The results by ``key(result)``, in the order read."""
    rows = defaultdict(list)
    for r in results:
        rows[key(r)].append(r)
    return rows


def med(rs: list[dict], field: str) -> float:
    return statistics.median(float(r[field]) for r in rs)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


def runs(rs: list[dict], field: str = "ops_per_s") -> str:
    """Each run's value, for the table's "runs" column."""
    return ", ".join(f"{float(r[field]):.0f}" for r in rs)


def errors(rs: list[dict]) -> int:
    return sum(int(r["errors"]) for r in rs)


def print_loads(results: list[dict]) -> None:
    """The load average the points started at (nothing when none was recorded)."""
    loads = [float(r["load"]) for r in results if "load" in r]
    if loads:
        print(f"\nload average (1 min) at the start of each point: median "
              f"{statistics.median(loads):.1f}, range {min(loads):.1f}-{max(loads):.1f}")
