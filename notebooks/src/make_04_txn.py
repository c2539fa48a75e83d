"""Generates notebooks/04_txn.ipynb (outputs stripped). Run from anywhere:

    .venv/bin/python notebooks/src/make_04_txn.py
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "04_txn.ipynb"

cells = [
    new_markdown_cell("""\
# 04 · Transactions: MVCC revisions, Percolator commits and snapshot isolation

**Goal.** Use the transactional layer of phase 4 through the client of phase 5, on a real
cluster of three `tinykv-server` processes: read a key as it was at any past revision;
watch two transactions collide on one key and the loser retry; kill a client in the middle
of its commit and see the others clean up its locks (rolled back before the commit point,
rolled forward after it); meet *write skew*, the one anomaly snapshot isolation allows,
and its fix; and run a bank under concurrent transfers whose total never moves in any
snapshot.

**Prerequisites.** The `tinykv` package built and installed into the venv
(`bash scripts/build.sh`). Background: Peng & Dabek, *Large-scale Incremental Processing
Using Distributed Transactions and Notifications* (OSDI 2010, §2.2 Percolator's
transactions); Berenson et al., *A Critique of ANSI SQL Isolation Levels* (1995, snapshot
isolation and write skew); `phase4_txn/README.md` for the MVCC layout and the oracle,
`phase5_client/README.md` for the client's side of a commit.

**Runtime.** About 10–20 seconds (one step waits out a lock's TTL, 2 s, on purpose). Seeds are
fixed; the cluster's data lives in a temporary directory deleted at the end."""),
    new_markdown_cell("""\
## 0. A cluster of three servers

`tinykv.testing.Cluster` starts three `tinykv-server` processes on free loopback ports,
each with its data in `node<i>/` and its log in `node<i>.log` under our temporary
directory. The servers die with this kernel even if the last cell never runs (they are
started with a parent-death signal). The client's own C++ log lines go to a file too, so
that none lands in a cell."""),
    new_code_cell("""\
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import matplotlib.pyplot as plt

import tinykv
from tinykv import testing

workdir = tempfile.TemporaryDirectory(prefix="tinykv-nb04-")
root = Path(workdir.name)
tinykv.common.configure_logging(file=str(root / "client.log"))
t0 = time.perf_counter()
cluster = testing.Cluster(n=3, data_dir=root / "cluster")
leader = cluster.leader()
cl = cluster.client(timeout=10.0)
print(f"started in {time.perf_counter() - t0:.1f}s; endpoints {cluster.endpoints}; "
      f"leader: node {leader}")"""),
    new_markdown_cell("""\
## 1. Every write is a version

Each write commits at a timestamp from the leader's oracle, its **revision**, and the
store keeps the old versions (MVCC: a key's versions sit next to each other, newest
first). `put` returns the revision; `get(key, revision=r)` reads the key as it was at
`r`: the newest version at or below it. A revision is a hybrid timestamp,
`physical milliseconds << 18 | logical`, so revisions grow with time and two taken in the
same millisecond still differ.

We set a thermostat five times, then read it back at each write's revision, one below
the first (before the key existed), and at revisions *between* the writes."""),
    new_code_cell("""\
key = b"thermostat"
revisions = []
for celsius in (18, 21, 19, 23, 22):
    revisions.append((cl.put(key, b"%d" % celsius), celsius))
now = cl.timestamp()   # above every acknowledged write: a read at it sees them all

print(f"{'revision':>20}  {'ms after 1st':>12}  value read at it")
r0 = revisions[0][0]
print(f"{r0 - 1:>20}  {'':>12}  {cl.get(key, revision=r0 - 1)}")
for rev, _ in revisions:
    print(f"{rev:>20}  {(rev - r0) / (1 << 18):>12.1f}  {cl.get(key, revision=rev)}")
value, read_rev = cl.get_with_revision(key)
print(f"latest: {value} (read at revision {read_rev})")

# Reads at 40 revisions spread between the first write and now.
probes = [r0 + (now - r0) * i // 39 for i in range(40)]
seen = [int(cl.get(key, revision=r)) for r in probes]"""),
    new_markdown_cell("""\
What to look for: the step line is the history the writes made; every dot, a read at an
arbitrary revision, lies on it -- a read between two writes sees the older one. Nothing
is overwritten in place, which is what lets a transaction read one consistent snapshot
while others keep writing."""),
    new_code_cell("""\
def ms(r):  # the revision's physical part, in ms after the first write's
    return (r - r0) / (1 << 18)

xs = [ms(r) for r, _ in revisions] + [ms(now)]
ys = [v for _, v in revisions] + [revisions[-1][1]]
fig, ax = plt.subplots(figsize=(8, 3))
ax.step(xs, ys, where="post", label="writes (put)")
ax.scatter([ms(r) for r, _ in revisions], [v for _, v in revisions], zorder=3, s=30)
ax.scatter([ms(r) for r in probes], seen, s=8, color="orange", zorder=4,
           label="get(key, revision=r)")
ax.set_xlabel("revision (its physical part: ms after the first write)")
ax.set_ylabel("thermostat (°C)"); ax.legend(); plt.tight_layout(); plt.show()
assert seen == [next(v for r, v in reversed(revisions) if r <= p) for p in probes]"""),
    new_markdown_cell("""\
A delete is a version too (a tombstone): the key is gone now, and still there in the
past."""),
    new_code_cell("""\
cl.delete(key)
print("now:", cl.get(key), "  at the last write's revision:",
      cl.get(key, revision=revisions[-1][0]))"""),
    new_markdown_cell("""\
## 2. Two transactions, one key: first committer wins

`cl.txn()` begins a transaction at a fresh timestamp, its `start_ts`: its reads see the
snapshot at `start_ts` plus its own writes, and its writes stay in the client until
`commit()`. Two transactions read a counter (10), and both write back 11. The first to
commit wins; the second finds a version committed after its `start_ts` on a key it writes
and fails with `TxnConflictError`. Nothing of it is applied -- the lost update that a
plain read-then-put would make cannot happen."""),
    new_code_cell("""\
counter = b"counter"
cl.put(counter, b"10")
t1, t2 = cl.txn(), cl.txn()
a, b = int(t1.get(counter)), int(t2.get(counter))
print(f"t1 (start_ts {t1.start_ts}) reads {a}; t2 (start_ts {t2.start_ts}) reads {b}")
t1.put(counter, b"%d" % (a + 1))
t2.put(counter, b"%d" % (b + 1))
print("t1 commits at revision", t1.commit())
try:
    t2.commit()
except tinykv.TxnConflictError as e:
    print("t2:", type(e).__name__, "-", e)
print("counter:", cl.get(counter))"""),
    new_markdown_cell("""\
The answer to a conflict is to run the transaction again from the start, in a new
transaction that reads the new value. The C++ client calls that `RunTxn`; here is the
same loop in Python: up to 10 attempts, with a random pause in a doubling window between
them (full jitter), so that retriers that collided do not collide again in lockstep.
Four threads then increment the counter 10 times each, retrying every conflict: no
increment is lost."""),
    new_code_cell("""\
jitter = random.Random(4)

def run_txn(client, body, attempts=10):
    \"\"\"Runs body(t) in a new transaction until one commits; returns (body's result,
    attempts used). Conflicts are retried; any other error rolls back and propagates.\"\"\"
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            time.sleep(jitter.uniform(0, min(200, 5 << min(attempt - 1, 5))) / 1000)
        t = client.txn()
        try:
            result = body(t)
            t.commit()
            return result, attempt
        except tinykv.TxnConflictError:
            continue          # commit() already discarded it
        except BaseException:
            if not t.finished:
                t.rollback()
            raise
    raise tinykv.TxnConflictError(f"still conflicting after {attempts} attempts")

def increment(t):
    t.put(counter, b"%d" % (int(t.get(counter)) + 1))

tries = []
def worker():
    c = cluster.client(timeout=10.0)
    for _ in range(10):
        tries.append(run_txn(c, increment)[1])

threads = [threading.Thread(target=worker) for _ in range(4)]
for th in threads: th.start()
for th in threads: th.join()
print(f"counter: {cl.get(counter)} (11 + 4 x 10); {len(tries)} increments took "
      f"{sum(tries)} attempts ({sum(tries) - len(tries)} retried conflicts)")
assert cl.get(counter) == b"51\""""),
    new_markdown_cell("""\
## 3. A client dies in the middle of its commit

A Percolator commit has two steps. **Prewrite** locks every key the transaction writes
(the lock holds the value and names the *primary*, the smallest key); then the client
takes a commit timestamp and **commits the primary**: that single write is the commit
point. The other keys (secondaries) are committed afterwards, in the background. A lock
carries a TTL: how long its transaction may stay silent before others may give up on it.

So when a client dies, whoever next meets one of its locks asks the primary:

* primary still locked and its TTL run out → the transaction never committed: **roll it
  back** (a reader must wait out the TTL first -- the client might just be slow);
* primary committed → the transaction committed: **roll the lock forward** at once, to
  the primary's commit timestamp.

A child process runs a transaction writing `crash/a`, `crash/b`, `crash/c` (which hold
`old`), stopping after the prewrite (test hook `_pause_after_prewrite`) or after the
primary's commit (`_pause_after_primary`); we kill it with SIGKILL there and time a
reader."""),
    new_code_cell("""\
CHILD = r'''
import sys, tinykv
endpoints, pause, lock_ttl, keys = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
t = tinykv.Client(endpoints, timeout=10.0).txn(lock_ttl=lock_ttl, **{pause: 30.0})
for k in keys:
    t.put(k, b"new")
print("committing", flush=True)
t.commit()   # stops 30 s in the pause: killed there
'''
keys = [b"crash/a", b"crash/b", b"crash/c"]   # crash/a, the smallest, is the primary
probe = cluster.client(timeout=10.0)

def locked(key):
    \"\"\"Whether a live lock holds up a read of key (a read waits for a live lock).\"\"\"
    try:
        probe.get(key, timeout=0.2)
        return False
    except tinykv.TimeoutError:
        return True

def crash_mid_commit(pause, lock_ttl, ready):
    \"\"\"Starts the child, waits until ready() says it reached the pause, kills it;
    returns the time of the kill.\"\"\"
    with cl.txn() as t:
        for k in keys:
            t.put(k, b"old")
    child = subprocess.Popen([sys.executable, "-c", CHILD, ",".join(cluster.endpoints),
                              pause, str(lock_ttl), *(k.decode() for k in keys)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "committing", child.stderr.read()
        testing.wait_until(ready, timeout=20.0, what=f"the child's {pause}")
    finally:
        child.kill()   # SIGKILL: no cleanup of any kind in the child
        child.communicate()
    return time.perf_counter()

def timed_read():
    with cl.txn() as t:
        values = [t.get(k) for k in keys]
    return values, time.perf_counter()"""),
    new_markdown_cell("""\
**Killed before the commit point.** Lock TTL 2 s. The reader meets the lock on `crash/a`,
finds the primary still locked and its TTL not yet run out, and polls; once it has run
out, the reader rolls the transaction back and reads `old`. What to look for: the read
takes about the rest of the TTL, and shows none of the child's writes."""),
    new_code_cell("""\
killed = crash_mid_commit("_pause_after_prewrite", 2.0, lambda: locked(keys[-1]))
values, answered = timed_read()
print(f"child killed after its prewrite; the reader answered {answered - killed:.2f}s "
      f"after the kill (lock TTL 2 s): {values}")
assert values == [b"old"] * 3"""),
    new_markdown_cell("""\
**Killed after the commit point.** Lock TTL 30 s this time. The child committed the
primary and died with `crash/b` and `crash/c` still locked. The reader meets those locks,
finds the primary committed, and rolls them forward: no waiting on the TTL."""),
    new_code_cell("""\
def primary_committed():
    try:
        return probe.get(keys[0], timeout=0.2) == b"new"
    except tinykv.TimeoutError:
        return False

killed = crash_mid_commit("_pause_after_primary", 30.0, primary_committed)
values, answered = timed_read()
print(f"child killed after its primary's commit; the reader answered "
      f"{(answered - killed) * 1000:.0f} ms after the kill (lock TTL 30 s): {values}")
assert values == [b"new"] * 3 and answered - killed < 30"""),
    new_markdown_cell("""\
## 4. Write skew: what snapshot isolation allows

Two doctors are on call; the rule is that **at least one** stays on call. Alice and Bob
each start a transaction, count the doctors on call in their snapshot (two), and take
themselves off. Each writes only their *own* key, so the two transactions do not conflict:
snapshot isolation lets both commit, and nobody is on call. No serial order of the two
would have produced this (the second would have seen one doctor and stayed). This is
Berenson et al.'s *write skew* (Adya's G2-item)."""),
    new_code_cell("""\
DOCTORS = b"oncall/"
END = tinykv.client.prefix_end(DOCTORS)

def reset_roster():
    with cl.txn() as t:
        t.put(DOCTORS + b"alice", b"on")
        t.put(DOCTORS + b"bob", b"on")

def go_off_call(t, me, write_back=False):
    \"\"\"me leaves if another doctor stays on call (as seen in t's snapshot).\"\"\"
    roster = t.scan(DOCTORS, END)
    if sum(v == b"on" for _, v in roster) < 2:
        return False
    t.put(DOCTORS + me, b"off")
    if write_back:     # the fix: also write the rows the decision read
        for k, v in roster:
            if k != DOCTORS + me:
                t.put(k, v)
    return True

reset_roster()
alice, bob = cl.txn(), cl.txn()
print("alice leaves:", go_off_call(alice, b"alice"), " bob leaves:", go_off_call(bob, b"bob"))
alice.commit(); bob.commit()
roster = cl.scan(DOCTORS, END)
print("both committed; roster:", roster)
print("on call:", sum(v == b"on" for _, v in roster), "-- the invariant is broken")"""),
    new_markdown_cell("""\
**The fix: make the conflict real.** The decision read both rows, so each transaction
also writes back the row it read and did not change (unchanged). Now the two
transactions write a common key, first committer wins, and the loser -- run again in a
new transaction by `run_txn` -- sees one doctor on call and stays. (The C++ client's
`Txn::Lock` does the same without writing a new version, a lock-only mutation; the
`tinykv txn` CLI applies it to every key its compares read, which makes its transactions
serializable.)"""),
    new_code_cell("""\
reset_roster()
alice, bob = cl.txn(), cl.txn()
go_off_call(alice, b"alice", write_back=True); go_off_call(bob, b"bob", write_back=True)
alice.commit()
try:
    bob.commit()
except tinykv.TxnConflictError as e:
    print("bob:", type(e).__name__, "-", e)
left, attempts = run_txn(cl, lambda t: go_off_call(t, b"bob", write_back=True))
print(f"bob, run again by run_txn: leaves = {left} (attempts: {attempts})")
roster = cl.scan(DOCTORS, END)
print("roster:", roster, " on call:", sum(v == b"on" for _, v in roster))
assert sum(v == b"on" for _, v in roster) == 1"""),
    new_markdown_cell("""\
## 5. A bank under concurrent transfers

Jepsen's bank test: five accounts of 100. Three threads, each with its own client, move
a random amount between two random accounts -- read both, write both, in one transaction
-- and count their commits and conflicts; a fourth thread reads all accounts in one
transaction (a scan of its snapshot) as often as it can. For about four seconds.

What to look for: the balances wander, but every snapshot's total is exactly 500 (the
flat black line), however many
transfers commit or abort meanwhile -- a transfer is applied whole or not at all, and a
snapshot never sees half of one. The second plot shows how often transfers collided."""),
    new_code_cell("""\
ACCOUNTS = [b"bank/%d" % i for i in range(5)]
BANK_END = tinykv.client.prefix_end(b"bank/")
with cl.txn() as t:
    for k in ACCOUNTS:
        t.put(k, b"100")
stop = threading.Event()
outcomes = []         # (seconds, "commit" or "conflict")
snapshots = []        # (seconds, total, balances)
start = time.perf_counter()

def transferer(seed):
    c, rng = cluster.client(timeout=10.0), random.Random(seed)
    while not stop.is_set():
        src, dst = rng.sample(ACCOUNTS, 2)
        amount = rng.randint(1, 20)
        t = c.txn()
        a, b = int(t.get(src)), int(t.get(dst))
        if a < amount:
            t.rollback()
            continue
        t.put(src, b"%d" % (a - amount)); t.put(dst, b"%d" % (b + amount))
        try:
            t.commit()
            outcomes.append((time.perf_counter() - start, "commit"))
        except tinykv.TxnConflictError:
            outcomes.append((time.perf_counter() - start, "conflict"))

def reader():
    c = cluster.client(timeout=10.0)
    while not stop.is_set():
        with c.txn() as t:
            balances = [int(v) for _, v in t.scan(b"bank/", BANK_END)]
        snapshots.append((time.perf_counter() - start, sum(balances), balances))

threads = [threading.Thread(target=transferer, args=(s,)) for s in range(3)]
threads.append(threading.Thread(target=reader))
for th in threads: th.start()
time.sleep(4.0)
stop.set()
for th in threads: th.join()
commits = sum(o == "commit" for _, o in outcomes)
conflicts = len(outcomes) - commits
print(f"{commits} transfers committed, {conflicts} aborted by conflicts "
      f"(abort rate {conflicts / max(1, len(outcomes)):.0%}); {len(snapshots)} snapshots, "
      f"totals seen: {sorted({s for _, s, _ in snapshots})}")
print("final balances:", [int(v) for _, v in cl.scan_prefix(b"bank/")])"""),
    new_code_cell("""\
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
times = [t for t, _, _ in snapshots]
for i, k in enumerate(ACCOUNTS):
    ax1.plot(times, [bal[i] for _, _, bal in snapshots], lw=0.8, label=k.decode())
ax1.plot(times, [s for _, s, _ in snapshots], "k.-", ms=3, lw=2, label="total")
ax1.set_ylim(0, 720); ax1.set_ylabel("balance in snapshot")
ax1.set_title("each snapshot: the accounts move, their total does not")
ax1.legend(ncol=6, fontsize=8, loc="upper center")
width = 0.25
bins = int(max(t for t, _ in outcomes) / width) + 1
per_bin = {k: [0] * bins for k in ("commit", "conflict")}
for t, o in outcomes:
    per_bin[o][int(t / width)] += 1
lefts = [i * width for i in range(bins)]
ax2.bar(lefts, per_bin["commit"], width, align="edge", label="committed")
ax2.bar(lefts, per_bin["conflict"], width, align="edge", bottom=per_bin["commit"],
        label="aborted (conflict)")
ax2.set_xlabel("time (s)"); ax2.set_ylabel(f"transfers per {width} s"); ax2.legend()
plt.tight_layout(); plt.show()
assert {s for _, s, _ in snapshots} == {500}
assert all(b >= 0 for _, _, bal in snapshots for b in bal)"""),
    new_markdown_cell("""\
## 6. Stop the cluster

Stops the three servers (SIGTERM, then SIGKILL after a grace period), closes every client
the cluster handed out, and deletes the data."""),
    new_code_cell("""\
cluster.stop()
workdir.cleanup()
print("stopped; every server exited:", all(not n.alive for n in cluster.nodes.values()))"""),
]

nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
})
nbformat.write(nb, OUT)
print("wrote", OUT)
