"""Generates notebooks/01_storage.ipynb (outputs stripped). Run from anywhere:

    .venv/bin/python notebooks/src/make_01_storage.py
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "01_storage.ipynb"

cells = [
    new_markdown_cell("""\
# 01 · Inside the LSM tree: flushes, compactions, amplification and bloom filters

**Goal.** Watch TinyKV's storage engine (phase 1) at work: load keys into a database with a
deliberately tiny memtable, see memtables flushed to level-0 SSTables and compactions push
data down the levels, then measure the three costs every LSM tree trades against each other:

* **write amplification**: bytes the engine writes to SSTables per byte the user wrote;
* **read amplification**: blocks read from disk per lookup;
* the **bloom filter**'s effect on lookups of keys that are *not* there.

**Prerequisites.** The `tinykv` package built and installed into the venv
(`bash scripts/build.sh`). Background: the LevelDB implementation notes
(`doc/impl.md` in google/leveldb) and O'Neil et al., *The Log-Structured Merge-Tree* (1996).

**Runtime.** About 20–40 seconds. Seeds are fixed; everything is written to a temporary
directory that is deleted at the end."""),
    new_code_cell("""\
import random
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt

import tinykv
from tinykv import storage

SEED = 1
workdir = tempfile.TemporaryDirectory(prefix="tinykv-nb01-")
root = Path(workdir.name)
# The C++ core logs to stderr, which Jupyter would print into the cells; keep its
# lines in a file next to the data instead.
tinykv.common.configure_logging(file=str(root / "tinykv.log"))
print("tinykv", tinykv.__version__, "- data in", root)"""),
    new_markdown_cell("""\
## 1. Load data and sample the engine's statistics

The memtable is only 256 KiB, SSTables are 256 KiB and level 1 may hold 1 MiB (each deeper
level 10× more), so a few megabytes of data are enough to fill three levels. Every 2,000
writes we record `db.stats()`: files and bytes per level, and the flush and compaction
counters. Keys are written in random order, values are 100 bytes."""),
    new_code_cell("""\
OPTS = dict(write_buffer_size=256 << 10, target_file_size=256 << 10,
            max_bytes_for_level_base=1 << 20, level0_compaction_trigger=4)
N, VALUE = 120_000, 100
rng = random.Random(SEED)
order = list(range(N))
rng.shuffle(order)

def key(i):
    return b"user%010d" % i

db = storage.DB.open(str(root / "load"), **OPTS)
samples, user_bytes = [], 0
start = time.perf_counter()
for n, i in enumerate(order, 1):
    k, v = key(i), rng.randbytes(VALUE)
    db.put(k, v)
    user_bytes += len(k) + len(v)
    if n % 2000 == 0:
        samples.append((n, user_bytes, db.stats()))
db.wait_for_background_work()
samples.append((N, user_bytes, db.stats()))
print(f"{N} puts in {time.perf_counter() - start:.1f} s")
print(db.stats_string())"""),
    new_markdown_cell("""\
## 2. Files and bytes per level over time

Look for the saw-tooth in level 0: files accumulate as memtables are flushed and disappear
when a compaction merges them into level 1. Deeper levels grow in steps as level *n*
overflows its budget and pushes data into level *n + 1*."""),
    new_code_cell("""\
levels = [L for L in range(7) if any(s.get(f"num-files-at-level{L}", 0) for _, _, s in samples)]
xs = [n for n, _, _ in samples]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
for L in levels:
    a1.plot(xs, [s.get(f"num-files-at-level{L}", 0) for _, _, s in samples], label=f"L{L}")
    a2.plot(xs, [s.get(f"bytes-at-level{L}", 0) / 2**20 for _, _, s in samples], label=f"L{L}")
a1.set(title="SSTable files per level", xlabel="puts", ylabel="files")
a2.set(title="Bytes per level", xlabel="puts", ylabel="MiB")
a1.legend(); a2.legend()
plt.tight_layout(); plt.show()"""),
    new_code_cell("""\
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, [s["flushes"] for _, _, s in samples], label="memtable flushes")
ax.plot(xs, [s["compactions"] for _, _, s in samples], label="compactions")
ax.set(title="Background work", xlabel="puts", ylabel="count"); ax.legend()
plt.tight_layout(); plt.show()
final = samples[-1][2]
print({k: v for k, v in final.items() if k in ("flushes", "compactions", "write-stalls")})"""),
    new_markdown_cell("""\
## 3. Write amplification

Every byte the user writes is written once to the WAL, once when its memtable is flushed,
and again each time a compaction rewrites it one level down. `bytes-written` counts the
bytes the engine wrote to SSTables (flushes plus compactions); dividing by the user bytes
gives the write amplification. Leveled compaction with a size ratio of 10 costs roughly
up to 10× per level in the worst case; random keys in a small database land well below."""),
    new_code_cell("""\
wa = [s["bytes-written"] / ub for _, ub, s in samples if ub]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs[:len(wa)], wa)
ax.set(title="Write amplification (SSTable bytes written / user bytes)", xlabel="puts",
       ylabel="×")
plt.tight_layout(); plt.show()
wal = final.get("wal-bytes-written", 0)
print(f"user bytes {user_bytes / 2**20:.1f} MiB, SSTable bytes written "
      f"{final['bytes-written'] / 2**20:.1f} MiB, write amplification {wa[-1]:.2f}x "
      f"(counting the WAL's {wal / 2**20:.1f} MiB too: "
      f"{(final['bytes-written'] + wal) / user_bytes:.2f}x)")
db.close()"""),
    new_markdown_cell("""\
## 4. Read amplification and the bloom filter

We load the same keys into two databases that differ only in `bloom_bits_per_key`
(10 versus 0 = no filter), with a block cache of just 64 KiB so that most block reads go to
disk, and compact nothing by hand: several levels stay populated. Then we look up
keys that exist and keys that do not, and count **blocks read from disk per lookup**
(`block-cache-misses`) and **time per lookup**.

Without a filter, a lookup of an absent key must read a data block in every level whose
key range covers it; with 10 bits per key the filter answers "not here" about 99% of the
time without touching a data block (`bloom-useful` counts those answers)."""),
    new_code_cell("""\
def load(path, bits):
    d = storage.DB.open(str(path), bloom_bits_per_key=bits, block_cache_bytes=64 << 10, **OPTS)
    r = random.Random(SEED)
    for i in order:
        # Only even numbers: odd ones are absent but fall inside every file's key range.
        d.put(key(2 * i), r.randbytes(VALUE))
    d.wait_for_background_work()
    d.close()

def lookups(path, bits, keys):
    # Reopen so every run starts with a cold block cache.
    with storage.DB.open(str(path), bloom_bits_per_key=bits, block_cache_bytes=64 << 10,
                         **OPTS) as d:
        before = d.stats()
        t = time.perf_counter()
        found = sum(d.get(k) is not None for k in keys)
        dt = time.perf_counter() - t
        after = d.stats()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in
             ("block-cache-misses", "block-cache-hits", "bloom-useful")}
    return found, dt, delta

for bits in (10, 0):
    load(root / f"bloom{bits}", bits)

qr = random.Random(SEED + 1)
present = [key(2 * qr.randrange(N)) for _ in range(10_000)]
absent = [key(2 * qr.randrange(N) + 1) for _ in range(10_000)]
rows = []
for bits in (10, 0):
    for label, keys in (("present", present), ("absent", absent)):
        found, dt, d = lookups(root / f"bloom{bits}", bits, keys)
        rows.append(dict(bloom=bits, keys=label, found=found,
                         reads_per_lookup=d["block-cache-misses"] / len(keys),
                         blocks_touched=(d["block-cache-misses"] + d["block-cache-hits"]) / len(keys),
                         bloom_useful=d["bloom-useful"], us_per_lookup=dt / len(keys) * 1e6))
print(f"{'bloom':>5} {'keys':>8} {'found':>6} {'disk reads/get':>15} {'blocks/get':>11} "
      f"{'bloom-useful':>12} {'us/get':>7}")
for r in rows:
    print(f"{r['bloom']:>5} {r['keys']:>8} {r['found']:>6} {r['reads_per_lookup']:>15.2f} "
          f"{r['blocks_touched']:>11.2f} {r['bloom_useful']:>12} {r['us_per_lookup']:>7.1f}")"""),
    new_markdown_cell("""\
What to look for: for **absent** keys the filter should cut the data blocks read per lookup
from about one per populated level to nearly zero, and the time with it. For **present**
keys the filter helps less: the level that holds the key must be read anyway, and the filter
only spares the levels above it. A 10-bit filter's false-positive rate is about 1%, so
a few absent-key lookups still read a block."""),
    new_code_cell("""\
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
labels = [f"{r['keys']}\\nbloom={r['bloom']}" for r in rows]
a1.bar(labels, [r["reads_per_lookup"] for r in rows], color=["C0", "C0", "C1", "C1"])
a1.set(title="Blocks read from disk per lookup (read amplification)", ylabel="blocks")
a2.bar(labels, [r["us_per_lookup"] for r in rows], color=["C0", "C0", "C1", "C1"])
a2.set(title="Time per lookup", ylabel="µs")
plt.tight_layout(); plt.show()
absent10 = next(r for r in rows if r["bloom"] == 10 and r["keys"] == "absent")
absent0 = next(r for r in rows if r["bloom"] == 0 and r["keys"] == "absent")
assert absent10["found"] == 0 and absent0["found"] == 0
print(f"absent keys: {absent0['reads_per_lookup']:.2f} -> {absent10['reads_per_lookup']:.2f} "
      "disk block reads per lookup with a 10-bit bloom filter")"""),
    new_markdown_cell("""\
## 5. Clean up

Next: `02_net` drives the RPC layer. To go further here, change `OPTS` (a bigger memtable,
another `max_bytes_multiplier`) and watch the write amplification move."""),
    new_code_cell("workdir.cleanup()"),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
})
nbformat.write(nb, OUT)
print("wrote", OUT)
