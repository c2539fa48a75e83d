"""Raft consensus, explorable from Python: the deterministic simulator.

``SimCluster`` runs n Raft nodes (the same C++ core the server uses) in one
thread with virtual time in ticks, a simulated network (partitions, cut links,
drop / duplicate / delay / reorder) and simulated disks (``crash`` loses
everything not persisted). One seed fixes everything: the same seed and the
same calls give the same ``trace()``.

Roles are strings: ``"follower"``, ``"pre_candidate"`` (running a pre-vote),
``"candidate"`` and ``"leader"``.

    >>> from tinykv import raft
    >>> c = raft.SimCluster(n=3, seed=1)
    >>> c.run_until(lambda: c.leader() is not None, max_ticks=100)
    True
    >>> idx = c.propose(b"x")
    >>> c.run_until(lambda: all(c.applied(i) == [b"x"] for i in (1, 2, 3)), 50)
    True

Errors are the classes of ``tinykv.errors``: ``NotLeaderError`` (no leader, or
the named node is not it), ``ResourceExhaustedError`` (the leader's uncommitted
tail is full), ``BusyError`` (a membership change is still pending),
``TimeoutError`` and ``UnavailableError`` (reads that cannot be confirmed).

See DESIGN.md ("Simulator semantics") and phase3_raft/README.md.
"""

from tinykv._core import raft as _r

SimCluster = _r.SimCluster
NodeInfo = _r.NodeInfo
encode_message_size = _r.encode_message_size

ROLES = ("follower", "pre_candidate", "candidate", "leader")

__all__ = ["SimCluster", "NodeInfo", "ROLES", "encode_message_size", "figure8_scenario"]


def _check(ok):
    if not ok:
        raise RuntimeError("figure8_scenario: the scripted step did not happen as planned")


def _step_until(c, pred, max_ticks=200):
    for _ in range(max_ticks):
        if pred():
            return True
        c.tick()
    return pred()


def figure8_scenario(snapshots=None):
    """The Raft paper's Figure 8 scenario, scripted on a SimCluster (used by
    tests/phase3 and notebooks/03_raft.ipynb).

    Five nodes; one entry per MsgApp (max_msg_bytes=1) and one tick of delay per
    message, so the script can stop replication between two entries:

      (a) S1 leads and replicates X (its term) to S2 only.
      (b) S1 crashes; S5 is elected by S3, S4, S5 and appends its own no-op at
          X's index, but is cut off before replicating it.
      (c) S5 crashes; S1 restarts and is elected by S1, S2, S3 in a newer term.
          It replicates X to S3: X is now on a majority — but S1 must NOT commit
          it, because X is not from S1's current term (§5.4.2).
      (d) S1 crashes; S5 restarts and is elected by S3, S4 (its last term is
          newer than theirs) and overwrites X everywhere. Had S1 committed X in
          (c), a committed entry would now be lost.

    Runs the scenario; returns (cluster, facts). `snapshots`, if a list,
    receives (label, {node: log}) after each step for plotting."""
    c = SimCluster(n=5, seed=8, max_msg_bytes=1, election_ticks=10)
    facts = {}

    def snap(label):
        if snapshots is not None:
            snapshots.append((label, {i: c.log(i) for i in c.nodes()}))

    # S1 becomes leader of the whole cluster first.
    c.campaign(1)
    _check(_step_until(c, lambda: c.leader() == 1))
    c.tick(3)
    c.set_faults(delay=(1, 1))
    # (a) S1 replicates X to S2 only.
    c.partition([[1, 2], [3], [4], [5]])
    x_index = c.propose(b"X", node=1)
    _check(_step_until(c, lambda: c.node(2).last_index >= x_index, 20))
    facts["x_index"] = x_index
    facts["x_term"] = c.node(1).term
    snap("(a) S1 replicates X to S2")
    # (b) S1 crashes; S5 wins with S3, S4 and appends a no-op at X's index.
    c.crash(1)
    c.partition([[2], [3, 4, 5]])
    c.campaign(5)
    _check(_step_until(c, lambda: c.node(5).role == "leader", 100))
    c.partition([[2], [3], [4], [5]])  # drops S5's in-flight MsgApps
    c.tick(2)
    _check(c.node(5).last_index == x_index)  # its own entry at X's index ...
    _check(c.node(3).last_index < x_index)   # ... replicated nowhere
    facts["s5_term"] = c.node(5).term
    snap("(b) S5 elected, writes at X's index")
    # (c) S5 crashes; S1 restarts and is elected by S1, S2, S3.
    c.crash(5)
    c.restart(1)
    c.partition([[1, 3], [2], [4], [5]])  # S1 learns the current term from S3
    c.campaign(1)
    _check(_step_until(c, lambda: c.node(1).term == c.node(3).term, 30))
    c.partition([[1, 2, 3], [4], [5]])
    c.campaign(1)
    _check(_step_until(c, lambda: c.node(1).role == "leader", 100))
    # Stop as soon as S3 holds X (before S1's own no-op reaches it).
    _check(_step_until(c, lambda: c.node(3).last_index >= x_index, 30))
    c.tick(1)  # S3's acknowledgement of X reaches S1 ...
    c.partition([[1], [2], [3], [4], [5]])  # ... S1's next entry for S3 does not
    _check(c.node(3).last_index == x_index)
    holders = [i for i in (1, 2, 3) if any(e[0] == x_index and e[2] == b"X" for e in c.log(i))]
    facts["x_holders_c"] = holders
    facts["s1_commit_c"] = c.node(1).commit_index
    snap("(c) S1 re-elected, X on a majority")
    # (d) S1 crashes; S5 restarts and wins with S3 and S4, overwriting X.
    c.crash(1)
    c.restart(5)
    c.partition([[2], [3, 4, 5]])
    c.campaign(5)
    _check(_step_until(c, lambda: c.node(5).role == "leader", 100))
    c.set_faults()
    _check(_step_until(c, lambda: c.node(3).commit_index >= x_index, 30))
    facts["index_x_on_s3_d"] = [e for e in c.log(3) if e[0] == x_index][0]
    snap("(d) S5 re-elected, overwrites X")
    # Everyone comes back; the cluster converges on S5's history.
    c.heal()
    c.restart(1)
    c.tick(50)
    snap("after healing")
    return c, facts
