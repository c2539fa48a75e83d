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

See phase3_raft/README.md for the simulator's semantics.
"""

from __future__ import annotations

from typing import Any, Iterable

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


def figure8_scenario(snapshots: list | None = None) -> tuple[Any, dict[str, Any]]:
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


# --- Real nodes: LocalCluster -----------------------------------------------------------

import os as _os
import random as _random
import threading as _threading
import time as _time

from tinykv import errors as _errors

KvNode = _r.KvNode
__all__ += ["KvNode", "LocalCluster"]


class LocalCluster:
    """n real Raft nodes (``KvNode``) inside this process, over loopback TCP (port 0) with
    real files under ``data_dir/n<i>``: durable segmented Raft log, the LSM engine as state
    machine, snapshots shipped as engine checkpoints.

    Client calls (``put``/``get``/``delete``/``delete_range``/``cas``/``scan``) go to the
    current leader and retry on ``NotLeaderError``/``AbortedError``/``UnavailableError``
    (and, for writes, on ``TimeoutError`` with the same request id, which the state machine
    deduplicates, so a retried write takes effect once) until ``timeout``; they raise the
    last error after that. Reads are linearizable: the leader runs a ReadIndex barrier first.
    Each thread is its own client (its own request-id sequence), so the cluster may be used
    from many threads at once.

        with LocalCluster(3, tmp_path) as c:
            c.put(b"k", b"v")
            assert c.get(b"k") == b"v"
            c.partition([[c.leader()], [others...]]); c.heal()

    ``stop(i)`` stops node i (its files stay); ``start(i)`` restarts it from disk; ``stop()``
    stops every node. The verbs shared with ``tinykv.testing.Cluster`` and
    ``tinykv.client.EmbeddedCluster`` work too: ``kill(i)`` (= ``stop(i)``: in-process
    there is no SIGKILL), ``restart(i)``, ``stop_node(i)`` / ``start_node(i)``,
    ``wait_leader()``. There is no ``client()``: this cluster is its own client.
    Range ends: ``end=None`` (or ``b""``) means "to the last key".
    Membership, as in ``SimCluster``: ``add_member(i, learner=False)`` starts a new node i
    with no configuration (it joins) and adds it through the leader; ``promote(i)``,
    ``remove_member(i)`` (a removed node keeps running until ``stop(i)``);
    ``members(i)`` -> {"voters": [...], "learners": [...]} as node i applied it.
    ``partition(groups)`` drops all traffic between nodes of different groups (nodes not
    listed are isolated); ``heal()`` removes it. The GIL is released while nodes work.
    """

    def __init__(self, n: int = 3, data_dir: str | _os.PathLike[str] | None = None, *,
                 tick_ms: int = 20, election_ticks: int = 10, snapshot_threshold: int = 10000,
                 sync: bool = True, timeout: float = 10.0):
        if data_dir is None:
            raise ValueError("LocalCluster needs a data_dir")
        self.n = n
        self.data_dir = _os.fspath(data_dir)
        self.timeout = timeout
        self._opts = dict(tick_ms=tick_ms, election_ticks=election_ticks,
                          snapshot_threshold=snapshot_threshold, sync=sync)
        self._nodes = {i: None for i in range(1, n + 1)}
        self._joining = set()  # added by add_member: start with no configuration
        self._ports = {}
        self._groups = None
        self._lock = _threading.RLock()
        self._local = _threading.local()
        self._client_ids = _random.Random()
        self._client_ids.seed(_os.urandom(8))
        for i in range(1, n + 1):
            self.start(i)

    # -- lifecycle
    def __enter__(self) -> "LocalCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops every node. Idempotent."""
        for i in list(self._nodes):
            if self._nodes[i] is not None:
                self.stop(i)

    def node(self, i: int) -> "KvNode":
        """Node i's ``KvNode``; raises ``UnavailableError`` while it is stopped."""
        nd = self._nodes[i]
        if nd is None:
            raise _errors.UnavailableError(f"node {i} is stopped")
        return nd

    def nodes(self) -> list[int]:
        """Every node id (running or not)."""
        return sorted(self._nodes)

    def running(self) -> list[int]:
        """The ids of the running nodes."""
        return [i for i, nd in sorted(self._nodes.items()) if nd is not None]

    def start(self, i: int) -> None:
        """Starts node i (again) from its files under ``data_dir/n<i>``; no-op if it runs."""
        with self._lock:
            if self._nodes[i] is not None:
                return
            peers = {j: (f"127.0.0.1:{self._ports[j]}" if j in self._ports else "")
                     for j in self._nodes}
            nd = KvNode(i, _os.path.join(self.data_dir, f"n{i}"), peers,
                        join_existing=i in self._joining, **self._opts)
            self._nodes[i] = nd
            self._ports[i] = nd.peer_port
            for j, other in self._nodes.items():
                if other is not None and j != i:
                    other.set_peer_address(i, f"127.0.0.1:{nd.peer_port}")
            self._apply_partition()

    def stop(self, i: int | None = None) -> None:
        """Stops node i (its files stay); without i, every node (as ``close()``)."""
        if i is None:
            self.close()
            return
        with self._lock:
            nd = self._nodes[i]
            self._nodes[i] = None
        if nd is not None:
            nd.stop()

    def stop_node(self, i: int) -> None:
        """Same as ``stop(i)``."""
        self.stop(i)

    def start_node(self, i: int) -> None:
        """Same as ``start(i)``."""
        self.start(i)

    def kill(self, i: int) -> None:
        """Stops node i: in-process, a stop is the closest thing to a crash."""
        self.stop(i)

    def restart(self, i: int) -> None:
        """Stops node i if it runs and starts it again from its files."""
        self.stop(i)
        self.start(i)

    # -- membership
    def _change(self, op, i, peer="", timeout=None):
        def fn(nd, t):
            try:
                return nd.member_change(op, i, peer, "", t)
            except _errors.BusyError as e:  # another change pending: retry
                _time.sleep(0.02)
                raise _errors.UnavailableError(str(e)) from e
        return self._call(fn, write=True, timeout=timeout)

    def add_member(self, i: int, learner: bool = False,
                   timeout: float | None = None) -> dict[str, Any]:
        """Starts new node i with no configuration and adds it (a voter, or a learner)
        through the leader. Returns {index, members} once the change applied there."""
        with self._lock:
            if i in self._nodes:
                raise _errors.AlreadyExistsError(f"node {i} exists")
            self._nodes[i] = None
            self._joining.add(i)
        self.start(i)
        return self._change("add_learner" if learner else "add_voter", i,
                            f"127.0.0.1:{self._ports[i]}", timeout)

    def promote(self, i: int, timeout: float | None = None) -> dict[str, Any]:
        """Promotes learner i once it caught up (retried until then, up to timeout)."""
        return self._change("promote", i, timeout=timeout)

    def remove_member(self, i: int, timeout: float | None = None) -> dict[str, Any]:
        """Removes node i from the configuration (it keeps running until stop(i))."""
        return self._change("remove", i, timeout=timeout)

    def members(self, i: int | None = None) -> dict[str, list[int]]:
        """{"voters": [...], "learners": [...]} as node i (default: the leader) applied it."""
        nd = self.node(i if i is not None else self.wait_leader())
        ms = nd.status()["members"]
        return {"voters": sorted(m[0] for m in ms if not m[2]),
                "learners": sorted(m[0] for m in ms if m[2])}

    # -- faults
    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Only nodes in the same group talk to each other; unlisted nodes are isolated."""
        with self._lock:
            self._groups = [set(g) for g in groups]
            self._apply_partition()

    def heal(self) -> None:
        """Removes the partition."""
        with self._lock:
            self._groups = None
            self._apply_partition()

    def set_drop_probability(self, p: float) -> None:
        """Every node drops each outgoing Raft message with probability p."""
        for nd in self._nodes.values():
            if nd is not None:
                nd.set_drop_probability(p)

    def _apply_partition(self):
        for i, nd in self._nodes.items():
            if nd is None:
                continue
            if self._groups is None:
                nd.set_dropped_peers(set())
                continue
            mine = next((g for g in self._groups if i in g), {i})
            nd.set_dropped_peers({j for j in self._nodes if j not in mine})

    # -- inspection
    def status(self, i: int) -> dict[str, Any]:
        """Node i's status dict (id, role, term, leader, commit/applied index, members...)."""
        return self.node(i).status()

    def leader(self, timeout: float | None = None) -> int | None:
        """The id of the leader with the highest term among running nodes, waiting up to
        ``timeout`` seconds (default: return at once, None if there is none)."""
        deadline = _time.monotonic() + (timeout or 0)
        while True:
            best, best_term = None, -1
            for i, nd in list(self._nodes.items()):
                if nd is None:
                    continue
                st = nd.status()
                if st["role"] == "leader" and st["term"] > best_term:
                    best, best_term = i, st["term"]
            if best is not None or _time.monotonic() >= deadline:
                return best
            _time.sleep(0.01)

    def wait_leader(self, timeout: float = 10.0) -> int:
        """The leader's id, waiting up to ``timeout`` seconds; raises ``TimeoutError``."""
        leader = self.leader(timeout=timeout)
        if leader is None:
            raise _errors.TimeoutError(f"no leader within {timeout} s")
        return leader

    # -- client operations
    def _next_request(self):
        loc = self._local
        if not hasattr(loc, "client_id"):
            with self._lock:
                loc.client_id = self._client_ids.getrandbits(63) + 1
            loc.seq = 0
        loc.seq += 1
        return loc.client_id, loc.seq

    def _call(self, fn, *, write, timeout):
        timeout = self.timeout if timeout is None else timeout
        deadline = _time.monotonic() + timeout
        hint = None
        last = None
        while True:
            left = deadline - _time.monotonic()
            if left <= 0:
                raise last or _errors.TimeoutError(f"no answer within {timeout} s")
            target = hint if hint is not None and self._nodes.get(hint) is not None else \
                self.leader()
            hint = None
            if target is None:
                last = _errors.UnavailableError("no leader")
                _time.sleep(0.02)
                continue
            nd = self._nodes.get(target)
            if nd is None:
                continue
            try:
                return fn(nd, min(left, 2.0))
            except _errors.NotLeaderError as e:
                last, hint = e, e.leader
                _time.sleep(0.01)
            except (_errors.AbortedError, _errors.UnavailableError, _errors.CancelledError) as e:
                last = e
                _time.sleep(0.01)
            except _errors.TimeoutError as e:
                last = e  # writes retry with the same request id (deduplicated)

    def put(self, key: bytes, value: bytes, timeout: float | None = None) -> int:
        """Replicated put through the leader (retried, exactly once); returns its index."""
        cid, seq = self._next_request()
        return self._call(lambda nd, t: nd.put(key, value, t, cid, seq), write=True,
                          timeout=timeout)

    def delete(self, key: bytes, timeout: float | None = None) -> int:
        """Replicated delete through the leader; returns its index."""
        cid, seq = self._next_request()
        return self._call(lambda nd, t: nd.delete(key, t, cid, seq), write=True, timeout=timeout)

    def delete_range(self, start: bytes, end: bytes | None = None,
                     timeout: float | None = None) -> int:
        """Deletes [start, end) (end None or b"": to the last key); returns the count."""
        end = b"" if end is None else end
        return self._call(lambda nd, t: nd.delete_range(start, end, t), write=True,
                          timeout=timeout)

    def cas(self, key: bytes, expected: bytes | None, new: bytes,
            timeout: float | None = None) -> bool:
        """Sets key to new iff its value is expected (None: absent). Returns True/False."""
        cid, seq = self._next_request()

        def run(nd, t):
            # CAS carries the request id too, so a retry after a timeout is exactly-once.
            return _cas_with_id(nd, key, expected, new, t, cid, seq)
        ok, _ = self._call(run, write=True, timeout=timeout)
        return ok

    def get(self, key: bytes, timeout: float | None = None) -> bytes | None:
        """Linearizable read (ReadIndex on the leader)."""
        def run(nd, t):
            nd.read_barrier(t)
            return nd.get(key)
        return self._call(run, write=False, timeout=timeout)

    def scan(self, start: bytes = b"", end: bytes | None = None, limit: int = 1000000,
             timeout: float | None = None) -> list[tuple[bytes, bytes]]:
        """[(key, value)] in [start, end) (end None or b"": to the last key), linearizable."""
        end = b"" if end is None else end

        def run(nd, t):
            nd.read_barrier(t)
            return nd.scan(start, end, limit)
        return self._call(run, write=False, timeout=timeout)


def _cas_with_id(nd, key, expected, new, timeout, client_id, seq):
    return nd.cas(key, expected, new, timeout, client_id, seq)
