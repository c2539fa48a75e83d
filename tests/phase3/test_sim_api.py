"""The SimCluster contract (docs/architecture.md, "Simulator semantics"): determinism, faults, stats, trace, errors."""

import pytest

import tinykv
from tinykv import raft
from sim_helpers import ELECTION, assert_safe, cluster, one, others, wait_leader


def scripted(seed):
    c = cluster(5, seed=seed)
    c.set_faults(drop=0.1, duplicate=0.1, delay=(0, 3), reorder=True)
    c.tick(40)
    for k in range(10):
        try:
            c.propose(b"d%d" % k)
        except tinykv.Error:
            pass
        c.tick(3)
    c.partition([[1, 2], [3, 4, 5]])
    c.tick(50)
    c.crash(3)
    c.heal()
    c.tick(30)
    c.restart(3)
    c.tick(30)
    return c.trace(), c.stats(), [c.log(i) for i in c.nodes()]


def test_same_seed_gives_identical_trace_and_different_seed_differs():
    a = scripted(101)
    b = scripted(101)
    assert a == b
    assert scripted(102)[0] != a[0]


def test_trace_events_have_tick_node_term_event_detail():
    c = cluster(3, seed=2)
    wait_leader(c)
    c.partition([[1], [2, 3]])
    c.heal()
    tr = c.trace()
    assert {"tick", "node", "term", "event", "detail"} <= set(tr[0])
    kinds = {e["event"] for e in tr}
    assert "became leader" in kinds and "partition" in kinds and "heal" in kinds
    assert [e["tick"] for e in tr] == sorted(e["tick"] for e in tr)
    lines = c.trace_lines()
    assert any(" became leader" in line and line.startswith("tick=") for line in lines)


def test_trace_can_include_messages():
    c = cluster(3, seed=3, trace_messages=True)
    wait_leader(c)
    assert any(e["event"].startswith("send MsgPreVote") for e in c.trace())


def test_stats_use_etcd_message_names_and_count_encoded_bytes():
    c = cluster(3, seed=4)
    wait_leader(c)
    one(c, b"x" * 100, 3)
    s = c.stats()
    assert set(s["messages"]) <= {"MsgApp", "MsgAppResp", "MsgVote", "MsgVoteResp", "MsgPreVote",
                                  "MsgPreVoteResp", "MsgHeartbeat", "MsgHeartbeatResp"}
    assert {"MsgApp", "MsgAppResp", "MsgPreVote", "MsgVote"} <= set(s["messages"])
    # The 100-byte payload went to 2 followers at least once, encoded.
    assert s["bytes"] > 2 * 100
    assert raft.encode_message_size("MsgApp", 1, 100) > 100


def test_drop_all_messages_prevents_election():
    c = cluster(3, seed=5)
    c.set_faults(drop=1.0)
    c.tick(10 * ELECTION)
    assert c.leader() is None
    c.set_faults()
    wait_leader(c)


def test_duplicate_and_reordered_messages_are_harmless():
    c = cluster(3, seed=6)
    c.set_faults(duplicate=0.5, delay=(0, 4), reorder=True)
    wait_leader(c)
    for k in range(20):
        one(c, b"u%d" % k, 3, max_ticks=100 * ELECTION)
    c.set_faults()
    c.tick(20)
    want = c.applied(c.leader())
    assert all(c.applied(i) == want for i in c.nodes())
    assert_safe(c)


def test_cut_and_restore_one_link():
    c = cluster(3, seed=7)
    leader = wait_leader(c)
    f = others(c, leader)[0]
    c.cut(leader, f)
    one(c, b"cut", 2)
    c.restore(leader, f)
    assert c.run_until(lambda: b"cut" in c.applied(f), 5 * ELECTION)


def test_node_view_fields():
    c = cluster(3, seed=8)
    leader = wait_leader(c)
    one(c, b"z", 3)
    n = c.node(leader)
    assert n.role == "leader" and n.lead == leader and n.vote == leader
    assert n.first_index <= n.last_index
    assert n.applied_index <= n.commit_index <= n.last_index
    log = c.log(leader)
    assert [e[0] for e in log] == list(range(n.first_index, n.last_index + 1))
    assert log[-1][2] == b"z"
    c.crash(leader)
    assert c.node(leader).alive is False and c.alive(leader) is False
    with pytest.raises(tinykv.NotFoundError):
        c.node(99)


def test_invalid_arguments_raise():
    with pytest.raises(tinykv.InvalidArgumentError):
        raft.SimCluster(n=0)
    with pytest.raises(tinykv.InvalidArgumentError):
        raft.SimCluster(election_ticks=1, heartbeat_ticks=1)
    c = cluster(3, seed=9)
    with pytest.raises(tinykv.InvalidArgumentError):
        c.set_faults(drop=2.0)
    with pytest.raises(tinykv.NotLeaderError):
        c.read_index()


def test_run_until_returns_false_when_predicate_never_holds():
    c = cluster(3, seed=10)
    assert c.run_until(lambda: False, 5) is False
    assert c.now == 5
