"""Persistence across crashes and the Figure 8 rule (§5.4.2), lab 2C style."""

import random

import tinykv
from figure8 import run_figure8
from sim_helpers import ELECTION, assert_safe, cluster, one, others, wait_leader


def test_persistence_across_crash_of_all_nodes():
    c = cluster(3, seed=21)
    wait_leader(c)
    for k in range(5):
        one(c, b"p%d" % k, 3)
    for i in c.nodes():
        c.crash(i)
    assert c.leader() is None
    for i in c.nodes():
        c.restart(i)
    wait_leader(c)
    one(c, b"after", 3)
    for i in c.nodes():
        assert c.applied(i) == [b"p0", b"p1", b"p2", b"p3", b"p4", b"after"]
    assert_safe(c)


def test_crash_loses_only_what_was_not_persisted():
    c = cluster(3, seed=22)
    leader = wait_leader(c)
    one(c, b"durable", 3)
    term = c.node(leader).term
    vote = c.node(leader).vote
    # A proposal that has not gone through Ready yet is not on disk.
    c.propose(b"volatile", node=leader)
    c.crash(leader)
    assert all(e[2] != b"volatile" for e in c.log(leader))
    # Term, vote and log survive.
    n = c.node(leader)
    assert (n.alive, n.term, n.vote) == (False, term, vote)
    c.restart(leader)
    assert c.node(leader).term == term
    assert c.run_until(lambda: b"durable" in c.applied(leader), 5 * ELECTION)
    assert_safe(c)


def test_repeated_crashes_of_leader_and_follower():
    """Lab TestPersist2C: crash/restart leaders and followers repeatedly."""
    c = cluster(5, seed=23)
    wait_leader(c)
    for it in range(5):
        one(c, b"r%d" % it, 5)
        leader = c.leader()
        f = others(c, leader)[0]
        c.crash(leader)
        c.crash(f)
        one(c, b"m%d" % it, 3)
        c.restart(leader)
        c.restart(f)
    one(c, b"final", 5)
    want = c.applied(c.leader())
    assert all(c.applied(i) == want for i in c.nodes())
    assert_safe(c)


def test_figure8_leader_does_not_commit_old_term_entry_by_counting():
    c, facts = run_figure8()
    # (c): X (an entry of an older term) was on a majority ...
    assert len(facts["x_holders_c"]) >= 3
    # ... but S1 did not count it as committed (§5.4.2).
    assert facts["s1_commit_c"] < facts["x_index"]
    # (d): S5 overwrote X, which was legal because X was never committed.
    idx, term, data = facts["index_x_on_s3_d"]
    assert data != b"X" and term == facts["s5_term"]
    for i in c.nodes():
        assert b"X" not in c.applied(i)
    assert_safe(c)


def test_figure8_unreliable_random_leader_crashes():
    """Lab TestFigure8Unreliable2C: leaders crash right after proposing, with
    lossy, delayed, reordered messages; everything converges and the safety
    invariants hold."""
    c = cluster(5, seed=24)
    c.set_faults(drop=0.1, delay=(0, 3), reorder=True)
    rnd = random.Random(24)
    for it in range(200):
        leader = c.leader()
        if leader is not None:
            try:
                c.propose(b"f%d" % it)
            except tinykv.Error:
                pass
            if rnd.random() < 0.5:
                c.tick(rnd.randrange(4))
                if c.leader() is not None and sum(c.alive(i) for i in c.nodes()) > 3:
                    c.crash(c.leader())
        c.tick(1 + rnd.randrange(5))
        if sum(c.alive(i) for i in c.nodes()) < 3 or rnd.random() < 0.3:
            dead = [i for i in c.nodes() if not c.alive(i)]
            if dead:
                c.restart(rnd.choice(dead))
    c.set_faults()
    for i in c.nodes():
        c.restart(i)
    one(c, b"final", 5, max_ticks=100 * ELECTION)
    want = c.applied(c.leader())
    assert c.run_until(lambda: all(c.applied(i) == want for i in c.nodes()), 20 * ELECTION)
    assert_safe(c)


def test_churn_with_partitions_crashes_and_concurrent_proposals():
    """Lab TestReliableChurn/UnreliableChurn: random crashes, restarts and
    partitions while proposals flow; afterwards every acknowledged value is on
    every node."""
    c = cluster(5, seed=25)
    rnd = random.Random(25)
    acked = []
    for it in range(150):
        leader = c.leader()
        if leader is not None:
            try:
                idx = c.propose(b"c%d" % it)
                acked.append((idx, b"c%d" % it))
            except tinykv.Error:
                pass
        r = rnd.random()
        if r < 0.1:
            c.crash(rnd.choice(list(c.nodes())))
        elif r < 0.25:
            dead = [i for i in c.nodes() if not c.alive(i)]
            if dead:
                c.restart(rnd.choice(dead))
        elif r < 0.3:
            ids = list(c.nodes())
            rnd.shuffle(ids)
            k = rnd.randrange(1, 5)
            c.partition([ids[:k], ids[k:]])
        elif r < 0.4:
            c.heal()
        if it % 30 == 0:
            c.set_faults(drop=rnd.choice([0.0, 0.1]), delay=(0, rnd.randrange(3)),
                         reorder=rnd.random() < 0.5)
        c.tick(1 + rnd.randrange(3))
    c.heal()
    c.set_faults()
    for i in c.nodes():
        c.restart(i)
    one(c, b"end", 5, max_ticks=100 * ELECTION)
    want = c.applied(c.leader())
    assert c.run_until(lambda: all(c.applied(i) == want for i in c.nodes()), 20 * ELECTION)
    # Everything that got committed is in the final history, in index order.
    assert len(want) == len(set(want))
    assert_safe(c)
