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

__all__ = ["SimCluster", "NodeInfo", "ROLES", "encode_message_size"]
