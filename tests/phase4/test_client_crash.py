"""A client killed (SIGKILL) in the middle of a transaction's commit, on a real 3-node
cluster: the transaction is all-or-nothing for everyone else. Killed before its commit
point (after the prewrites: every key locked), it is rolled back by the first client
that meets a lock once the lock's TTL has passed -- none of its writes is ever visible.
Killed right after its commit point (the primary committed, the secondaries still
locked), it is rolled forward at once by the clients that meet its locks -- all of its
writes are visible. A plain put on a key still locked goes through once the lock is
resolved.

The transaction runs in a child process (a small script using the package) that stops
at the commit step with the test hooks ``_pause_after_prewrite`` /
``_pause_after_primary`` (30 s); the test waits until the servers hold its locks (or its
committed primary), then kills it.
"""

import subprocess
import sys
import time

from tinykv import testing
from txn_locks import wait_until_locked

CHILD = r"""
import sys
import tinykv

endpoints, pause, lock_ttl, keys = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
cl = tinykv.Client(endpoints, timeout=10.0)
t = cl.txn(lock_ttl=lock_ttl, **{pause: 30.0})
for k in keys:
    t.put(k, b"written")
print("committing", flush=True)
t.commit()
print("committed", flush=True)  # not reached: the test kills this process in the pause
"""

# How long, beyond the lock TTL where one applies, resolving a dead client's locks may
# take on a loaded 2-core machine (a few RPCs per lock; measured well under 1 s).
BOUND = 5.0


def _start_child(cluster, pause: str, lock_ttl: float, keys: list[bytes]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, ",".join(cluster.endpoints), pause, str(lock_ttl),
         *(k.decode() for k in keys)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "committing":
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"child did not start its commit: {line!r} {err}")
    return proc


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_client_killed_before_its_commit_point_is_rolled_back(cluster, cl, ns):
    keys = [ns + b"a", ns + b"b", ns + b"c"]  # the primary is the smallest, ns + b"a"
    lock_ttl = 2.0
    probe = cluster.client(timeout=10.0)
    proc = _start_child(cluster, "_pause_after_prewrite", lock_ttl, keys)
    try:
        wait_until_locked(probe, keys[-1])  # the last prewrite, after the primary's
    finally:
        _kill(proc)
    assert proc.returncode == -9
    killed = time.monotonic()
    # A plain put on a locked key: it waits out the TTL, rolls the transaction back
    # (from its primary) and goes through.
    rev = cl.put(keys[1], b"plain")
    assert time.monotonic() - killed < lock_ttl + BOUND
    with cl.txn() as reader:
        seen = [reader.get(k) for k in keys]
    assert seen == [None, b"plain", None]  # nothing of the killed transaction
    assert cl.get(keys[1], revision=rev - 1) is None  # nor before the put
    assert cl.scan_prefix(ns) == [(keys[1], b"plain")]
    assert time.monotonic() - killed < lock_ttl + BOUND


def test_client_killed_after_its_commit_point_is_rolled_forward(cluster, cl, ns):
    keys = [ns + b"a", ns + b"b", ns + b"c"]
    # A long TTL: rolling forward must not wait for it (the bound is far below it).
    lock_ttl = 30.0
    probe = cluster.client(timeout=10.0)
    proc = _start_child(cluster, "_pause_after_primary", lock_ttl, keys)
    try:
        testing.wait_until(lambda: _read(probe, keys[0]) == b"written", timeout=20.0,
                           what="the primary's commit")
    finally:
        _kill(proc)
    assert proc.returncode == -9
    killed = time.monotonic()
    # The secondaries are still locked (the child died before committing them): a plain
    # put on one rolls the transaction forward there, then overwrites it.
    rev = cl.put(keys[2], b"plain")
    with cl.txn() as reader:
        seen = [reader.get(k) for k in keys]
    assert seen == [b"written", b"written", b"plain"]
    assert cl.get(keys[2], revision=rev - 1) == b"written"
    assert time.monotonic() - killed < BOUND < lock_ttl


def _read(probe, key: bytes) -> bytes | None:
    """The key's value, or None also while a live lock holds it up (0.2 s)."""
    try:
        return probe.get(key, timeout=0.2)
    except TimeoutError:
        return None
