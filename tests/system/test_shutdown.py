"""Graceful shutdown: SIGTERM of the leader under load hands leadership over, drains, and
exits 0; no acknowledged write is lost and clients see no error (their one retry, on
NotLeader/Unavailable, happens inside the client)."""

import time

from workload import Writers, read_back


def test_sigterm_leader_under_load_loses_nothing_and_clients_see_no_error(cluster):
    with Writers(cluster, n=4, timeout=10.0) as w:
        w.wait_for(50, timeout=30)
        old = cluster.leader()
        before = w.count()
        t0 = time.monotonic()
        code = cluster.terminate(old, timeout=30)
        took = time.monotonic() - t0
        new = cluster.leader(exclude=[old], timeout=10)
        w.wait_for(before + 50, timeout=20)
    log = cluster.nodes[old].log_path.read_text()
    print(f"SIGTERM leader {old}: exit {code} after {took:.2f}s, new leader {new}")
    assert code == 0, log[-2000:]
    assert f"node={old} shutdown step=transfer-leadership ok" in log, log[-2000:]
    assert f"node={old} exited cleanly" in log
    assert w.errors == [], w.errors[:5]
    assert read_back(cluster.client(), w.acked) == []
    # The stopped node restarts from its data and rejoins as a follower.
    cluster.start_node(old)
    cluster.leader()
    assert read_back(cluster.client(endpoints=[cluster.endpoint(new)]), w.acked) == []


def test_sigterm_follower_exits_zero_and_cluster_keeps_serving(cluster):
    lead = cluster.leader()
    follower = next(i for i in cluster.nodes if i != lead)
    cl = cluster.client()
    cl.put(b"a", b"1")
    assert cluster.terminate(follower) == 0
    log = cluster.nodes[follower].log_path.read_text()
    assert f"node={follower} shutdown step=transfer-leadership skipped role=follower" in log
    cl.put(b"b", b"2")
    assert cl.get(b"a") == b"1" and cl.get(b"b") == b"2"
