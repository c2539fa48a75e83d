"""Writes notebooks/02_net.ipynb (outputs stripped). Run: .venv/bin/python phase2_net/notebook_src/make_02_net.py"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell("""# Phase 2 — TinyKV over the network

**Goal.** Start the phase 2 demo KV server in this process, talk to it over TinyKV's RPC
layer (framed, checksummed, multiplexed requests on Boost.Asio coroutines), and watch three
things a distributed store lives with: **latency under concurrency**, **deadlines** and
**retries**.

**Prerequisites.** The `tinykv` package built and installed (`bash scripts/build.sh`).
Wire format: `phase2_net/doc/frame_format.md`; design: `phase2_net/README.md`.

**Runtime.** About 15 seconds."""),
    new_code_cell("""import threading
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import tinykv
from tinykv import net

server = net.DemoServer(port=0, io_threads=1)   # port 0: the OS picks a free port
client = net.Client(server.address, timeout=5.0, seed=7)
print("server listening on", server.address, "backend:", server.backend)

client.put(b"apple", b"red")
client.put(b"banana", b"yellow")
client.put(b"cherry", b"dark red")
print(client.get(b"banana"))
print(client.scan(b"a", b"c"))        # a server-streaming call: one frame per pair"""),
    new_markdown_cell("""## Latency for 1..N concurrent callers

`bench_echo` runs closed-loop callers in C++ (each sends a 64-byte `kv.Echo`, waits for the
answer, sends the next). All callers share **one** TCP connection: requests are multiplexed
by request id, and the connection's writer sends everything queued in one system call.
Look for: throughput rising with concurrency until the two CPU cores are busy, then only
latency rising (Little's law: callers = throughput × latency)."""),
    new_code_cell("""levels = [1, 4, 16, 64]
results = {}
for c in levels:
    client.bench_echo(concurrency=c, duration=0.2)            # warm-up
    r = client.bench_echo(concurrency=c, duration=1.0, payload_bytes=64)
    assert r["errors"] == 0, r["first_error"]
    results[c] = np.array(r["latencies_us"])
    print(f"{c:>3} callers: {r['throughput']:>9,.0f} calls/s   "
          f"p50 {np.percentile(results[c], 50):7.1f} us   p99 {np.percentile(results[c], 99):7.1f} us")

fig, ax = plt.subplots(figsize=(8, 4))
for c in levels:
    lat = np.sort(results[c])
    ax.plot(lat, np.linspace(0, 1, len(lat)), label=f"{c} callers")
ax.set_xscale("log")
ax.set_xlabel("round-trip latency (µs, log scale)")
ax.set_ylabel("fraction of calls ≤ x")
ax.set_title("Echo latency CDF over loopback")
ax.legend()
plt.show()"""),
    new_markdown_cell("""## A deadline firing

Every call has a deadline. The server's `kv.Echo` can be asked to wait before answering; with a
deadline shorter than that wait, the client gives up at the deadline, raises
`tinykv.TimeoutError`, and sends the server a *cancel* frame. The connection stays usable."""),
    new_code_cell("""start = time.monotonic()
try:
    client.echo(b"too slow", delay_ms=1000, timeout=0.15)
except tinykv.TimeoutError as e:
    print(f"TimeoutError after {time.monotonic() - start:.3f} s: {e}")
print("next call on the same client:", client.echo(b"still fine"))"""),
    new_markdown_cell("""## A retry happening

Now the server goes away and comes back 0.4 s later on the same port. `kv.Echo` is declared
idempotent, so the client retries with exponential backoff and *full jitter* (each wait is
uniform in [0, min(cap, base·2ⁿ)]), reconnects, and succeeds. A call that is not idempotent
would be retried only if it provably never reached the server (here: connection refused)."""),
    new_code_cell("""port = server.port
server.shutdown()

def come_back():
    global server
    time.sleep(0.4)
    server = net.DemoServer(port=port, io_threads=1)

t = threading.Thread(target=come_back)
t.start()
retrying = net.Client(f"127.0.0.1:{port}", timeout=5.0, max_attempts=50,
                      initial_backoff=0.02, max_backoff=0.2, seed=7)
start = time.monotonic()
print(retrying.echo(b"hello again"), f"after {time.monotonic() - start:.2f} s")
print("client stats:", retrying.stats())
t.join()"""),
    new_code_cell("""retrying.close()
client.close()
server.shutdown()
print("server stats:", server.stats())"""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
out = Path(__file__).resolve().parents[2] / "notebooks" / "02_net.ipynb"
nbformat.write(nb, out)
print("wrote", out)
