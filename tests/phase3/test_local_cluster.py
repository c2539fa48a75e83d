"""LocalCluster: real Raft nodes in this process over loopback TCP with real files.

Basic replication, restart from disk, leader failover, snapshot catch-up, and concurrent
clients doing put/get/CAS while the leader is partitioned away and healed, with the
recorded history checked by tinykv.linearizability.
"""

import os
import random
import threading
import time

import pytest

from tinykv import errors
from tinykv.linearizability import History, check
from tinykv.raft import LocalCluster
from tinykv.testing import wait_until


def _seed():
    s = int(os.environ.get("TINYKV_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
    print(f"seed={s} (replay with TINYKV_SEED={s})")
    return s


def test_replicates_writes_to_every_node_and_reads_are_linearizable(tmp_path):
    with LocalCluster(3, tmp_path) as c:
        assert c.wait_leader() in (1, 2, 3)
        for i in range(20):
            c.put(b"k%02d" % i, b"v%d" % i)
        assert c.get(b"k05") == b"v5"
        assert c.get(b"missing") is None
        assert c.scan(b"k00", b"k03") == [(b"k00", b"v0"), (b"k01", b"v1"), (b"k02", b"v2")]
        for i in c.nodes():  # every replica applies the same state
            assert wait_until(lambda: c.node(i).get(b"k19") == b"v19"), f"node {i}"
        assert c.cas(b"k00", b"v0", b"new") is True
        assert c.cas(b"k00", b"v0", b"again") is False
        assert c.cas(b"fresh", None, b"1") is True
        c.delete(b"k01")
        assert c.get(b"k01") is None
        assert c.delete_range(b"k10", b"k20") == 10
        st = c.status(c.leader())
        assert st["role"] == "leader" and len(st["members"]) == 3
        assert st["log_fsyncs"] > 0


def test_keys_and_values_must_be_bytes_like_or_str(tmp_path):
    # The same input rule as the storage engine and the client: bytes-like or
    # str (UTF-8); an int or a list is a TypeError, not bytes(5) or bytes([1, 2]).
    with LocalCluster(1, tmp_path) as c:
        c.wait_leader()
        n = c.node(c.leader())
        n.put(b"b", bytearray(b"ba"))
        n.put("s", memoryview(b"mv"))
        assert n.get("b") == b"ba" and n.get(b"s") == b"mv"
        for bad in (5, [1, 2], None, 1.5):
            with pytest.raises(TypeError):
                n.put(b"x", bad)
            with pytest.raises(TypeError):
                n.get(bad)
        with pytest.raises(TypeError):
            n.cas(b"b", 5, b"new")
        with pytest.raises(TypeError):
            n.scan(b"a", 7)
        assert n.get(b"x") is None
        ok, _ = n.cas(b"b", bytearray(b"ba"), "new")
        assert ok and n.get(b"b") == b"new"


def test_follower_rejects_writes_naming_the_leader(tmp_path):
    with LocalCluster(3, tmp_path) as c:
        leader = c.wait_leader()
        c.put(b"a", b"1")
        follower = next(i for i in c.nodes() if i != leader)
        with pytest.raises(errors.NotLeaderError) as ei:
            c.node(follower).put(b"a", b"2")
        assert ei.value.leader == leader


def test_restart_of_every_node_keeps_acknowledged_writes(tmp_path):
    with LocalCluster(3, tmp_path) as c:
        c.wait_leader()
        for i in range(10):
            c.put(b"key%d" % i, b"%d" % i)
        old = c.leader()
        c.stop(old)
        assert c.wait_leader() != old
        c.put(b"after", b"failover")
        for i in c.nodes():
            if c._nodes[i] is not None:
                c.stop(i)
        for i in c.nodes():
            c.start(i)
        c.wait_leader()
        assert c.get(b"after") == b"failover"
        assert [c.get(b"key%d" % i) for i in range(10)] == [b"%d" % i for i in range(10)]
        assert wait_until(lambda: c.node(old).get(b"after") == b"failover")


def test_lagging_node_catches_up_through_a_snapshot(tmp_path):
    with LocalCluster(3, tmp_path, snapshot_threshold=40) as c:
        leader = c.wait_leader()
        lag = next(i for i in c.nodes() if i != leader)
        c.stop(lag)
        for i in range(200):
            c.put(b"k%03d" % i, b"%d" % i)
        assert c.status(c.leader())["first_index"] > 1  # the leader's log was compacted
        c.start(lag)
        assert wait_until(lambda: c.node(lag).get(b"k199") == b"199", 30)
        assert c.node(lag).get(b"k000") == b"0"
        assert c.status(lag)["snapshot_index"] > 0


OP_TIMEOUT = 1.0  # short, so some operations end with an unknown outcome


def test_concurrent_clients_stay_linearizable_across_leader_partition(tmp_path):
    seed = _seed()
    rng = random.Random(seed)
    keys = [b"x", b"y", b"z"]
    history = History()
    stop = threading.Event()
    failovers = []
    with LocalCluster(3, tmp_path, tick_ms=20, election_ticks=10, timeout=3.0) as c:
        c.wait_leader()

        def client(cid):
            r = random.Random(seed * 100 + cid)
            n = 0
            while not stop.is_set():
                key = r.choice(keys)
                op = r.random()
                n += 1
                if op < 0.4:
                    value = b"%d-%d" % (cid, n)
                    with history.operation(cid, "put", key, value) as h:
                        try:
                            c.put(key, value, timeout=OP_TIMEOUT)
                            h.ok()
                        except errors.Error:  # outcome unknown
                            h.info()
                elif op < 0.7:
                    with history.operation(cid, "get", key) as h:
                        try:
                            h.ok(c.get(key, timeout=OP_TIMEOUT))
                        except errors.Error:  # outcome unknown
                            h.info()
                else:
                    old = r.choice([None, b"%d-%d" % (r.randrange(4), r.randrange(1, 20))])
                    new = b"cas%d-%d" % (cid, n)
                    with history.operation(cid, "cas", key, (old, new)) as h:
                        try:
                            h.ok(c.cas(key, old, new, timeout=OP_TIMEOUT))
                        except errors.Error:  # outcome unknown
                            h.info()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):
                time.sleep(rng.uniform(0.5, 1.0))
                leader = c.leader()
                if leader is not None:
                    others = [i for i in c.nodes() if i != leader]
                    c.partition([[leader], others])
                    time.sleep(rng.uniform(1.0, 2.0))
                    # The majority side elected a new leader with a higher term.
                    assert wait_until(lambda: c.leader() not in (None, leader), 10), \
                        f"seed={seed}: no new leader while {leader} was partitioned away"
                    failovers.append((leader, c.leader()))
                c.heal()
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        events = history.events()
        ok_ops = sum(1 for e in events if e.type == "ok")
        unknown = sum(1 for e in events if e.type == "info")
        print(f"seed={seed}: {ok_ops} operations ok, {unknown} with unknown outcome, "
              f"leader changes {failovers}")
        assert ok_ops > 10, f"seed={seed}: only {ok_ops} operations completed"
        result = check(history, timeout=60)
        print(result.explanation)
        assert result.ok, f"seed={seed}: {result.explanation}"
        # After healing the cluster converges.
        c.put(b"final", b"1", timeout=10)
        for i in c.nodes():
            assert wait_until(lambda: c.node(i).get(b"final") == b"1"), f"seed={seed} node {i}"


def test_writes_survive_random_message_loss(tmp_path):
    with LocalCluster(3, tmp_path) as c:
        c.wait_leader()
        c.set_drop_probability(0.2)
        for i in range(20):
            c.put(b"lossy%d" % i, b"%d" % i, timeout=30)
        c.set_drop_probability(0.0)
        assert [c.get(b"lossy%d" % i) for i in range(20)] == [b"%d" % i for i in range(20)]
