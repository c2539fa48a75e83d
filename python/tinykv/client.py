"""Phase 5: the TinyKV client.

``Client`` talks to a TinyKV cluster (``tinykv-server`` processes, or an in-process
``LocalCluster``) over the client protocol (phase5_client/doc/protocol.md). It is a
thin wrapper over the C++ client (``tinykv::client::Client``): it finds the leader
and caches it, follows not-leader hints, retries unavailable nodes and timed-out
attempts with exponential backoff and full jitter until the call's deadline, and
gives every write a request id so a retried write is applied at most once.
Blocking calls release the GIL; one client may be shared by many threads.

    import tinykv
    with tinykv.Client(["127.0.0.1:2379", "127.0.0.1:22379"], timeout=5.0) as cl:
        cl.put(b"k", b"v")
        cl.get(b"k")                      # b"v" (linearizable: ReadIndex on the leader)
        cl.get(b"k", serializable=True)   # any node, possibly stale
        cl.cas(b"k", b"v", b"w")          # True
        cl.scan(b"a", b"z", limit=10)     # [(key, value), ...] in key order

Errors are ``tinykv`` exceptions: ``TimeoutError`` when the deadline passes (for a
write: the outcome is unknown), ``UnavailableError``, ``InvalidArgumentError``, ...

Not here yet (later phases, DESIGN.md): ``txn()`` and ``watch()``.

``LocalCluster(n, data_dir)`` runs n real Raft members inside this process, each
serving the client protocol on 127.0.0.1 (port 0): ``endpoints``, ``leader()``,
``stop_node(i)`` / ``start_node(i)`` (same client port), ``partition(groups)``,
``heal()``, ``close()``; also a context manager.
"""

from tinykv._core import client as _c

__all__ = ["Client", "LocalCluster"]


def _b(x):
    if isinstance(x, str):
        return x.encode()
    return bytes(x)


class Client:
    """A client of a TinyKV cluster. ``endpoints``: client addresses "host:port".

    ``timeout`` is the default deadline of one call in seconds (all retries
    included); each method also takes ``timeout=``.
    """

    def __init__(self, endpoints, timeout=5.0, *, dial_timeout=2.0, attempt_timeout=2.0,
                 seed=0):
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e]
        self._c = _c.Client(list(endpoints), timeout=timeout, dial_timeout=dial_timeout,
                            attempt_timeout=min(attempt_timeout, timeout), seed=seed)

    # -- context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes the connections; later calls raise CancelledError. Idempotent."""
        self._c.close()

    # -- key/value
    def put(self, key, value, *, timeout=None):
        self._c.put(_b(key), _b(value), timeout)

    def get(self, key, *, serializable=False, timeout=None):
        """The value (bytes), or None when the key does not exist."""
        return self._c.get(_b(key), serializable, timeout)

    def delete(self, key, *, timeout=None):
        """Deletes key (no error when it does not exist)."""
        self._c.delete(_b(key), timeout)

    def delete_range(self, start, end=b"", *, timeout=None):
        """Deletes every key in [start, end) (end b"": to the end); returns the count."""
        return self._c.delete_range(_b(start), _b(end), timeout)

    def delete_prefix(self, prefix, *, timeout=None):
        return self.delete_range(prefix, _prefix_end(_b(prefix)), timeout=timeout)

    def scan(self, start=b"", end=b"", limit=0, *, keys_only=False, serializable=False,
             timeout=None):
        """[(key, value), ...] for keys in [start, end) in order; end b"": to the end;
        limit 0: all. Fetched in pages; each page is linearizable on its own."""
        return self._c.scan(_b(start), _b(end), limit, keys_only, serializable, timeout)

    def scan_prefix(self, prefix, limit=0, **kw):
        return self.scan(prefix, _prefix_end(_b(prefix)), limit, **kw)

    def cas(self, key, expected, new, *, timeout=None):
        """Sets key to new iff its value is expected (None: iff key is absent)."""
        ok, _ = self._c.cas(_b(key), None if expected is None else _b(expected), _b(new),
                            timeout)
        return ok

    def cas_ex(self, key, expected, new, *, timeout=None):
        """Like cas, but returns (succeeded, current value on failure or None)."""
        return self._c.cas(_b(key), None if expected is None else _b(expected), _b(new),
                           timeout)

    # -- cluster
    def status(self, endpoint=None, *, timeout=None):
        """One endpoint's Raft status as a dict (id, leader, term, role, commit_index,
        applied_index, first_index, last_index, client_address, leader_client_address).
        Without an endpoint: the leader's status (raises UnavailableError if no endpoint
        reports itself leader)."""
        if endpoint is not None:
            return self._c.endpoint_status(endpoint, timeout)
        best = None
        last_error = None
        for e in self.endpoints:
            try:
                st = self._c.endpoint_status(e, timeout)
            except Exception as err:  # noqa: BLE001 - report the last one
                last_error = err
                continue
            if st["role"] == "leader" and (best is None or st["term"] > best["term"]):
                best = st
        if best is None:
            from tinykv.errors import UnavailableError
            raise UnavailableError(f"no endpoint reports itself leader (last error: {last_error})")
        return best

    def endpoint_status(self, *, timeout=None):
        """[status dict or {"endpoint", "error"}] for every endpoint."""
        out = []
        for e in self.endpoints:
            try:
                st = self._c.endpoint_status(e, timeout)
                st["endpoint"] = e
            except Exception as err:  # noqa: BLE001
                st = {"endpoint": e, "error": str(err)}
            out.append(st)
        return out

    def members(self, *, timeout=None):
        """[{id, peer_address, client_address, learner, is_leader}, ...] sorted by id."""
        return self._c.members(timeout)

    def member_list(self, *, timeout=None):
        """Same as members() (etcdctl's name)."""
        return self._c.members(timeout)

    def member_add(self, id, peer_addr, client_addr="", learner=False, *, timeout=None):
        """Adds member `id` (a voter, or a learner with learner=True) whose peer server
        listens at peer_addr ("host:port"); start that node with no bootstrap config
        (tinykv-server --initial-cluster-state existing). One change at a time: the
        leader answers Busy while one is pending (retried until the timeout).
        Returns {index, leader, members} after the change applied on the leader."""
        return self._c.member_change("add", id, peer_addr, client_addr, learner, timeout)

    def member_promote(self, id, *, timeout=None):
        """Promotes learner `id` to a voter once it has caught up (retried until then,
        up to the timeout). Returns {index, leader, members}."""
        return self._c.member_change("promote", id, "", "", False, timeout)

    def member_remove(self, id, *, timeout=None):
        """Removes member `id` (the leader may remove itself: it steps down).
        Returns {index, leader, members}."""
        return self._c.member_change("remove", id, "", "", False, timeout)

    def health(self, endpoint=None, *, timeout=None):
        """{endpoint, healthy, took (seconds), error}; all endpoints when none is given."""
        if endpoint is None:
            return [self._c.health(e, timeout) for e in self.endpoints]
        return self._c.health(endpoint, timeout)

    @property
    def endpoints(self):
        return self._c.endpoints

    @property
    def leader_endpoint(self):
        """The cached leader ("" when none is known)."""
        return self._c.leader_endpoint

    def stats(self):
        return self._c.stats()


def _prefix_end(prefix):
    b = bytearray(prefix)
    while b:
        if b[-1] != 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return b""


class LocalCluster:
    """n real Raft members in this process (KvNode + client service each), on loopback.

        with LocalCluster(3, tmp_path) as lc:
            with Client(lc.endpoints) as cl:
                cl.put(b"k", b"v")
    """

    def __init__(self, n=3, data_dir=None, *, tick_ms=20, election_ticks=10, sync=True,
                 snapshot_threshold=10000, wait=10.0):
        if data_dir is None:
            raise ValueError("LocalCluster needs a data_dir")
        import os
        self._c = _c.LocalCluster(n, os.fspath(data_dir), tick_ms, election_ticks, sync,
                                  snapshot_threshold)
        if wait:
            self._c.wait_for_leader(wait)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def endpoints(self):
        return self._c.endpoints

    def endpoint(self, i):
        return self._c.endpoint(i)

    def leader(self):
        """The id of the leader (highest term among running members), or None."""
        return self._c.leader()

    def wait_for_leader(self, timeout=10.0):
        return self._c.wait_for_leader(timeout)

    def running(self):
        return self._c.running()

    def stop_node(self, i):
        self._c.stop_node(i)

    def start_node(self, i):
        self._c.start_node(i)

    def add_node(self, i):
        """Starts a new member i with no configuration (it joins: waits for the leader).
        Add it with Client.member_add(i, lc.peer_address(i), lc.endpoint(i), learner=True)."""
        self._c.add_node(i)

    def peer_address(self, i):
        """Member i's current peer (raft) address."""
        return self._c.peer_address(i)

    def partition(self, groups):
        self._c.partition([list(g) for g in groups])

    def heal(self):
        self._c.heal()

    def client(self, **kw):
        return Client(self.endpoints, **kw)

    def close(self):
        self._c.close()
