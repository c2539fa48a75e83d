"""Shared helpers for the SimCluster milestone tests (lab-style checks)."""

import tinykv
from tinykv import raft

ELECTION = 10


def cluster(n=3, seed=1, **kw):
    kw.setdefault("election_ticks", ELECTION)
    return raft.SimCluster(n=n, seed=seed, **kw)


def wait_leader(c, max_ticks=20 * ELECTION):
    assert c.run_until(lambda: c.leader() is not None, max_ticks), "no leader elected"
    return c.leader()


def leaders_by_term(c):
    """{term: [ids]} over live nodes that think they lead."""
    out = {}
    for i in c.nodes():
        if c.alive(i):
            n = c.node(i)
            if n.role == "leader":
                out.setdefault(n.term, []).append(i)
    return out


def one(c, data, expected, max_ticks=30 * ELECTION):
    """Like the lab's cfg.one(): propose `data` on whoever leads until at least
    `expected` live nodes applied it, re-proposing if a leader change lost it.
    Returns the number of ticks it took."""
    t = 0
    while t < max_ticks:
        if c.leader() is not None:
            try:
                c.propose(data)
            except tinykv.Error:
                pass
            else:
                for _ in range(2 * ELECTION):
                    c.tick()
                    t += 1
                    if n_applied(c, data) >= expected:
                        return t
                continue
        c.tick()
        t += 1
    raise AssertionError(f"{data!r} not applied on {expected} nodes within {max_ticks} ticks")


def n_applied(c, data):
    return sum(1 for i in c.nodes() if c.alive(i) and data in c.applied(i))


def others(c, i):
    return [j for j in c.nodes() if j != i]


def assert_safe(c):
    assert c.violations() == [], f"seed={c.seed}: {c.violations()[:3]}"
