"""Snapshots (§7) and membership changes (dissertation ch. 4) on SimCluster."""

import pytest

import tinykv
from sim_helpers import ELECTION, assert_safe, cluster, one, others, wait_leader


def lagging_setup(seed):
    c = cluster(3, seed=seed)
    leader = wait_leader(c)
    lag = others(c, leader)[0]
    c.partition([[lag], others(c, lag)])
    for k in range(40):
        c.propose(b"s%d" % k)
    c.tick(5)
    return c, leader, lag


def test_snapshot_install_to_lagging_node():
    c, leader, lag = lagging_setup(31)
    n = c.node(leader)
    c.compact(leader, n.applied_index)
    assert c.node(leader).first_index == n.applied_index + 1
    assert c.log(leader) == []  # everything up to applied is in the snapshot
    c.reset_stats()
    c.heal()
    assert c.run_until(lambda: len(c.applied(lag)) == 40, 5 * ELECTION)
    assert c.applied(lag) == c.applied(leader)
    msgs = c.stats()["messages"]
    assert msgs.get("MsgSnap", 0) == 1, msgs  # sent once, no install/reject loop
    assert c.node(lag).first_index == n.applied_index + 1
    events = [e for e in c.trace() if e["event"] == "installed snapshot"]
    assert events and events[-1]["node"] == lag
    # New entries flow normally after the snapshot.
    one(c, b"after", 3)
    assert_safe(c)


def test_lost_snapshot_is_resent_after_failure_report():
    c, leader, lag = lagging_setup(32)
    c.compact(leader, c.node(leader).applied_index)
    c.heal()
    c.set_faults(drop=1.0)  # the first snapshot (and everything) is lost
    c.tick(3)
    c.set_faults()
    assert c.run_until(lambda: len(c.applied(lag)) == 40, 10 * ELECTION)
    assert c.stats()["messages"].get("MsgSnap", 0) <= 4
    assert_safe(c)


def test_snapshot_survives_crash_and_restart():
    c = cluster(3, seed=33)
    leader = wait_leader(c)
    for k in range(20):
        one(c, b"k%d" % k, 3)
    for i in c.nodes():
        c.compact(i, c.node(i).applied_index - 3)
    for i in c.nodes():
        c.crash(i)
        c.restart(i)
    wait_leader(c)
    one(c, b"more", 3)
    for i in c.nodes():
        assert c.applied(i) == [b"k%d" % k for k in range(20)] + [b"more"]
    assert_safe(c)


def test_compact_beyond_applied_is_rejected():
    c = cluster(3, seed=34)
    leader = wait_leader(c)
    with pytest.raises(tinykv.InvalidArgumentError):
        c.compact(leader, c.node(leader).applied_index + 5)


def test_learner_catches_up_without_voting_then_is_promoted():
    c = cluster(3, seed=35)
    wait_leader(c)
    for k in range(10):
        one(c, b"m%d" % k, 3)
    c.compact(c.leader(), c.node(c.leader()).applied_index)
    c.add_member(4, learner=True)
    assert c.members(c.leader()) == {"voters": [1, 2, 3], "learners": [4],
                                     "voters_outgoing": [], "learners_next": []}
    assert c.run_until(lambda: len(c.applied(4)) == 10, 5 * ELECTION)
    # A learner never campaigns, even when cut off from everyone.
    c.partition([[4], [1, 2, 3]])
    c.tick(10 * ELECTION)
    assert c.node(4).role == "follower"
    c.heal()
    c.promote(4)
    assert c.members(c.leader())["voters"] == [1, 2, 3, 4]
    assert c.run_until(lambda: c.members(4)["voters"] == [1, 2, 3, 4], 5 * ELECTION)
    # Now 4 votes: with two voters down, 3 of 4 still make a quorum.
    one(c, b"with4", 4)
    assert_safe(c)


def test_one_membership_change_at_a_time():
    c = cluster(3, seed=36)
    wait_leader(c)
    c.tick(2)
    c.add_member(4, learner=True)
    c.partition([[c.leader()]])  # the next change cannot commit ...
    with pytest.raises(tinykv.TimeoutError):
        c.add_member(5, learner=True, max_ticks=5)
    with pytest.raises(tinykv.BusyError):  # ... and a third is refused meanwhile
        c.add_member(6, learner=True)
    c.heal()


def test_removed_leader_steps_down_and_removed_node_is_not_disruptive():
    c = cluster(3, seed=37)
    leader = wait_leader(c)
    one(c, b"before", 3)
    c.remove_member(leader)
    assert c.run_until(lambda: c.leader() is not None and c.leader() != leader, 10 * ELECTION)
    new_leader = c.leader()
    term = c.node(new_leader).term
    assert c.members(new_leader)["voters"] == sorted(others(c, leader))
    # The removed node keeps running, ticking and connected ...
    c.tick(30 * ELECTION)
    assert c.alive(leader)
    # ... and neither changes the leader nor the term of the cluster.
    assert c.leader() == new_leader
    assert c.node(new_leader).term == term
    one(c, b"after", 2)
    assert b"after" not in c.applied(leader)
    assert_safe(c)


def test_joint_consensus_swaps_two_voters_at_once():
    c = cluster(3, seed=38)
    leader = wait_leader(c)
    one(c, b"x", 3)
    c.add_member(4, learner=True)
    c.add_member(5, learner=True)
    gone = others(c, leader)[:2]
    gone = [g for g in gone if g in (1, 2, 3)]
    c.change_members(add=[4, 5], remove=gone)
    # Left automatically: C_old,new -> C_new.
    assert c.run_until(lambda: c.members(c.leader())["voters_outgoing"] == [], 5 * ELECTION)
    assert c.members(c.leader())["voters"] == sorted([leader, 4, 5])
    events = [e["detail"] for e in c.trace() if e["event"] == "applied conf change"]
    assert any("outgoing=" in d for d in events), events  # a joint config was used
    one(c, b"y", 3)
    assert b"y" in c.applied(4) and b"y" in c.applied(5)
    assert_safe(c)


def test_new_node_learns_configuration_from_snapshot():
    c = cluster(3, seed=39)
    wait_leader(c)
    c.add_member(4)
    assert c.run_until(lambda: c.members(4)["voters"] == [1, 2, 3, 4], 5 * ELECTION)
    one(c, b"v", 4)
    assert_safe(c)


def test_promote_and_remove_validate_their_target():
    c = cluster(3, seed=40)
    wait_leader(c)
    with pytest.raises(tinykv.InvalidArgumentError):
        c.promote(2)  # a voter, not a learner
    with pytest.raises(tinykv.NotFoundError):
        c.remove_member(42)
    assert c.members(c.leader())["voters"] == [1, 2, 3]
