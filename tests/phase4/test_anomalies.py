"""The isolation anomalies of Adya's thesis as Hermitage tests them (Kleppmann's suite of
interleaved transactions, https://github.com/ept/hermitage; the names are Jepsen's), run
against a real 3-node cluster: every anomaly snapshot isolation prevents is prevented,
and write skew (G2-item), which snapshot isolation allows, is shown allowed.

Each test starts from Hermitage's table, two keys ``1 -> 10`` and ``2 -> 20`` under the
test's own prefix, then interleaves two or three transactions step by step from one
thread, in the order the comments give (``T1: ...``); there is no timing involved,
except in the test whose writer holds real locks (G1a with locks), where a thread runs
the commit that the test interrupts.

The SI outcomes asserted: reads see the snapshot at the transaction's start (and its
own writes), never an uncommitted, aborted or intermediate value; of two transactions
writing one key, the second to commit fails with ``TxnConflictError`` and nothing of it
is visible.
"""

import threading

import pytest

import tinykv
from txn_locks import wait_until_locked


def _table(cl, ns: bytes) -> tuple[bytes, bytes]:
    """Hermitage's ``test`` table: rows 1 -> 10 and 2 -> 20. Returns the two keys."""
    x, y = ns + b"1", ns + b"2"
    with cl.txn() as t:
        t.put(x, b"10")
        t.put(y, b"20")
    return x, y


def _values(cl, *keys: bytes) -> list[bytes | None]:
    """The committed values now (a fresh read-only transaction)."""
    with cl.txn() as t:
        return [t.get(k) for k in keys]


def test_g0_dirty_write_is_prevented(cl, ns):
    """G0, write cycles: T1 and T2 both write both rows; T1 commits first, so T2's
    commit fails and the rows hold T1's values together (never 11 with 22)."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    t1.put(x, b"11")   # T1
    t2.put(x, b"12")   # T2
    t1.put(y, b"21")   # T1
    t1.commit()        # T1
    t2.put(y, b"22")   # T2
    with pytest.raises(tinykv.TxnConflictError, match="write conflict"):
        t2.commit()    # T2: first committer wins
    assert _values(cl, x, y) == [b"11", b"21"]


def test_g1a_aborted_read_is_prevented(cl, ns):
    """G1a: T2 never reads what T1 wrote before T1 aborted."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    t1.put(x, b"101")                            # T1
    t1.put(y, b"102")                            # T1
    assert [t2.get(x), t2.get(y)] == [b"10", b"20"]  # T2
    t1.rollback()                                # T1
    assert [t2.get(x), t2.get(y)] == [b"10", b"20"]  # T2
    t2.commit()                                  # T2
    assert _values(cl, x, y) == [b"10", b"20"]


def test_g1a_rolled_back_locks_are_never_read(cl, cluster, ns):
    """G1a with T1's values physically on the servers: T1 prewrites both rows (locks
    holding 101 and 102) and stalls before its commit point (the test hook
    ``_pause_after_prewrite``, on a thread). T2, begun after T1, reads: it must wait for
    T1's locks, then -- T1's lock TTL having run out -- roll T1 back and read 10 and 20.
    When T1 wakes, its commit fails: T1 was aborted by T2, and nothing of it shows."""
    x, y = _table(cl, ns)
    # T1's locks outlive it by 2 s; it sleeps 6 s: 4 s for T2 to roll it back. (Its
    # commit's deadline covers the pause.)
    t1 = cluster.client(timeout=10.0).txn(lock_ttl=2.0, timeout=30.0,
                                          _pause_after_prewrite=6.0)
    t1.put(x, b"101")
    t1.put(y, b"102")
    outcome: list[BaseException | int] = []
    committer = threading.Thread(target=lambda: outcome.append(_commit_outcome(t1)))
    committer.start()
    probe = cluster.client(timeout=10.0)
    wait_until_locked(probe, x)               # T1's prewrite is in place
    t2 = cl.txn()                              # T2 begins after T1's prewrite
    assert [t2.get(x), t2.get(y)] == [b"10", b"20"]   # T2: waited out T1, rolled it back
    t2.commit()
    committer.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], tinykv.TxnConflictError), outcome
    assert "rolled back" in str(outcome[0])
    assert _values(cl, x, y) == [b"10", b"20"]


def _commit_outcome(t) -> BaseException | int:
    try:
        return t.commit()
    except tinykv.Error as e:
        return e


def test_g1b_intermediate_read_is_prevented(cl, ns):
    """G1b: T1 writes 101 and then 11 to row 1; nobody ever reads 101 -- not T2 during
    T1, not T2 after T1 committed (its snapshot), not a reader at T1's commit revision."""
    x, _ = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    t1.put(x, b"101")           # T1
    assert t1.get(x) == b"101"  # T1 reads its own write
    assert t2.get(x) == b"10"   # T2
    t1.put(x, b"11")            # T1
    commit_ts = t1.commit()     # T1
    assert t2.get(x) == b"10"   # T2: still its snapshot
    t2.commit()                 # T2
    assert cl.get(x, revision=commit_ts) == b"11"
    assert cl.get(x, revision=commit_ts - 1) == b"10"


def test_g1c_circular_information_flow_is_prevented(cl, ns):
    """G1c: T1 writes row 1 and reads row 2 while T2 writes row 2 and reads row 1; each
    reads the other's row as it was (20, 10), so neither depends on the other, and both
    commit (they write different rows)."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    t1.put(x, b"11")           # T1
    t2.put(y, b"22")           # T2
    assert t1.get(y) == b"20"  # T1
    assert t2.get(x) == b"10"  # T2
    t1.commit()                # T1
    t2.commit()                # T2
    assert _values(cl, x, y) == [b"11", b"22"]


def test_otv_observed_transaction_vanishes_is_prevented(cl, ns):
    """OTV: T1 writes both rows and commits; T2 tries to overwrite them (and fails, T1
    having committed first). T3, begun before T1 committed, sees neither of T1's writes
    at every read; T4, begun after, sees both at every read -- T1 never half-vanishes
    from a snapshot while T2 runs and aborts."""
    x, y = _table(cl, ns)
    t1, t2, t3 = cl.txn(), cl.txn(), cl.txn()
    t1.put(x, b"11")                      # T1
    t1.put(y, b"19")                      # T1
    t2.put(x, b"12")                      # T2
    t1.commit()                           # T1
    t4 = cl.txn()                         # T4 begins after T1 committed
    assert t3.get(x) == b"10"             # T3
    assert t4.get(x) == b"11"             # T4
    t2.put(y, b"18")                      # T2
    assert t3.get(y) == b"20"             # T3
    assert t4.get(y) == b"19"             # T4
    with pytest.raises(tinykv.TxnConflictError):
        t2.commit()                       # T2
    assert [t3.get(y), t3.get(x)] == [b"20", b"10"]  # T3
    assert [t4.get(y), t4.get(x)] == [b"19", b"11"]  # T4
    t3.commit()
    t4.commit()
    assert _values(cl, x, y) == [b"11", b"19"]


def test_pmp_predicate_many_preceders_is_prevented(cl, ns):
    """PMP, a predicate read (a scan filtered on the value): T1 finds no row with value
    30; T2 inserts one and commits; T1's same predicate read still finds none."""
    _table(cl, ns)
    end = tinykv.client.prefix_end(ns)
    t1, t2 = cl.txn(), cl.txn()
    assert [k for k, v in t1.scan(ns, end) if v == b"30"] == []  # T1
    t2.put(ns + b"3", b"30")                                     # T2
    t2.commit()                                                  # T2
    assert [k for k, v in t1.scan(ns, end) if int(v) % 3 == 0] == []  # T1
    assert len(t1.scan(ns, end)) == 2                            # T1: the same two rows
    t1.commit()
    assert len(cl.scan(ns, end)) == 3


def test_pmp_write_predicate_many_preceders_is_prevented(cl, ns):
    """PMP with writes: T1 adds 10 to every row (read by a scan); T2 deletes the row
    whose value is 20 (also found by a scan); T1 commits first, so T2 fails: it would
    delete a row T1 changed after T2's snapshot."""
    x, y = _table(cl, ns)
    end = tinykv.client.prefix_end(ns)
    t1, t2 = cl.txn(), cl.txn()
    for k, v in t1.scan(ns, end):              # T1
        t1.put(k, b"%d" % (int(v) + 10))
    for k, v in t2.scan(ns, end):              # T2
        if v == b"20":
            t2.delete(k)
    t1.commit()                                # T1
    with pytest.raises(tinykv.TxnConflictError):
        t2.commit()                            # T2
    assert _values(cl, x, y) == [b"20", b"30"]


def test_p4_lost_update_is_prevented(cl, ns):
    """P4: T1 and T2 both read row 1 (10) and write back 11; T1 commits first, so T2's
    commit fails -- the row was incremented once and says so."""
    x, _ = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    assert t1.get(x) == b"10"  # T1
    assert t2.get(x) == b"10"  # T2
    t1.put(x, b"11")           # T1
    t2.put(x, b"11")           # T2
    t1.commit()                # T1
    with pytest.raises(tinykv.TxnConflictError):
        t2.commit()            # T2
    assert _values(cl, x) == [b"11"]


def test_p4_no_increment_is_lost_under_concurrency(cluster, cl, ns):
    """Four threads, each its own client, increment one counter 25 times, retrying on
    TxnConflictError: the counter ends at exactly 100."""
    key = ns + b"counter"
    cl.put(key, b"0")
    threads, per_thread = 4, 25
    start = threading.Barrier(threads)
    conflicts = [0] * threads
    errors: list[BaseException] = []

    def increment(i: int) -> None:
        c = cluster.client(timeout=10.0)
        start.wait()
        try:
            for _ in range(per_thread):
                for _attempt in range(200):
                    t = c.txn()
                    t.put(key, b"%d" % (int(t.get(key)) + 1))
                    try:
                        t.commit()
                        break
                    except tinykv.TxnConflictError:
                        conflicts[i] += 1
                else:
                    raise AssertionError("200 conflicts in a row")
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    workers = [threading.Thread(target=increment, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    assert cl.get(key) == b"%d" % (threads * per_thread), f"conflicts={conflicts}"


def test_g_single_read_skew_is_prevented(cl, ns):
    """G-single: T1 reads row 1 (10); T2 moves 2 from row 2 to row 1 (12, 18) and
    commits; T1 then reads row 2 as of its snapshot (20): T1 sees the sum 30, never
    10 + 18."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    assert t1.get(x) == b"10"                       # T1
    assert [t2.get(x), t2.get(y)] == [b"10", b"20"]  # T2
    t2.put(x, b"12")                                # T2
    t2.put(y, b"18")                                # T2
    t2.commit()                                     # T2
    assert t1.get(y) == b"20"                       # T1
    t1.commit()                                     # T1
    assert _values(cl, x, y) == [b"12", b"18"]


def test_g_single_write_read_skew_is_prevented(cl, ns):
    """G-single with a write: T1 reads row 1 (10); T2 changes both rows and commits; T1
    deletes row 2, which it still sees as 20 -- a write based on a skewed view, so
    T1's commit fails."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    assert t1.get(x) == b"10"  # T1
    t2.put(x, b"12")           # T2
    t2.put(y, b"18")           # T2
    t2.commit()                # T2
    assert t1.get(y) == b"20"  # T1
    t1.delete(y)               # T1
    with pytest.raises(tinykv.TxnConflictError):
        t1.commit()            # T1
    assert _values(cl, x, y) == [b"12", b"18"]


def test_g2_item_write_skew_is_allowed_under_snapshot_isolation(cl, ns):
    """G2-item, write skew: T1 and T2 both read both rows, then T1 writes row 1 and T2
    row 2 (say each checked "the sum stays >= 25" on its snapshot). Snapshot isolation
    allows it: both commit, and the result (11 + 21) is one no serial order of T1 and
    T2 produces from their reads. A transaction that must not skew writes the rows it
    read (here: T1 also writes row 2 back), turning the skew into a write conflict."""
    x, y = _table(cl, ns)
    t1, t2 = cl.txn(), cl.txn()
    assert [t1.get(x), t1.get(y)] == [b"10", b"20"]  # T1
    assert [t2.get(x), t2.get(y)] == [b"10", b"20"]  # T2
    t1.put(x, b"11")                                # T1
    t2.put(y, b"21")                                # T2
    t1.commit()                                     # T1
    t2.commit()                                     # T2: allowed (SI, not serializable)
    assert _values(cl, x, y) == [b"11", b"21"]
    # The remedy: materialize the conflict.
    t1, t2 = cl.txn(), cl.txn()
    assert [t1.get(x), t1.get(y)] == [b"11", b"21"]
    assert [t2.get(x), t2.get(y)] == [b"11", b"21"]
    t1.put(x, b"12")
    t1.put(y, b"21")  # written back unchanged
    t2.put(y, b"22")
    t1.commit()
    with pytest.raises(tinykv.TxnConflictError):
        t2.commit()
    assert _values(cl, x, y) == [b"12", b"21"]
