"""Generates notebooks/05_client.ipynb (outputs stripped). Run from anywhere:

    .venv/bin/python notebooks/src/make_05_client.py
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "05_client.ipynb"

cells = [
    new_markdown_cell("""\
# 05 · A client's view of a cluster: leader discovery, failover and exactly-once retries

**Goal.** Use TinyKV the way an application does: through `tinykv.Client` (phase 5). Start
a real 3-node cluster inside this process (`tinykv.client.EmbeddedCluster`: three Raft nodes
with durable logs and LSM state machines, each serving the client protocol on loopback),
watch the client find the leader, then stop the leader while a writer is running and see
what the client does about it: the latency spike of the failover, the retries, and that
every acknowledged write is still there.

**Prerequisites.** The `tinykv` package built and installed into the venv
(`bash scripts/build.sh`). Background: Raft §6 (client interaction) and §8 in Ongaro's
thesis; `phase5_client/README.md` for the client's retry rules.

**Runtime.** About 10–20 seconds. Data lives in a temporary directory deleted at the end."""),
    new_code_cell("""\
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import matplotlib.pyplot as plt

import tinykv
from tinykv.client import EmbeddedCluster

workdir = tempfile.TemporaryDirectory(prefix="tinykv-nb05-")
root = Path(workdir.name)
# The C++ core logs to stderr, which Jupyter would print into the cells; keep its
# lines in a file next to the data instead (open it to see what the nodes did).
tinykv.common.configure_logging(file=str(root / "tinykv.log"))
lc = EmbeddedCluster(3, root, sync=False)
print("endpoints:", lc.endpoints, "leader: node", lc.leader())"""),
    new_markdown_cell("""\
## 1. Leader discovery

We give the client only a **follower's** endpoint. Its first write is answered
`NotLeader("leader=N addr=HOST:PORT")`; the client follows the hint and caches the
leader, so the second write needs one attempt."""),
    new_code_cell("""\
leader = lc.leader()
follower = next(i for i in (1, 2, 3) if i != leader)
cl = tinykv.Client([lc.endpoint(follower)], timeout=10.0)
cl.put(b"greeting", b"hello")
print("after 1st write:", cl.stats(), "cached leader:", cl.leader_endpoint)
cl.put(b"greeting", b"hello again")
print("after 2nd write:", cl.stats())
print("get ->", cl.get(b"greeting"))
print("status of the follower:", {k: v for k, v in cl.status(lc.endpoint(follower)).items()
                                  if k in ("id", "role", "leader", "term", "applied_index")})"""),
    new_markdown_cell("""\
## 2. Stop the leader under load

A writer thread puts keys `w0000, w0001, ...` as fast as it can through a client that
knows all three endpoints, recording each call's latency. After 0.5 s we stop the leader.
The remaining two nodes elect a new leader (election timeout 10 ticks × 20 ms, randomized
up to 2×); meanwhile the client's calls fail over: `Unavailable` from the stopped node,
then `NotLeader` or timeouts until the new leader is found. Each write keeps its request
id across retries, so none is applied twice."""),
    new_code_cell("""\
writer = lc.client(timeout=10.0)
samples, acked, stop = [], [], threading.Event()
t0 = time.perf_counter()

def write_loop():
    i = 0
    while not stop.is_set():
        key = b"w%04d" % i
        start = time.perf_counter()
        writer.put(key, b"v")
        samples.append((start - t0, time.perf_counter() - start))
        acked.append(key)
        i += 1

th = threading.Thread(target=write_loop)
th.start()
time.sleep(0.5)
old = lc.leader()
t_stop = time.perf_counter() - t0
lc.stop_node(old)
time.sleep(1.5)
stop.set()
th.join()
print(f"stopped node {old} at t={t_stop:.2f}s; new leader: node {lc.leader()}")
print("acknowledged writes:", len(acked), " client stats:", writer.stats())"""),
    new_markdown_cell("""\
What to look for: a flat band of sub-millisecond-to-millisecond writes, one tall point
at the moment of the stop (the write that waited through the election), then a flat
band again on the new leader."""),
    new_code_cell("""\
xs, ys = zip(*samples)
fig, ax = plt.subplots(figsize=(8, 3))
ax.scatter(xs, [y * 1000 for y in ys], s=4)
ax.axvline(t_stop, color="red", linestyle="--", label=f"leader (node {old}) stopped")
ax.set_yscale("log"); ax.set_xlabel("time (s)"); ax.set_ylabel("put latency (ms)")
ax.legend(); plt.tight_layout(); plt.show()
print(f"slowest write: {max(ys) * 1000:.0f} ms (the failover)")"""),
    new_code_cell("""\
stored = {k for k, _ in writer.scan(b"w", b"x", keys_only=True)}
missing = [k for k in acked if k not in stored]
print("acknowledged:", len(acked), " stored:", len(stored), " missing:", len(missing))
assert not missing, missing[:5]"""),
    new_markdown_cell("""\
## 3. The same cluster from the `tinykv` CLI

The CLI (`tinykv`, in the manner of `etcdctl`) ships inside the package (and is on the
venv's PATH as `tinykv`). `endpoint status`
asks every endpoint for its own view; the stopped node shows up as an error (exit code 3)."""),
    new_code_cell("""\
exe = Path(tinykv.__file__).parent / "bin" / "tinykv"
r = subprocess.run([str(exe), "--endpoints", ",".join(lc.endpoints), "--command-timeout", "1s",
                    "-w", "table", "endpoint", "status"], capture_output=True, text=True)
print(r.stdout, r.stderr.strip())
print("exit code:", r.returncode)
r = subprocess.run([str(exe), "--endpoints", ",".join(lc.endpoints), "-w", "json",
                    "get", "greeting"], capture_output=True, text=True)
print(r.stdout)"""),
    new_code_cell("""\
cl.close(); writer.close(); lc.close(); workdir.cleanup()"""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
nbformat.write(nb, OUT)
print("wrote", OUT)
