"""ReadIndex and lease reads (dissertation §6.4) and leadership transfer (§3.10)."""

import pytest

import tinykv
from sim_helpers import ELECTION, assert_safe, cluster, one, others, wait_leader


def test_read_index_on_leader_covers_every_acknowledged_write():
    c = cluster(3, seed=41)
    wait_leader(c)
    idx = None
    for k in range(5):
        one(c, b"w%d" % k, 3)
    idx = c.node(c.leader()).commit_index
    r = c.read_index()
    assert r >= idx
    msgs = c.stats()["messages"]
    assert msgs.get("MsgHeartbeat", 0) > 0  # confirmed by a heartbeat round


def test_read_index_through_follower_is_forwarded_to_leader():
    c = cluster(3, seed=42)
    leader = wait_leader(c)
    one(c, b"a", 3)
    f = others(c, leader)[0]
    c.reset_stats()
    r = c.read_index(node=f)
    assert r >= c.node(leader).commit_index - 1
    assert c.stats()["messages"].get("MsgReadIndex", 0) == 1
    assert c.stats()["messages"].get("MsgReadIndexResp", 0) == 1


def test_isolated_leader_cannot_serve_a_read():
    c = cluster(3, seed=43)
    leader = wait_leader(c)
    one(c, b"a", 3)
    c.partition([[leader], others(c, leader)])
    with pytest.raises((tinykv.TimeoutError, tinykv.UnavailableError)):
        c.read_index(node=leader, max_ticks=3 * ELECTION)
    assert_safe(c)


def test_read_is_failed_explicitly_when_leadership_is_lost():
    # A read waiting for its heartbeat quorum is failed (not dropped) when the
    # leader steps down (here by check-quorum).
    c = cluster(3, seed=44)
    leader = wait_leader(c)
    one(c, b"a", 3)
    c.partition([[leader], others(c, leader)])
    with pytest.raises(tinykv.UnavailableError):
        c.read_index(node=leader, max_ticks=10 * ELECTION)


def test_new_leader_holds_reads_until_its_first_entry_commits():
    c = cluster(3, seed=45)
    c.set_faults(delay=(1, 1))
    leader = wait_leader(c)
    c.tick(5)
    c.crash(leader)
    assert c.run_until(lambda: c.leader() is not None, 10 * ELECTION)
    new = c.leader()
    # Right after the election the no-op of the new term is not committed yet.
    n = c.node(new)
    noop_committed = n.commit_index >= n.last_index
    r = c.read_index(node=new)
    assert r >= n.last_index, "the read point must include the new term's no-op"
    assert not noop_committed or r >= n.commit_index
    assert_safe(c)


def test_lease_reads_need_no_heartbeat_round():
    c = cluster(3, seed=46, lease_reads=True)
    leader = wait_leader(c)
    one(c, b"a", 3)
    c.reset_stats()
    r = c.read_index(node=leader)
    assert r == c.node(leader).commit_index
    assert c.stats()["messages"] == {}  # answered locally from the lease
    with pytest.raises(tinykv.InvalidArgumentError):
        cluster(3, seed=46, lease_reads=True, check_quorum=False)


def test_leader_transfer_to_up_to_date_follower():
    c = cluster(3, seed=47)
    leader = wait_leader(c)
    one(c, b"a", 3)
    target = others(c, leader)[0]
    term = c.node(leader).term
    assert c.transfer_leader(target)
    assert c.leader() == target
    assert c.node(target).term == term + 1
    assert c.stats()["messages"].get("MsgTimeoutNow", 0) == 1
    one(c, b"b", 3)
    assert_safe(c)


def test_leader_transfer_to_lagging_follower_catches_it_up_first():
    c = cluster(3, seed=48)
    leader = wait_leader(c)
    target = others(c, leader)[0]
    c.partition([[target], others(c, target)])
    for k in range(20):
        c.propose(b"x%d" % k)
    c.tick(3)
    c.heal()
    assert c.transfer_leader(target, max_ticks=3 * ELECTION)
    assert len(c.applied(target)) == 20
    assert_safe(c)


def test_leader_transfer_to_unreachable_node_is_aborted_after_election_timeout():
    c = cluster(3, seed=49)
    leader = wait_leader(c)
    target = others(c, leader)[0]
    c.cut(leader, target)
    assert not c.transfer_leader(target, max_ticks=1)
    # While the transfer is pending, proposals are refused ...
    with pytest.raises(tinykv.AbortedError):
        c.propose(b"during")
    # ... until it is aborted after an election timeout.
    c.tick(2 * ELECTION)
    assert c.leader() == leader
    c.propose(b"after")
    events = [e["event"] for e in c.trace() if e["node"] == leader]
    assert "transfer leader" in events
    assert_safe(c)


def test_read_forwarded_by_follower_is_failed_when_its_leader_changes():
    c = cluster(3, seed=50)
    c.set_faults(delay=(2, 2))
    leader = wait_leader(c)
    c.tick(5)
    f = others(c, leader)[0]
    # The leader disappears after the follower forwarded the read: the follower
    # learns of a new term and fails the read instead of waiting forever.
    c.crash(leader)
    with pytest.raises(tinykv.UnavailableError):
        c.read_index(node=f, max_ticks=20 * ELECTION)
    assert_safe(c)
