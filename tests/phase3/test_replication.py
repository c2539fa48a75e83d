"""Log replication, agreement and fast backtracking (Raft §5.3), lab 2B style."""

import pytest

import tinykv
from sim_helpers import ELECTION, assert_safe, cluster, n_applied, one, others, wait_leader


def test_basic_agreement_applies_in_order_on_every_node():
    c = cluster(5, seed=11)
    wait_leader(c)
    for k in range(10):
        one(c, b"v%d" % k, 5)
    want = [b"v%d" % k for k in range(10)]
    assert all(c.applied(i) == want for i in c.nodes())
    # The logs match entry for entry (Log Matching).
    logs = {i: c.log(i) for i in c.nodes()}
    assert all(logs[i] == logs[1] for i in c.nodes())
    # The leader's no-op entries have empty data.
    assert any(data == b"" for (_, _, data) in logs[1])
    assert_safe(c)


def test_agreement_despite_follower_disconnection_and_catch_up():
    c = cluster(3, seed=12)
    leader = wait_leader(c)
    one(c, b"a", 3)
    f = others(c, leader)[0]
    c.partition([[f], others(c, f)])
    one(c, b"b", 2)
    one(c, b"c", 2)
    assert b"b" not in c.applied(f)
    c.heal()
    assert c.run_until(lambda: c.applied(f) == [b"a", b"b", b"c"], 5 * ELECTION)
    assert_safe(c)


def test_no_agreement_without_quorum():
    c = cluster(5, seed=13)
    leader = wait_leader(c)
    one(c, b"first", 5)
    rest = others(c, leader)
    c.partition([[leader, rest[0]], rest[1:]])
    idx = c.propose(b"lost?", node=leader)
    c.tick(ELECTION // 2)
    assert c.node(leader).commit_index < idx, "committed without a quorum"
    assert n_applied(c, b"lost?") == 0
    c.heal()
    # After healing a leader (maybe a new one) commits new entries again.
    one(c, b"after", 5)
    assert_safe(c)


def test_rejoin_of_partitioned_leader_discards_its_uncommitted_entries():
    c = cluster(3, seed=14)
    l1 = wait_leader(c)
    one(c, b"101", 3)
    c.partition([[l1], others(c, l1)])
    for k in (b"102", b"103", b"104"):
        c.propose(k, node=l1)
    c.tick(1)
    one(c, b"103b", 2)
    l2 = c.leader()
    assert l2 != l1
    c.partition([[l2], others(c, l2)])  # new leader away, old one back
    one(c, b"104b", 2)
    c.heal()
    one(c, b"105", 3)
    for i in c.nodes():
        got = c.applied(i)
        assert b"102" not in got and b"104" not in got
        assert got[-1] == b"105"
    assert_safe(c)


def test_leader_backs_up_quickly_over_incorrect_follower_logs():
    """Lab TestBackup2B: a follower with a long divergent uncommitted tail is
    repaired in a few round trips thanks to the (index, term) conflict hint
    (§5.3), not one index per round trip."""
    c = cluster(5, seed=15)
    l1 = wait_leader(c)
    one(c, b"start", 5)
    rest = others(c, l1)
    f = rest[0]
    # The old leader and one follower, in a minority, get 50 uncommitted entries.
    c.partition([[l1, f], rest[1:]])
    for k in range(50):
        c.propose(b"bad%d" % k, node=l1)
    c.tick(2)
    assert c.node(f).last_index >= 50
    # The majority elects a leader and commits 50 other entries.
    assert c.run_until(lambda: c.leader() in rest[1:], 10 * ELECTION)
    for k in range(50):
        c.propose(b"good%d" % k)
    c.tick(3)
    l2 = c.leader()
    # l2 goes away; the remaining two of the majority plus f elect a leader
    # whose log is longer, so it must walk f back over 50 conflicting entries.
    survivors = [i for i in rest[1:] if i != l2]
    c.reset_stats()
    c.partition([[l1], [l2], survivors + [f]])
    assert c.run_until(lambda: c.leader() in survivors, 10 * ELECTION)
    assert c.run_until(lambda: b"good49" in c.applied(f), 5 * ELECTION)
    resp = c.stats()["messages"].get("MsgAppResp", 0)
    # One index per round trip would take > 50 MsgAppResp from f alone.
    assert resp < 20, c.stats()
    assert not any(v.startswith(b"bad") for v in c.applied(f))
    c.heal()
    one(c, b"end", 5)
    want = c.applied(c.leader())
    assert all(c.applied(i) == want for i in c.nodes())
    assert_safe(c)


def test_message_counts_are_bounded():
    """Lab TestCount2B: an election and an agreement take few messages, and an
    idle cluster sends only heartbeats."""
    c = cluster(3, seed=16)
    wait_leader(c)
    election = sum(c.stats()["messages"].values())
    assert election <= 30, c.stats()
    c.tick(2)
    c.reset_stats()
    for k in range(10):
        c.propose(b"x%d" % k)
    c.tick(1)
    batched = sum(c.stats()["messages"].values())
    assert batched <= 12, c.stats()  # 10 entries batched: see README "Message economy"
    c.reset_stats()
    for k in range(10):
        c.propose(b"y%d" % k)
        c.tick(1)
    unbatched = sum(c.stats()["messages"].values())
    assert unbatched <= 10 * 12, c.stats()
    c.reset_stats()
    c.tick(30)
    msgs = c.stats()["messages"]
    assert set(msgs) == {"MsgHeartbeat", "MsgHeartbeatResp"}, msgs
    assert msgs["MsgHeartbeat"] == 30 * 2
    assert c.stats()["bytes"] > 0


def test_uncommitted_tail_cap_rejects_excess_proposals():
    c = cluster(3, seed=17, max_uncommitted_bytes=1000)
    leader = wait_leader(c)
    c.partition([[leader], others(c, leader)])
    accepted = 0
    with pytest.raises(tinykv.ResourceExhaustedError):
        for _ in range(100):
            c.propose(b"x" * 100, node=leader)
            accepted += 1
    assert 9 <= accepted <= 11  # ~1000 bytes of payload, then refused (not queued)
    assert isinstance(tinykv.ResourceExhaustedError("x"), tinykv.Error)


def test_inflight_window_bounds_unacknowledged_appends():
    c = cluster(3, seed=18, max_inflight_msgs=4, max_msg_bytes=64)
    leader = wait_leader(c)
    c.tick(2)
    # Delay every message by 5 ticks so nothing is acknowledged for a while.
    c.set_faults(delay=(5, 5))
    c.reset_stats()
    for k in range(100):
        c.propose(b"%03d" % k + b"p" * 40, node=leader)
        c.tick(0)
    c.tick(1)
    apps = c.stats()["messages"].get("MsgApp", 0)
    # At most 4 MsgApp in flight per follower (2 followers), each <= 64 bytes
    # (at least one entry), before any acknowledgement arrives.
    assert apps <= 2 * 4, c.stats()
    c.set_faults()
    c.tick(60)
    assert all(len(c.applied(i)) == 100 for i in c.nodes())
    assert_safe(c)


def test_propose_on_follower_raises_not_leader_naming_the_leader():
    c = cluster(3, seed=19)
    leader = wait_leader(c)
    f = others(c, leader)[0]
    c.tick(2)
    with pytest.raises(tinykv.NotLeaderError) as e:
        c.propose(b"x", node=f)
    assert e.value.leader == leader
    c.partition([[1], [2], [3]])
    c.tick(5 * ELECTION)
    with pytest.raises(tinykv.NotLeaderError):
        c.propose(b"x")
