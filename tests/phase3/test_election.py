"""Leader election (Raft §5.2, pre-vote and check-quorum), lab 2A style."""

from sim_helpers import ELECTION, assert_safe, cluster, leaders_by_term, others, wait_leader


def test_initial_election_elects_one_leader_and_terms_agree():
    c = cluster(3, seed=1)
    leader = wait_leader(c, 3 * ELECTION)
    terms = {c.node(i).term for i in c.nodes()}
    assert len(terms) == 1
    assert all(len(ids) == 1 for ids in leaders_by_term(c).values())
    # With no failures the term and the leader stay the same.
    term = c.node(leader).term
    c.tick(10 * ELECTION)
    assert c.leader() == leader
    assert c.node(leader).term == term
    assert all(c.node(i).lead == leader for i in c.nodes())
    assert_safe(c)


def test_reelection_after_leader_loss_and_old_leader_rejoins_as_follower():
    c = cluster(3, seed=2)
    l1 = wait_leader(c)
    c.partition([[l1], others(c, l1)])
    l2 = wait_leader(c)
    assert c.run_until(lambda: c.leader() is not None and c.leader() != l1, 3 * ELECTION)
    l2 = c.leader()
    assert l2 != l1
    # Check-quorum: the isolated leader steps down by itself.
    assert c.run_until(lambda: c.node(l1).role != "leader", 3 * ELECTION)
    c.heal()
    c.tick(5 * ELECTION)
    assert c.leader() == l2
    assert c.node(l1).role == "follower" and c.node(l1).lead == l2
    # No quorum, no leader.
    c.partition([[1], [2], [3]])
    c.tick(5 * ELECTION)
    assert c.leader() is None
    c.heal()
    wait_leader(c)
    assert_safe(c)


def test_many_elections_under_random_partitions_of_seven_nodes():
    c = cluster(7, seed=3)
    wait_leader(c)
    import random
    rnd = random.Random(3)
    for _ in range(10):
        ids = list(c.nodes())
        rnd.shuffle(ids)
        majority, minority = ids[:4], ids[4:]
        c.partition([majority, minority])
        assert c.run_until(lambda: any(c.node(i).role == "leader" and
                                       all(c.node(j).lead == i for j in majority)
                                       for i in majority), 10 * ELECTION), \
            "a connected majority must elect a leader"
        c.heal()
        c.tick(2 * ELECTION)
    assert_safe(c)


def test_pre_vote_keeps_isolated_node_from_inflating_its_term():
    c = cluster(3, seed=4)
    leader = wait_leader(c)
    f = others(c, leader)[0]
    term = c.node(f).term
    c.partition([[f], others(c, f)])
    c.tick(20 * ELECTION)
    assert c.node(f).term == term, "pre-vote must not increment the term"
    assert c.node(f).role == "pre_candidate"
    c.heal()
    c.tick(3 * ELECTION)
    assert c.leader() == leader, "the rejoining node must not disrupt the leader"
    assert_safe(c)


def test_without_pre_vote_isolated_node_disrupts_on_rejoin():
    c = cluster(3, seed=4, pre_vote=False, check_quorum=False)
    leader = wait_leader(c)
    f = others(c, leader)[0]
    term = c.node(f).term
    c.partition([[f], others(c, f)])
    c.tick(10 * ELECTION)
    assert c.node(f).term > term + 2  # classic Raft: the term grows while isolated
    c.heal()
    c.tick(3 * ELECTION)
    assert c.node(c.leader()).term > term  # ... and forces a new election on rejoin
    assert_safe(c)


def test_partial_partition_does_not_disrupt_healthy_leader():
    # Node f cannot reach the leader but can reach the other follower: with
    # pre-vote and check-quorum the follower ignores f's campaign (it hears
    # from the leader), so the leader and term stay.
    c = cluster(3, seed=5)
    leader = wait_leader(c)
    f, g = others(c, leader)
    term = c.node(leader).term
    c.cut(leader, f)
    c.tick(20 * ELECTION)
    assert c.leader() == leader
    assert c.node(leader).term == term
    assert c.node(g).lead == leader
    assert_safe(c)


def test_check_quorum_leader_steps_down_in_minority():
    c = cluster(5, seed=6)
    leader = wait_leader(c)
    rest = others(c, leader)
    c.partition([[leader, rest[0]], rest[1:]])
    assert c.run_until(lambda: c.node(leader).role != "leader", 3 * ELECTION)
    assert c.run_until(lambda: c.leader() in rest[1:], 5 * ELECTION)
    assert_safe(c)


def test_roles_are_documented_strings():
    c = cluster(3, seed=7)
    seen = set()
    for _ in range(5 * ELECTION):
        c.tick()
        seen |= {c.node(i).role for i in c.nodes()}
    assert seen <= {"follower", "pre_candidate", "candidate", "leader"}
    assert "leader" in seen and "follower" in seen
