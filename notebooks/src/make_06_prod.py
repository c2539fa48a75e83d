"""Generates notebooks/06_prod.ipynb (outputs stripped). Run from anywhere:

    .venv/bin/python notebooks/src/make_06_prod.py
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "06_prod.ipynb"

cells = [
    new_markdown_cell("""\
# 06 · Operating a cluster: health, Prometheus metrics over a failover, latency vs throughput

**Goal.** Look at a live 3-node TinyKV cluster the way an operator does: through each
server's HTTP monitoring port (phase 6, `tinykv-server --listen-metrics`). Read `/health`
and `/debug/raft`; scrape `/metrics` in the Prometheus text format and read the counters,
gauges and histograms; sample every node's metrics ten times a second while the leader is
killed and restarted under a steady write load, and see the failover in them; finally
drive the cluster with `tinykv-bench` in **open loop** at rising offered rates and draw
its latency-vs-throughput curve; last, follow one put through three nodes' logs by its
trace id.

**Prerequisites.** The `tinykv` package built and installed into the venv
(`bash scripts/build.sh`); it ships `tinykv-server` and `tinykv-bench`. Reference:
`phase6_prod/README.md` ("Monitoring", "tinykv-bench and etcd") and
`phase6_prod/doc/metrics.md` (every endpoint and metric, with its etcd counterpart).
Background: Ongaro & Ousterhout, *In Search of an Understandable Consensus Algorithm*
(§5.2 leader election, §5.3 log replication); the Prometheus documentation on the text
exposition format and on histograms (`histogram_quantile`); Gil Tene, *How NOT to Measure
Latency* (coordinated omission).

**Runtime.** About 15–30 seconds, most of it the benchmark (each of its points runs for a
second or a little more). The cluster's data lives in a temporary directory deleted at the
end."""),
    new_markdown_cell("""\
## 0. A cluster with its monitoring ports

`tinykv.testing.Cluster(metrics=True)` starts three `tinykv-server` processes on free
loopback ports and gives each a third port for `--listen-metrics`; `c.metrics_url(i)` is
node i's `http://127.0.0.1:port`. Each server's log goes to `node<i>.log` under our
temporary directory, and the client's C++ log lines to `client.log`, so that none lands
in a cell. The servers die with this kernel even if the last cell never runs.

The cluster and the temporary directory are context managers; an `ExitStack` holds both
so that the last cell closes them in the right order (servers first, then the files)."""),
    new_code_cell("""\
import contextlib
import json
import re
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import matplotlib.pyplot as plt

import tinykv
from tinykv import testing
from tinykv.testing import wait_until

stack = contextlib.ExitStack()
root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tinykv-nb06-")))
tinykv.common.configure_logging(file=str(root / "client.log"))
t0 = time.perf_counter()
cluster = stack.enter_context(testing.Cluster(n=3, data_dir=root / "cluster", metrics=True))
leader = cluster.leader()
print(f"started in {time.perf_counter() - t0:.1f}s; leader: node {leader}")
for i in cluster.nodes:
    print(f"node {i}: client {cluster.endpoint(i)}  monitoring {cluster.metrics_url(i)}")"""),
    new_markdown_cell("""\
## 1. `/health` and `/debug/raft`

`/health` is etcd's answer: `{"health":"true"}` with status 200 when the member knows a
leader and has no disk error, `"false"` with the reason and status 503 otherwise -- what a
load balancer or Kubernetes probe looks at. `/debug/raft` is the replica's own status as
JSON (`phase6_prod/doc/metrics.md`, "Endpoints").

What to notice: all three are healthy; in the leader's status, `role` is `leader`,
`leader` and `vote` are its own id, and `commit_index` equals `last_index` (every entry it
has is committed). The few entries already there are the cluster's own bookkeeping
(the new leader's first entry of its term among them), not ours."""),
    new_code_cell("""\
def http_get(url, timeout=1.0):
    \"\"\"(status, body) of a GET; (None, reason) when nothing answers.\"\"\"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:       # 4xx/5xx still carry a body
        return e.code, e.read().decode()
    except OSError as e:                      # refused, timed out: the node is down
        return None, str(getattr(e, "reason", e))

for i in cluster.nodes:
    print(f"node {i} /health ->", *http_get(cluster.metrics_url(i) + "/health"))
status, body = http_get(cluster.metrics_url(leader) + "/debug/raft")
print(f"\\nnode {leader} (the leader) /debug/raft ->", status)
print(json.dumps(json.loads(body), indent=1))"""),
    new_markdown_cell("""\
## 2. Scraping `/metrics`

`/metrics` is the Prometheus text format: `# HELP` and `# TYPE` lines, then one sample per
line, `name{label="value",...} number`. A dozen lines of Python read it (the helper below
returns `{name: [(labels, value), ...]}`); a real deployment points Prometheus at the
three ports instead (`tests/system/test_metrics.py` does that when Debian's `prometheus`
is installed).

First some traffic of our own: 300 puts and 300 linearizable gets through `tinykv.Client`,
each timed on the client side."""),
    new_code_cell("""\
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\]|\\\\.)*)"')

def parse_metrics(text):
    \"\"\"{name: [(labels dict, value), ...]} of a Prometheus text exposition.\"\"\"
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, labels, number = _SAMPLE.match(line).groups()
        out.setdefault(name, []).append((dict(_LABEL.findall(labels or "")), float(number)))
    return out

def scrape(i, timeout=2.0):
    with urllib.request.urlopen(cluster.metrics_url(i) + "/metrics", timeout=timeout) as r:
        return parse_metrics(r.read().decode())

def value(m, name, **labels):
    \"\"\"The sum of the samples of `name` whose labels include `labels`.\"\"\"
    return sum(v for ls, v in m.get(name, []) if labels.items() <= ls.items())

cl = cluster.client(timeout=10.0)
put_ms, get_ms = [], []
for n in range(300):
    start = time.perf_counter(); cl.put(b"demo/%03d" % n, b"x" * 100)
    put_ms.append((time.perf_counter() - start) * 1000)
for n in range(300):
    start = time.perf_counter(); cl.get(b"demo/%03d" % n)
    get_ms.append((time.perf_counter() - start) * 1000)

metrics = {i: scrape(i) for i in cluster.nodes}
rows = ["tinykv_server_is_leader", "tinykv_server_has_leader", "tinykv_server_term",
        "tinykv_server_leader_changes_seen_total", "tinykv_server_proposals_committed_total",
        "tinykv_server_proposals_applied_total", "tinykv_server_proposals_pending",
        "tinykv_server_proposals_failed_total", "tinykv_disk_wal_fsync_total",
        "tinykv_disk_wal_entries_written_total"]
print(f"{'metric':42}" + "".join(f"{'node ' + str(i):>10}" for i in cluster.nodes))
for name in rows:
    print(f"{name:42}" + "".join(f"{value(metrics[i], name):>10.0f}" for i in cluster.nodes))
print("\\nclient requests answered (tinykv_grpc_server_handled_total), by node:")
for i in cluster.nodes:
    for labels, v in metrics[i].get("tinykv_grpc_server_handled_total", []):
        print(f"  node {i}: {labels['grpc_method']:>6} {labels['grpc_code']:<9} {v:.0f}")"""),
    new_markdown_cell("""\
What to notice:

* `tinykv_server_is_leader` is 1 on exactly one node; `has_leader` is 1 everywhere, and
  `leader_changes_seen_total` is 1: each member has seen one leader since it started.
* `tinykv_server_proposals_committed_total` is the **commit index** (as etcd's is), so it
  is (nearly) the same on all three nodes: 600 requests made about 300 entries, one per
  put, plus the cluster's few -- a linearizable get is confirmed by a heartbeat round
  (ReadIndex), not written to the log. A follower may trail by an entry or two: it
  learns the commit index with the next message from the leader.
* Every node fsyncs its Raft log (`tinykv_disk_wal_fsync_total`), followers too: that is
  what makes a majority's acknowledgement durable. There are fewer fsyncs than entries
  when entries arrive together and one fsync covers several.
* Only the leader answered our requests with `OK` (`grpc_server_handled_total`): the
  client found it and stayed with it. The first put may leave traces elsewhere: a
  `NotLeader` from a follower the client tried first (it followed the answer's hint), and
  an `Unavailable` from the leader, also counted in its `proposals_failed_total`, when
  the put arrived before the new leader's startup state hash check had finished -- until
  then it serves no write (`--initial-corrupt-check` in `phase6_prod/README.md`). The
  client retried, and the put was applied once.

A **histogram** is a set of cumulative counters, `_bucket{le="x"}` = requests that took at
most x seconds, plus `_sum` and `_count`. Quantiles are estimated from the buckets the
way Prometheus' `histogram_quantile` does: find the bucket where the rank falls, and
interpolate linearly inside it. Below, the leader's put handling times
(`tinykv_grpc_server_handling_seconds{grpc_method="Put"}`, from the request's arrival at
the handler to its answer) next to its Raft log's fsync times
(`tinykv_wal_fsync_duration_seconds`, etcd's buckets from 1 ms): where does a put's time
go? And how do the server's own numbers compare with what the client measured?"""),
    new_code_cell("""\
def buckets(m, name, **labels):
    \"\"\"[(upper bound, cumulative count), ...] of a histogram, sorted, +Inf last.\"\"\"
    return sorted((float(ls["le"]), v) for ls, v in m.get(name + "_bucket", [])
                  if labels.items() <= ls.items())

def histogram_quantile(q, bs):
    \"\"\"Prometheus' estimate: linear interpolation inside the bucket the rank falls in.\"\"\"
    total = bs[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in bs:
        if count >= rank:
            if upper == float("inf"):
                return lower            # beyond the last finite bucket: its bound
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = upper, count
    return lower

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]

lm = metrics[leader]
hist = {"Put handling (server)": buckets(lm, "tinykv_grpc_server_handling_seconds",
                                         grpc_method="Put"),
        "Get handling (server)": buckets(lm, "tinykv_grpc_server_handling_seconds",
                                         grpc_method="Get"),
        "WAL fsync (leader)": buckets(lm, "tinykv_wal_fsync_duration_seconds")}
for what, bs in hist.items():
    p50, p99 = (histogram_quantile(q, bs) * 1000 for q in (0.5, 0.99))
    print(f"{what:22} count {bs[-1][1]:5.0f}   p50 ~ {p50:6.2f} ms   p99 ~ {p99:6.2f} ms")
print(f"{'Put (client, measured)':22} count {len(put_ms):5}   p50 = {pct(put_ms, .5):6.2f} ms"
      f"   p99 = {pct(put_ms, .99):6.2f} ms")
print(f"{'Get (client, measured)':22} count {len(get_ms):5}   p50 = {pct(get_ms, .5):6.2f} ms"
      f"   p99 = {pct(get_ms, .99):6.2f} ms")

fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=False)
for ax, (what, bs) in zip(axes, hist.items()):
    finite = [(u, c) for u, c in bs if u != float("inf")]
    counts = [c - p for (_, c), (_, p) in zip(finite, [(0, 0)] + finite[:-1])]
    labels = [f"{u * 1000:g}" for u, _ in finite]
    ax.bar(range(len(counts)), counts)
    ax.set_xticks(range(len(counts)), labels, rotation=60, fontsize=7)
    ax.set_title(what, fontsize=10); ax.set_xlabel("bucket: at most (ms)")
axes[0].set_ylabel("requests / fsyncs in the bucket")
plt.tight_layout(); plt.show()"""),
    new_markdown_cell("""\
What to notice: the bucket bounds are coarse (the handling histogram's are 0.5, 1, 2.5,
5 ms, ...), so a quantile read from them is only as good as the bucket it lands in -- an
estimate, exact only at the bounds. The fsync histogram has etcd's buckets, the first of
which is 1 ms: on a fast disk every fsync lands in it, and "p50 0.5 ms" is then only the
interpolation's guess inside "at most 1 ms".

The put's handling time holds a majority's fsyncs -- a majority of 3 is 2: the leader's
and one follower's, which run at the same time, since the leader sends an entry to the
followers before writing it itself (the parallel append, `phase3_raft/README.md`) -- plus
the round trip to the follower and the apply. The client's measured latency adds its own
round trip and Python. A get does no fsync (a heartbeat round confirms the leadership),
so it sits in the lowest buckets.

## 3. The metrics over a failover

Now the scene a dashboard is for. A writer thread puts keys as fast as one client can,
recording when each write was acknowledged; a sampler thread scrapes all three nodes every
100 ms (a very impatient Prometheus). Then:

1. wait for a second of samples;
2. **kill** the leader with SIGKILL (`cluster.kill(i)`: a crash, no goodbye);
3. wait until the two survivors have elected a new leader and committed 500 more entries
   without the old one;
4. **restart** it (`cluster.restart(i)`: same ports, same data directory) and wait until
   its applied index has reached the leader's commit index at the restart;
5. one more second of samples.

Every wait is a condition polled with a deadline (`tinykv.testing.wait_until`), not a
fixed sleep."""),
    new_code_cell("""\
writer = cluster.client(timeout=10.0)
acks, samples, errors = [], [], []     # ack times (s); (t, {node: metrics or None}); exceptions
stop = threading.Event()
t0 = time.perf_counter()
now = lambda: time.perf_counter() - t0

def write_loop():
    n = 0
    try:
        while not stop.is_set():
            writer.put(b"fo/%07d" % n, b"v" * 100)
            acks.append(now()); n += 1
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append(e)

def sample_loop():
    while not stop.is_set():
        t, row = now(), {}
        for i in cluster.nodes:
            try:
                row[i] = scrape(i)
            except OSError:   # killed, or not listening yet after the restart
                row[i] = None
        samples.append((t, row))
        stop.wait(max(0.0, 0.1 - (now() - t)))

def latest(i, name):
    \"\"\"The value of `name` in the newest sample in which node i answered (None: never).\"\"\"
    for _, row in reversed(samples):
        if row.get(i) is not None:
            return value(row[i], name)
    return None

threads = [threading.Thread(target=write_loop), threading.Thread(target=sample_loop)]
for th in threads: th.start()
try:
    wait_until(lambda: len(samples) >= 10, what="a second of samples")
    old = cluster.leader()
    t_kill = now()
    cluster.kill(old)
    new = cluster.leader(exclude=[old], timeout=20.0)
    t_elected = now()
    base = latest(new, "tinykv_server_proposals_committed_total")
    wait_until(lambda: latest(new, "tinykv_server_proposals_committed_total") >= base + 500,
               what="500 entries committed without the old leader")
    t_restart = now()
    cluster.restart(old)
    t_up = now()
    target = latest(new, "tinykv_server_proposals_committed_total")
    wait_until(lambda: samples[-1][0] > t_up and samples[-1][1][old] is not None and
               latest(old, "tinykv_server_proposals_applied_total") >= target,
               what="the restarted node to catch up")
    t_caught = now()
    n = len(samples)
    wait_until(lambda: len(samples) >= n + 10, what="another second of samples")
finally:
    stop.set()
    for th in threads: th.join()
assert not errors, errors
print(f"killed node {old} (the leader) at t={t_kill:.2f}s; node {new} elected by "
      f"t={t_elected:.2f}s; node {old} restarted at t={t_restart:.2f}s, answering at "
      f"t={t_up:.2f}s, caught up by t={t_caught:.2f}s")
first_after = next(a for a in acks if a > t_kill)
print(f"{len(acks)} writes acknowledged, {len(samples)} samples; no write acknowledged for "
      f"{(first_after - max(a for a in acks if a <= t_kill)) * 1000:.0f} ms around the kill")
print("\\nleader changes seen (tinykv_server_leader_changes_seen_total) and term, at the end:")
for i in cluster.nodes:
    print(f"  node {i}: changes {latest(i, 'tinykv_server_leader_changes_seen_total'):.0f}"
          f"   term {latest(i, 'tinykv_server_term'):.0f}"
          + ("   (restarted: its counters began again at 0)" if i == old else ""))"""),
    new_markdown_cell("""\
What to look for in the three panels (time on the x axis; the red line is the kill, the
orange one the moment a new leader was seen, the green one the restart):

* **Commit index per node** (`tinykv_server_proposals_committed_total`): three lines on
  top of each other while all is well. At the kill the killed node's line stops (it no
  longer answers the scrape), and the survivors' lines go **flat**: no leader, nothing
  commits. They rise again once the new leader has been elected *and* the client has
  found it. After the restart, the old leader's line reappears level with the others'
  (or a sample or two below them): its log and its hard state (`term, vote, commit`)
  survived the SIGKILL on disk, so it only needs the entries committed while it was
  down, which the new leader sends it.
* **Role per node** (from `tinykv_server_is_leader`; a gap: not answering): leadership
  moves once, to one of the survivors, and the old leader comes back as a follower --
  Raft has no "preferred leader" that takes leadership back.
* **Write throughput**: the client's acknowledged writes per 100 ms, and the same rate
  as a dashboard computes it from the commit index (Prometheus' `rate()` over the
  counter). It drops to zero from the kill to the election (the orange line) -- at least
  one election timeout after the followers last heard from the leader: 10 ticks × 25 ms
  in this cluster, randomized up to twice that -- and for a while after it. That wait is
  the client's: each failed attempt (the dead node, then a survivor that knows no leader
  yet) doubles its backoff window, 20 ms, 40 ms, ... up to 500 ms, with full jitter
  (`phase5_client/README.md`, "Client behaviour"), so when the leader appears the client
  may be in the middle of a sleep of a few hundred ms. While the old leader is down the
  rate may even be higher than before: on a 2-core machine one server fewer probably
  means more CPU for the others. The restart costs the writes little or nothing."""),
    new_code_cell("""\
ts = [t for t, _ in samples]
colors = {1: "tab:blue", 2: "tab:orange", 3: "tab:purple"}
fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True,
                                    gridspec_kw={"height_ratios": [3, 1.3, 2]})
# The lines lie on top of each other: the killed node's widest, so that its gap shows.
widths = dict(zip([old] + [i for i in cluster.nodes if i != old], (7, 3.5, 1.2)))
for i in cluster.nodes:
    ax1.plot(ts, [None if row[i] is None else
                  value(row[i], "tinykv_server_proposals_committed_total") for _, row in samples],
             "-", lw=widths[i], alpha=0.6, color=colors[i], label=f"node {i}")
ax1.set_ylabel("commit index"); ax1.legend(loc="upper left")

# Role timeline: one bar per sample interval, dark where the node leads, light where it
# follows, nothing where it did not answer.
for i in cluster.nodes:
    lead, follow = [], []
    for (t, row), (t_next, _) in zip(samples, samples[1:]):
        if row[i] is not None:
            (lead if value(row[i], "tinykv_server_is_leader") else follow).append((t, t_next - t))
    ax2.broken_barh(follow, (i - 0.35, 0.7), color=colors[i], alpha=0.25)
    ax2.broken_barh(lead, (i - 0.35, 0.7), color=colors[i])
ax2.set_yticks(list(cluster.nodes), [f"node {i}" for i in cluster.nodes])
ax2.set_ylim(0.4, len(cluster.nodes) + 0.6)
ax2.set_ylabel("leader (dark)\\nfollower (light)", fontsize=8)

width = 0.1
bins = [0] * int(min(ts[-1], acks[-1]) / width)   # whole bins only
for a in acks:
    if a < len(bins) * width:
        bins[int(a / width)] += 1
ax3.bar([k * width for k in range(len(bins))], [b / width for b in bins], width,
        align="edge", alpha=0.5, label="client: writes acknowledged")
cluster_commit = [max((value(row[i], "tinykv_server_proposals_committed_total")
                       for i in row if row[i] is not None), default=0) for _, row in samples]
ax3.plot([(a + b) / 2 for a, b in zip(ts, ts[1:])],
         [(c1 - c0) / (b - a) for a, b, c0, c1 in zip(ts, ts[1:], cluster_commit,
                                                      cluster_commit[1:])],
         "k.-", ms=3, lw=1, label="rate(commit index)")
ax3.set_ylabel("writes / s"); ax3.set_xlabel("time (s)"); ax3.legend(loc="lower right")
for ax in (ax1, ax2, ax3):
    ax.axvline(t_kill, color="red", ls="--", lw=1)
    ax.axvline(t_elected, color="orange", ls=":", lw=1.5)
    ax.axvline(t_restart, color="green", ls="--", lw=1)
for t, text, color in ((t_kill, f"kill node {old}", "red"),
                       (t_elected, f"node {new} leads", "orange"),
                       (t_restart, f"restart node {old}", "green")):
    ax1.text(t, 0.02, " " + text, color=color, fontsize=8, rotation=90, va="bottom",
             transform=ax1.get_xaxis_transform())
plt.tight_layout(); plt.show()"""),
    new_markdown_cell("""\
Every acknowledged write is still there, on the new leader and on the restarted node: the
failover lost nothing. (We read the restarted node's own copy with a *serializable* read,
which a follower answers from its local state; a linearizable read would go through the
leader.)"""),
    new_code_cell("""\
stored = len(writer.scan(b"fo/", b"fo0", keys_only=True))
print("acknowledged:", len(acks), " stored (linearizable scan):", stored)
assert stored == len(acks)
on_old = cluster.client(timeout=10.0, endpoints=[cluster.endpoint(old)])
local = wait_until(lambda: len(on_old.scan(b"fo/", b"fo0", keys_only=True,
                                           serializable=True)) == stored and stored,
                   what=f"node {old} to hold every write")
print(f"node {old}'s own copy (serializable scan): {local} keys")"""),
    new_markdown_cell("""\
## 4. Latency vs throughput, in open loop

`tinykv-bench` (in the package, next to `tinykv-server`) is the load generator of phase 6
(`phase6_prod/README.md`, "tinykv-bench and etcd"). By default it runs a **closed loop**:
each of `--clients` logical clients sends a request, waits for the answer, sends the next.
Its throughput is whatever the store sustains, and its latency has a blind spot: when the
server stalls, the clients stall with it, so the requests that *would have arrived*
meanwhile are never sent and their waiting is never measured. Gil Tene named this
**coordinated omission** -- the generator coordinates with the system under test and
omits exactly the bad samples.

In **open loop** (`--rate R`) request n is due at n / R seconds after the start, whatever
happened to the earlier ones, and its latency is measured from that *intended* start. A
request that could not even be sent on time (every client busy) counts its wait as
latency. That is what users of a real service see: they do not arrive politely one after
another's answer.

We first measure the closed-loop capacity (64 clients), then offer 10 % … 150 % of it.
Each open-loop point's schedule lasts one second (`--total` = the rate: the bench refuses
a run shorter than one second at its rate); the whole sweep takes 10 seconds or so. Each
run prints one `RESULT key=value ...` line for scripts, which we parse as
`tests/system/test_bench.py` does."""),
    new_code_cell("""\
BENCH = Path(tinykv.__file__).parent / "bin" / "tinykv-bench"

def bench(total, rate=0):
    \"\"\"One tinykv-bench put run against the cluster; its RESULT line as a dict.\"\"\"
    p = subprocess.run([str(BENCH), "put", "--endpoints", ",".join(cluster.endpoints),
                        "--clients", "64", "--threads", "2", "--conns", "2",
                        "--total", str(total), "--rate", str(rate),
                        "--key-size", "8", "--val-size", "256"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    line = next(ln for ln in p.stdout.splitlines() if ln.startswith("RESULT "))
    r = dict(kv.split("=", 1) for kv in line.split()[1:])
    r["stdout"] = p.stdout
    return r

closed = bench(total=10000)
capacity = float(closed["ops_per_s"])
print(f"closed loop, 64 clients: {capacity:.0f} puts/s, p50 {closed['p50_ms']} ms, "
      f"p99 {closed['p99_ms']} ms, errors {closed['errors']}")

points = []
print(f"\\n{'offered/s':>9} {'achieved/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
      f" {'late':>6} {'max late ms':>11}")
for fraction in (0.1, 0.3, 0.6, 0.9, 1.2, 1.5):
    rate = max(100, int(capacity * fraction))
    r = bench(total=rate, rate=rate)
    assert r["errors"] == "0", r["stdout"]
    points.append(r)
    print(f"{rate:>9} {float(r['achieved_ops_per_s']):>10.0f} {float(r['p50_ms']):>8.2f}"
          f" {float(r['p99_ms']):>8.2f} {float(r['max_ms']):>8.2f} {r['late']:>6}"
          f" {float(r['max_late_ms']):>11.2f}")
print("\\none report in full:\\n" + points[-1]["stdout"])"""),
    new_markdown_cell("""\
What to look for: the classic hockey stick. At low offered rates the latency is flat --
each put is an fsync on two nodes plus a few round trips, and batching keeps it there as
the rate grows. Near the capacity queues form: p99 rises first, then p50. Past it, the
achieved throughput no longer keeps up with the offered rate (compare the first two
columns of the table; the capacity measured in the closed loop is itself only an
estimate from a fraction of a second) while the latency shoots up: requests arrive
faster than they are served, the backlog grows for the whole second, and every
request's wait in it is counted. `late` in the table is how many requests could not even
be sent on time (all 64 clients busy).

Expect some noise, and the reason is itself a lesson about open loops: a stall of S ms
delays every request due during it, so in a one-second point any hiccup longer than
about 10 ms touches more than 1 % of the requests and *sets* the p99 -- another process
taking this 2-core machine's CPU, or a state machine snapshot (each node takes one every
10,000 entries, `--snapshot-threshold`, so the larger points take one or more each:
`snapshot at index` in `node<i>.log`). Longer points (`--total` = 10 × the rate) give a
smoother curve.

The star is the closed-loop run. Its throughput is as high as the store's, but its
latency looks civil: with only 64 requests ever outstanding, there is never a backlog to
wait in -- the generator slowed down instead. An operator's SLO is about the open-loop
numbers: which offered rate can the cluster take with p99 under, say, 10 ms?"""),
    new_code_cell("""\
xs = [float(r["achieved_ops_per_s"]) for r in points]
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(xs, [float(r["p50_ms"]) for r in points], "o-", label="open loop p50")
ax.plot(xs, [float(r["p99_ms"]) for r in points], "s-", label="open loop p99")
for r, x in zip(points, xs):
    ax.annotate(f"{float(r['offered_ops_per_s']):.0f}/s offered", (x, float(r["p99_ms"])),
                textcoords="offset points", xytext=(4, 6), fontsize=7)
ax.plot([capacity], [float(closed["p50_ms"])], "*", ms=12, color="grey",
        label="closed loop p50 (64 clients)")
ax.plot([capacity], [float(closed["p99_ms"])], "*", ms=12, color="black",
        label="closed loop p99 (64 clients)")
ax.set_yscale("log"); ax.margins(x=0.15); ax.set_xlabel("achieved throughput (puts/s)")
ax.set_ylabel("latency from intended start (ms)")
ax.set_title("tinykv-bench put, 3 nodes, 256 B values"); ax.legend(fontsize=8)
plt.tight_layout(); plt.show()"""),
    new_markdown_cell("""\
## 5. One request's path: trace ids

Every client call carries a **trace id** (64 bits, written as 16 hex digits) in its request
frame's header; a write carries it on inside its Raft entry to every member that applies
it. A server at `--log-level debug` names it in the field `trace` of each line on the
request's path, and with `--log-format json` each line is one JSON object -- so one grep
per node and a sort by time reconstruct the request's timeline across the cluster
(`phase6_prod/README.md`, "Logs and trace ids"). Here a second, small cluster runs at debug
level with JSON logs; we pick the trace id of one put ourselves (`put(..., trace_id=)`)
and read its lines back from the three nodes' logs."""),
    new_code_cell("""\
from datetime import datetime

traced = stack.enter_context(testing.Cluster(n=3, data_dir=root / "traced", log_level="debug",
                                             extra_args=["--log-format", "json"]))
tlead = traced.leader()
tclient = traced.client(timeout=10.0, endpoints=[traced.endpoint(tlead)])
trace = 0x0600ba11c0ffee01
revision = tclient.put(b"traced-key", b"hello", trace_id=trace)

def trace_lines(node_id, trace_hex):
    out = []
    for line in open(traced.nodes[node_id].log_path, encoding="utf-8", errors="replace"):
        if trace_hex in line:
            rec = json.loads(line)
            if rec.get("trace") == trace_hex:
                out.append((node_id, rec))
    return out

trace_hex = f"{trace:016x}"
wait_until(lambda: all(any(r["msg"] == "txn: applied traced write"
                           for _, r in trace_lines(i, trace_hex)) for i in (1, 2, 3)),
           20, "every node to log the put")
timeline = sorted((r["ts"], i, r) for i in (1, 2, 3) for _, r in trace_lines(i, trace_hex))
t0 = datetime.fromisoformat(timeline[0][0].replace("Z", "+00:00"))
print(f"put of revision {revision}, trace {trace_hex}, leader {tlead}")
for ts, i, r in timeline:
    dt = (datetime.fromisoformat(ts.replace("Z", "+00:00")) - t0).total_seconds() * 1000
    role = "leader  " if i == tlead else "follower"
    extra = {k: v for k, v in r.items() if k not in ("ts", "level", "logger", "msg", "trace")}
    print(f"+{dt:7.3f} ms  node {i} ({role})  {r['msg']:<30} {extra}")"""),
    new_markdown_cell("""\
What to notice: the leader's lines come in the order of the write path -- the request
arrives (`net`), the leader takes a commit timestamp and proposes the entry (`txn:
proposing`), applies it once a quorum has it durable, and answers (`kv: request done`,
with the handler's time in `took_ms`). Each follower has exactly one line, the apply,
naming the same index and revision: the trace id travelled in the entry, not in any
follower-side request. The times come from three processes' clocks on one machine; on
real machines, compare the order, not the sub-millisecond gaps. At the default level
(`info`) none of this is logged and the entries carry no trace id (the leader adds it only
when it logs at debug level)."""),
    new_markdown_cell("""\
## 6. Clean up

Closing the stack stops the servers of both clusters (SIGTERM, then SIGKILL after a grace period),
closes every client the cluster handed out, and deletes the temporary directory."""),
    new_code_cell("""\
pids = [node.proc.pid for node in cluster.nodes.values()]
stack.close()
print("servers", pids, "exited:", all(not n.alive for n in cluster.nodes.values()),
      "; data removed:", not root.exists())"""),
    new_markdown_cell("""\
## What to try next

* **A stall instead of a crash.** Replace `cluster.kill(old)` with `cluster.pause(old)`
  (SIGSTOP: the process keeps its sockets but does nothing, like a long GC pause) and
  `cluster.resume(old)` later. Its `/metrics` scrape now times out instead of being
  refused; when it resumes it still believes it leads, until it hears of the higher term
  or finds it has lost contact with a quorum (check quorum) -- watch `tinykv_server_term`
  and `tinykv_server_is_leader` on it.
* **Coordinated omission, measured.** Run `tinykv-bench put` in a closed loop with
  `subprocess.Popen`, pause the leader for half a second in the middle, and compare its
  p99 with an open-loop run at the same rate across the same pause: the closed loop
  reports at most 64 slow requests; the open loop reports every request due during the
  pause.
* **Lease reads.** Start the cluster with `extra_args=["--lease-reads"]` and bench
  `get --consistency l`: the leader answers from its lease instead of a heartbeat round
  (`phase6_prod/README.md`, the flag table).
* **Real Prometheus.** Point a Prometheus at the three `metrics_url`s and graph
  `rate(tinykv_server_proposals_committed_total[10s])` and
  `histogram_quantile(0.99, rate(tinykv_grpc_server_handling_seconds_bucket[30s]))`
  across a failover.
* **etcd for comparison.** `scripts/bench-etcd.sh` runs the same generator against etcd
  and TinyKV and prints one table (`RATE=2000` for an open loop)."""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
nbformat.write(nb, OUT)
print("wrote", OUT)
