"""Phase 5: the TinyKV client.

``Client`` talks to a TinyKV cluster (``tinykv-server`` processes, or an in-process
``EmbeddedCluster``) over the client protocol (phase5_client/doc/protocol.md). It is a
thin wrapper over the C++ client (``tinykv::client::Client``): it finds the leader
and caches it, follows not-leader hints, retries unavailable nodes and timed-out
attempts with exponential backoff and full jitter until the call's deadline, and
gives every write a request id so a retried write is applied at most once.
Blocking calls release the GIL; one client may be shared by many threads.

    import tinykv
    with tinykv.Client(["127.0.0.1:2379", "127.0.0.1:22379"], timeout=5.0) as cl:
        rev = cl.put(b"k", b"v")          # the write's revision
        cl.get(b"k")                      # b"v" (linearizable: ReadIndex on the leader)
        cl.get(b"k", serializable=True)   # any node, possibly stale
        cl.cas(b"k", b"v", b"w")          # True
        cl.get(b"k", revision=rev)        # b"v": the key as of that revision
        cl.compact(rev)                   # history below rev is gone (reads below it fail)
        cl.scan(b"a", b"z", limit=10)     # [(key, value), ...] in key order, one snapshot
        cl.scan(b"a")                     # end None: to the last key
        lease = cl.lease_grant(10)        # a lease of 10 s (tinykv.lease)
        cl.put(b"t", b"1", lease=lease)   # deleted when the lease expires or is revoked
        with cl.txn() as t:               # a transaction: snapshot isolation
            t.put(b"k", t.get(b"k") + b"!")   # committed at the end of the block

Revisions. The servers keep every version of every key (MVCC, phase4_txn): each write
commits at a timestamp from the leader's oracle, its *revision*, and a read can be made
at any past revision (``revision=``; 0 is now; one in the future is
``InvalidArgumentError``). ``timestamp()`` is a fresh one.

Transactions (``txn()``, the ``Txn`` class): Percolator's protocol run by this client,
at snapshot isolation. Reads see the snapshot at the transaction's ``start_ts`` and its
own writes; writes are buffered until ``commit()``, which fails with
``TxnConflictError`` when another transaction committed a write to one of the same keys
after ``start_ts`` (the first committer wins; run the transaction again). Write skew is
allowed: two transactions that read the same keys and write different ones both commit.
A client that dies part-way leaves locks that other clients resolve: before the
transaction's primary key committed they roll it back once its ``lock_ttl`` passed,
after it they roll it forward at once. Plain reads and writes resolve them the same way.

Keys and values are bytes-like or str (``tinykv.common.BytesLike``; str is encoded as
UTF-8); anything else raises ``TypeError``. A key must not be empty, and one request
carries at most ``MAX_REQUEST_BYTES`` (1.5 MiB, as etcd) of keys and values together;
both are ``InvalidArgumentError`` at once, before anything is sent. Range ends: ``None``
means "to the end of the key space"; ``b""`` means the same (the wire protocol's empty
end), so ``scan(b"a", b"")`` is ``scan(b"a")``.

Errors are ``tinykv`` exceptions: ``TimeoutError`` when the deadline passes (for a
write: the outcome is unknown), ``UnavailableError`` (also when no endpoint can be
reached at all: a client that never connected gives up once every endpoint refused
or did not answer within ``dial_timeout``), ``InvalidArgumentError``, ...

Watches (``watch()``, the ``Watch`` and ``WatchEvent`` classes): the puts and deletes of
a key, a prefix or a range from a revision on, in revision order, each once; the
client follows the leader and resumes a stream that ended (a leader change, a server
that dropped a slow watcher) from where it got to, with no gap and no duplicate::

    for ev in cl.watch(prefix=b"app/", start_revision=rev, timeout=5.0):
        print(ev.type, ev.key, ev.value, ev.revision)   # "PUT"/"DELETE"; stops after 5 s idle

``EmbeddedCluster(n, data_dir)`` runs n real Raft members inside this process, each
serving the client protocol on 127.0.0.1 (port 0), as etcd's ``embed`` package does:
``endpoints``, ``leader()``, ``client()``, ``kill(i)`` / ``restart(i)`` (same client
port), ``partition(groups)``, ``heal()``, ``stop()``; also a context manager. (It was
called ``LocalCluster`` here before; ``tinykv.raft.LocalCluster`` is the other one,
real ``KvNode`` objects driven directly, without client endpoints.)
"""

from __future__ import annotations

import collections
import os
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from tinykv._core import client as _c
from tinykv.common import BytesLike
from tinykv.errors import CancelledError, Error, UnavailableError
from tinykv.lease import Lease, LeaseKeepAlive, LeaseTimeToLive
from tinykv.lock import Lock

__all__ = ["Client", "EmbeddedCluster", "KeyValue", "Lease", "LeaseKeepAlive", "LeaseTimeToLive",
           "MAX_REQUEST_BYTES", "Txn", "Watch", "WatchEvent", "prefix_end"]

MAX_REQUEST_BYTES: int = _c.MAX_REQUEST_BYTES
"""The most key and value bytes one request may carry (Put: key + value; Cas: key +
expected + value), 1.5 MiB."""


class KeyValue(NamedTuple):
    """A key, its value and its metadata, as etcd's ``mvccpb.KeyValue``:
    ``create_revision`` (the revision of the put that created the key: its first since
    it last did not exist), ``mod_revision`` (its newest put), ``version`` (puts since
    it was created, 1 on creation) and ``lease`` (the lease it is attached to, 0 none).
    Returned by ``get``/``scan`` with ``metadata=True`` and by writes with
    ``prev_kv=True``."""

    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int


def _key_value(t: "tuple | None") -> "KeyValue | None":
    return None if t is None else KeyValue(*t)


def prefix_end(prefix: BytesLike) -> bytes:
    """The smallest key greater than every key that starts with ``prefix``; ``b""`` when
    there is none (an empty or all-``0xff`` prefix), which as a range end means "to the
    end". ``[prefix, prefix_end(prefix))`` is every key with the prefix."""
    return _c.prefix_end(prefix)


class Client:
    """A client of a TinyKV cluster.

    ``endpoints``: client addresses ``"host:port"`` (a list, or one comma-separated
    string); ``"http://host:port"`` means the same, ``"https://host:port"`` asks for
    TLS. ``timeout`` is the default deadline of one call in seconds, all retries
    included; each method also takes ``timeout=``. ``dial_timeout`` bounds one TCP
    connect (and the TLS handshake), ``attempt_timeout`` one attempt (so a node cut
    off from its peers costs one attempt, not the whole call). ``seed`` fixes the
    backoff jitter (0: random). Raises ``InvalidArgumentError`` for an endpoint that is
    not one of these.

    TLS (etcdctl's ``--cacert/--cert/--key``): ``cacert`` is the CA bundle (PEM file)
    that verifies the servers' certificates (None: the system's CAs), ``cert`` and
    ``key`` this client's certificate for servers that require one. Setting any of
    them, or an ``https://`` endpoint, turns TLS on; an ``http://`` endpoint is then
    refused. A TLS failure (unknown CA, expired or missing certificate, a plaintext
    server) raises ``tinykv.IOError`` naming TLS, without retrying; unusable files
    raise ``InvalidArgumentError`` naming the file.
    """

    def __init__(self, endpoints: Sequence[str] | str, timeout: float = 5.0, *,
                 dial_timeout: float = 2.0, attempt_timeout: float = 2.0, seed: int = 0,
                 cacert: str | None = None, cert: str | None = None,
                 key: str | None = None):
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e]
        self._c = _c.Client(list(endpoints), timeout=timeout, dial_timeout=dial_timeout,
                            attempt_timeout=min(attempt_timeout, timeout), seed=seed,
                            cacert=str(cacert or ""), cert=str(cert or ""), key=str(key or ""))

    # -- context manager
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections; later calls raise ``CancelledError``. Idempotent."""
        self._c.close()

    # -- key/value
    def put(self, key: BytesLike, value: BytesLike, *, lease: "int | Lease" = 0,
            prev_kv: bool = False, trace_id: int = 0,
            timeout: float | None = None) -> "int | tuple[int, KeyValue | None]":
        """Sets ``key`` to ``value`` (linearizable; applied exactly once even when
        retried). Returns the write's revision: ``get(key, revision=r)`` sees this
        value until a later write (0 from a server without revisions). ``lease`` (an
        id or a ``Lease``) attaches the key to that lease: it is deleted when the
        lease is revoked or expires; without one, a put detaches the key from any
        lease. A lease that does not exist raises ``NotFoundError`` and writes
        nothing. With ``prev_kv`` (etcd's): ``(revision, the key before as a
        KeyValue, or None when it did not exist)``. ``trace_id`` (nonzero, 64 bits):
        the request's trace id instead of a fresh one; servers at ``--log-level debug``
        name it (16 hex digits, field ``trace``) in the log lines of the request's path,
        on the leader and on every member that applies it."""
        if prev_kv:
            if trace_id:
                raise ValueError("put: trace_id with prev_kv is not supported")
            revision, prev = self._c.put_prev(key, value, timeout, int(lease))
            return revision, _key_value(prev)
        return self._c.put(key, value, timeout, int(lease), int(trace_id))

    def get(self, key: BytesLike, *, serializable: bool = False, revision: int = 0,
            metadata: bool = False,
            timeout: float | None = None) -> "bytes | KeyValue | None":
        """The value of ``key``, or None when it does not exist. Linearizable (the leader
        confirms its leadership first) unless ``serializable``: then any node answers
        from its own state, possibly stale. ``revision``: the value as of that past
        revision (0: now); a revision in the future raises ``InvalidArgumentError``.
        With ``metadata``: a ``KeyValue`` (the value with the key's create and mod
        revision, version and lease, as etcd reports them) instead of the bytes."""
        if metadata:
            return _key_value(self._c.get_kv(key, serializable, timeout, revision))
        return self._c.get(key, serializable, timeout, revision)

    def get_with_revision(self, key: BytesLike, *, serializable: bool = False,
                          revision: int = 0,
                          timeout: float | None = None) -> tuple[bytes | None, int]:
        """Like ``get``, but returns ``(value or None, read revision)``: the revision the
        read was made at (``revision`` when given), so that later reads at it see the
        same snapshot. 0 for a serializable read of the newest state."""
        return self._c.get_with_revision(key, serializable, timeout, revision)

    def delete(self, key: BytesLike, *, prev_kv: bool = False,
               timeout: float | None = None) -> "KeyValue | None":
        """Deletes ``key`` (no error when it does not exist). With ``prev_kv``: returns
        what was deleted as a ``KeyValue`` (None when the key did not exist)."""
        if prev_kv:
            return _key_value(self._c.delete_prev(key, timeout))
        self._c.delete(key, timeout)
        return None

    def delete_range(self, start: BytesLike, end: BytesLike | None = None, *,
                     prev_kv: bool = False,
                     timeout: float | None = None) -> "int | tuple[int, list[KeyValue]]":
        """Deletes every key in ``[start, end)`` (``end`` None or ``b""``: to the end);
        returns how many keys it deleted. With ``prev_kv``: ``(count, [KeyValue, ...])``,
        the deleted pairs in key order -- at most 2 MiB of them (4096 pairs); a larger
        range deletes everything but raises no error, and the list is then shorter than
        ``count``."""
        if prev_kv:
            count, kvs, _truncated = self._c.delete_range_prev(start, end, timeout)
            return count, [KeyValue(*kv) for kv in kvs]
        return self._c.delete_range(start, end, timeout)

    def delete_prefix(self, prefix: BytesLike, *, prev_kv: bool = False,
                      timeout: float | None = None) -> "int | tuple[int, list[KeyValue]]":
        """Deletes every key that starts with ``prefix`` (``b""``: every key); returns
        the count (with ``prev_kv`` as ``delete_range`` does)."""
        return self.delete_range(prefix, prefix_end(prefix), prev_kv=prev_kv, timeout=timeout)

    def scan(self, start: BytesLike = b"", end: BytesLike | None = None, limit: int = 0, *,
             keys_only: bool = False, serializable: bool = False, revision: int = 0,
             metadata: bool = False,
             timeout: float | None = None) -> "list[tuple[bytes, bytes]] | list[KeyValue]":
        """``[(key, value), ...]`` for the keys in ``[start, end)`` in key order (``end``
        None or ``b""``: to the end), at most ``limit`` pairs (0: all). With
        ``keys_only`` the values are ``b""``. Fetched in pages (at most 1,000 pairs
        each), all at one revision: ``revision`` when given (a past one; the future is
        ``InvalidArgumentError``), else the first page's linearizable read point, so the
        whole scan is one snapshot whatever writes run meanwhile. With ``metadata``:
        ``[KeyValue, ...]`` (each key's create and mod revision, version and lease)."""
        pairs = self._c.scan(start, end, limit, keys_only, serializable, timeout, revision,
                             metadata)
        return [KeyValue(*kv) for kv in pairs] if metadata else pairs

    def scan_prefix(self, prefix: BytesLike, limit: int = 0, *, keys_only: bool = False,
                    serializable: bool = False, revision: int = 0, metadata: bool = False,
                    timeout: float | None = None) -> "list[tuple[bytes, bytes]] | list[KeyValue]":
        """``scan`` of every key that starts with ``prefix``."""
        return self.scan(prefix, prefix_end(prefix), limit, keys_only=keys_only,
                         serializable=serializable, revision=revision, metadata=metadata,
                         timeout=timeout)

    def cas(self, key: BytesLike, expected: BytesLike | None, new: BytesLike, *,
            timeout: float | None = None) -> bool:
        """Sets ``key`` to ``new`` iff its value is ``expected`` (None: iff the key is
        absent). Returns whether it did."""
        ok, _ = self._c.cas(key, expected, new, timeout)
        return ok

    def cas_ex(self, key: BytesLike, expected: BytesLike | None, new: BytesLike, *,
               timeout: float | None = None) -> tuple[bool, bytes | None]:
        """Like ``cas``, but returns ``(succeeded, value found)``: on failure the current
        value (None: the key is absent); on success None."""
        return self._c.cas(key, expected, new, timeout)

    # -- leases (tinykv.lease)
    def lease_grant(self, ttl: int, *, id: int = 0,  # noqa: A002
                    timeout: float | None = None) -> Lease:
        """Grants a lease of ``ttl`` seconds (``id`` 0: the leader picks one; an id in
        use raises ``AlreadyExistsError``). Returns the ``Lease``."""
        lease_id, granted = self._c.lease_grant(ttl, id, timeout)
        return Lease(self._c, lease_id, granted)

    def lease(self, id: int) -> Lease:  # noqa: A002
        """The ``Lease`` with this id (nothing is asked of the cluster; its ``ttl`` is
        0 until ``time_to_live()`` tells it)."""
        return Lease(self._c, id, 0)

    def lock(self, name: BytesLike, *, ttl: int = 10, timeout: float | None = None) -> Lock:
        """A distributed lock on ``name`` with a session (lease) of its own of ``ttl``
        seconds (``tinykv.lock``); ``with cl.lock(b"name") as lk:`` holds it for the block
        (``timeout``: how long entering may wait)."""
        return Lock(self._c.lock_session(name, ttl), timeout)

    def leases(self, *, timeout: float | None = None) -> list[int]:
        """Every lease's id, in order."""
        return self._c.leases(timeout)

    # -- revisions and transactions
    def timestamp(self, *, timeout: float | None = None) -> int:
        """A fresh timestamp from the leader's oracle: above the revision of every write
        acknowledged before the call, so a read at it sees them all."""
        return self._c.timestamp(timeout)

    def txn(self, *, lock_ttl: float = 3.0, timeout: float | None = None,
            _pause_after_prewrite: float = 0.0, _pause_after_primary: float = 0.0) -> "Txn":
        """Begins a transaction (its ``start_ts`` is taken from the oracle now). Use it
        as a context manager -- committed when the block ends normally, rolled back when
        it raises -- or call ``commit()`` / ``rollback()``. See ``Txn``.

        ``lock_ttl``: seconds the locks of its commit outlive this client if it dies
        (others roll it back after that; a long commit renews it). ``timeout``: the
        deadline of each read, of the whole commit and of a rollback (None: the
        client's default for reads, 5 s for commit). The underscored arguments are test
        hooks: seconds to stop after the prewrites and after the primary's commit (a
        test kills the process there)."""
        return Txn(self._c.txn(lock_ttl, timeout, _pause_after_prewrite, _pause_after_primary))

    # -- watches
    def watch(self, key: BytesLike | None = None, range_end: BytesLike | None = None, *,
              prefix: BytesLike | None = None, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = False,
              progress_interval: float = 1.0, timeout: float | None = None,
              buffer_bytes: int = 16 << 20) -> "Watch":
        """Watches a key, a prefix or a range; returns a ``Watch`` (an iterator of
        ``WatchEvent``) once the leader created the stream, so every write made after
        this call returns is seen.

        What: ``key`` alone; ``key`` and ``range_end``, the range ``[key, range_end)``
        (``range_end=b"\\0"``: every key from ``key`` on, as etcd); or ``prefix``, every
        key that starts with it (``prefix=b""``: every key). ``start_revision``: the
        first revision wanted (0: after now; a past one replays the history from there,
        then goes on live; below the compaction point: ``CompactedError``).
        ``prev_kv``: each event carries the value before it. ``progress_notify``: when
        nothing happened for ``progress_interval`` seconds, a ``"PROGRESS"`` event (no
        key) tells the revision the watch has reached. ``timeout``: iteration stops after
        that many seconds without an event (None: it waits for ever; Ctrl-C interrupts
        it); creating the watch may take the client's timeout. ``buffer_bytes``: events
        received and not yet iterated are held up to about this much, then the server
        is made to wait (and drops a watcher that falls too far behind; the watch then
        resumes from history by itself)."""
        if prefix is not None:
            if key is not None or range_end is not None:
                raise TypeError("watch: give key (and range_end) or prefix, not both")
            core = self._c.watch(prefix, None, True, start_revision, prev_kv,
                                 progress_notify, progress_interval, buffer_bytes)
        else:
            if key is None:
                raise TypeError("watch: give a key or a prefix")
            core = self._c.watch(key, range_end, False, start_revision, prev_kv,
                                 progress_notify, progress_interval, buffer_bytes)
        return Watch(core, timeout)

    # -- cluster
    def status(self, endpoint: str | None = None, *,
               timeout: float | None = None) -> dict[str, Any]:
        """One endpoint's Raft status as a dict (id, leader, term, role, commit_index,
        applied_index, first_index, last_index, client_address, leader_client_address,
        cluster_id, alarm, watchers, watch_queued_bytes, version: the server's).
        Without an endpoint: the leader's status (raises ``UnavailableError`` if no
        endpoint reports itself leader)."""
        if endpoint is not None:
            return self._c.endpoint_status(endpoint, timeout)
        best = None
        last_error: Exception | None = None
        for e in self.endpoints:
            try:
                st = self._c.endpoint_status(e, timeout)
            except Exception as err:  # noqa: BLE001 - report the last one
                last_error = err
                continue
            if st["role"] == "leader" and (best is None or st["term"] > best["term"]):
                best = st
        if best is None:
            raise UnavailableError(f"no endpoint reports itself leader (last error: {last_error})")
        return best

    def endpoint_status(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """``[status dict, ...]`` for every endpoint, each with its ``"endpoint"``; an
        endpoint that does not answer gives ``{"endpoint", "error"}``."""
        out = []
        for e in self.endpoints:
            try:
                st = self._c.endpoint_status(e, timeout)
                st["endpoint"] = e
            except Exception as err:  # noqa: BLE001
                st = {"endpoint": e, "error": str(err)}
            out.append(st)
        return out

    def members(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """``[{id, peer_address, client_address, learner, is_leader}, ...]`` sorted by
        id."""
        return self._c.members(timeout)

    def member_list(self, *, timeout: float | None = None) -> list[dict[str, Any]]:
        """Same as ``members()`` (etcdctl's name)."""
        return self._c.members(timeout)

    def member_add(self, id: int, peer_addr: str, client_addr: str = "",  # noqa: A002
                   learner: bool = False, *, force: bool = False,
                   timeout: float | None = None) -> dict[str, Any]:
        """Adds member ``id`` (a voter, or a learner with ``learner=True``) whose peer
        server listens at ``peer_addr`` ("host:port"); start that node with no bootstrap
        config (``tinykv-server --initial-cluster-state existing``). One change at a
        time: the leader answers Busy while one is pending (retried until the timeout).

        Adding a voter is refused with ``InvalidArgumentError`` ("re-configuration
        failed due to not enough started members") when the voters the leader has
        heard from recently are fewer than a quorum of the configuration with the new
        member (etcd's strict reconfiguration check); ``force=True`` adds it anyway.
        Learners are exempt. Returns ``{index, leader, members}`` after the change
        applied on the leader."""
        return self._c.member_change("add", id, peer_addr, client_addr, learner, timeout,
                                     force)

    def member_promote(self, id: int, *,  # noqa: A002
                       timeout: float | None = None) -> dict[str, Any]:
        """Promotes learner ``id`` to a voter once it has caught up (retried until then,
        up to the timeout). Returns ``{index, leader, members}``."""
        return self._c.member_change("promote", id, "", "", False, timeout)

    def member_remove(self, id: int, *,  # noqa: A002
                      timeout: float | None = None) -> dict[str, Any]:
        """Removes member ``id`` (the leader may remove itself: it steps down).
        Returns ``{index, leader, members}``."""
        return self._c.member_change("remove", id, "", "", False, timeout)

    def member_update(self, id: int, peer_addr: str, client_addr: str = "", *,  # noqa: A002
                      timeout: float | None = None) -> dict[str, Any]:
        """Gives member ``id`` a new peer address (and client address, when given;
        "" keeps the recorded one), as etcd's member update: every member adopts it
        when the change applies, and the address book keeps it across restarts. The
        member's own process must listen there: restart it with the new peer address.
        Returns ``{index, leader, members}``."""
        return self._c.member_change("update", id, peer_addr, client_addr, False, timeout)

    def compact(self, revision: int, *, physical: bool = False,
                timeout: float | None = None) -> int:
        """Discards the history below ``revision`` on every member (etcd's Compact):
        afterwards a read at a revision below it raises ``InvalidArgumentError``
        ("required revision ... has been compacted"), and so does a watch from it or
        below. The state as of ``revision`` itself stays readable. Raises
        ``InvalidArgumentError`` for 0, a revision in the future, or one at or below
        the compacted revision already. Returns the compacted revision in force.
        ``physical`` is accepted for etcd's flag: the call always returns once the
        compaction has applied."""
        compacted, _removed = self._c.compact(revision, physical, timeout)
        return compacted

    def defrag(self, endpoint: str | None = None, *,
               timeout: float | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """Defragments a member's storage engine (etcd's defrag): the space of
        compacted history and deleted keys is given back. Each member is its own
        (nothing is replicated): ``{endpoint, member_id, bytes_before, bytes_after}``
        for ``endpoint``, a list of them for every endpoint when none is given."""
        if endpoint is None:
            return [self._c.defragment(e, timeout) for e in self.endpoints]
        return self._c.defragment(endpoint, timeout)

    def move_leader(self, member_id: int, *, timeout: float | None = None) -> tuple[int, int]:
        """Hands the leadership to the voter ``member_id`` (etcd's MoveLeader) and
        returns ``(leader before, leader after)`` once it leads; a member that leads
        already gives ``(member_id, member_id)``. Raises ``NotFoundError`` for an
        unknown member, ``InvalidArgumentError`` for a learner, ``TimeoutError`` when
        the leadership did not move in time."""
        return self._c.move_leader(member_id, timeout)

    def hash_kv(self, rev: int = 0, endpoint: str | None = None, *,
                timeout: float | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """A member's hash of its key space as of revision ``rev`` (0: every version
        it applied; etcd's HashKV): ``{endpoint, member_id, hash, hash_revision,
        compact_revision}`` for ``endpoint``, a list of them for every endpoint when
        none is given. Members that applied the same writes give the same hash (a
        CRC32C, phase4_txn/include/tinykv/txn/mvcc_hash.h). ``rev`` below the
        compacted revision raises ``CompactedError``."""
        if endpoint is None:
            return [self._c.hash_kv(e, rev, timeout) for e in self.endpoints]
        return self._c.hash_kv(endpoint, rev, timeout)

    def health(self, endpoint: str | None = None, *,
               timeout: float | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """``{endpoint, healthy, took (seconds), error}`` for ``endpoint``; a list of
        them for every endpoint when none is given. Healthy: the endpoint answers, knows
        a leader, and a linearizable read through the cluster completes."""
        if endpoint is None:
            return [self._c.health(e, timeout) for e in self.endpoints]
        return self._c.health(endpoint, timeout)

    @property
    def endpoints(self) -> list[str]:
        """The endpoints this client was given, in order."""
        return self._c.endpoints

    @property
    def leader_endpoint(self) -> str:
        """The cached leader ("" when none is known)."""
        return self._c.leader_endpoint

    def stats(self) -> dict[str, int]:
        """Counters: calls, attempts, retries, redirects, discoveries, write_sessions."""
        return self._c.stats()


class Txn:
    """A multi-key transaction at snapshot isolation (``Client.txn()`` makes one).

        with cl.txn() as t:                    # commit at the end, rollback on an exception
            a = int(t.get(b"alice")); b = int(t.get(b"bob"))
            t.put(b"alice", b"%d" % (a - 10)); t.put(b"bob", b"%d" % (b + 10))

        t = cl.txn()
        t.put(b"k", b"v")
        try:
            commit_ts = t.commit()             # the revision of its writes
        except tinykv.TxnConflictError:
            ...                                # another transaction wrote k first: retry

    Reads (``get``, ``scan``) see the snapshot at ``start_ts`` with this transaction's
    own writes on top; a lock met is resolved, or waited for while its transaction
    lives. Writes (``put``, ``delete``) are buffered here until ``commit()``, which
    prewrites every key (the primary, its smallest, first), commits the primary --
    the one step that decides -- and returns its commit timestamp; the other keys
    commit in the background. ``commit()`` raises ``TxnConflictError`` when another
    transaction committed one of the keys after ``start_ts`` (nothing of this one is
    then visible: run it again in a new transaction), ``TimeoutError`` when the
    deadline passed (while committing the primary: the outcome is unknown). A
    transaction that wrote nothing commits at ``start_ts``. After ``commit()`` or
    ``rollback()`` every call raises ``InvalidArgumentError``. One thread at a time
    uses a transaction (calls from others wait); calls release the GIL.
    """

    def __init__(self, core: Any):
        self._t = core
        self._finished = False

    def __enter__(self) -> "Txn":
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None,
                 tb: object) -> None:
        if self._finished:
            return
        if exc_type is None:
            self.commit()
            return
        try:
            self.rollback()
        except Error:  # the block's own exception is the one to see
            pass

    @property
    def start_ts(self) -> int:
        """The snapshot this transaction reads (a timestamp from the oracle)."""
        return self._t.start_ts

    @property
    def finished(self) -> bool:
        """True once ``commit()`` or ``rollback()`` was called."""
        return self._finished

    def get(self, key: BytesLike) -> bytes | None:
        """The value of ``key`` in this transaction: its own write if it made one, else
        the snapshot's (None: absent)."""
        return self._t.get(key)

    def scan(self, start: BytesLike = b"", end: BytesLike | None = None,
             limit: int = 0) -> list[tuple[bytes, bytes]]:
        """``[(key, value), ...]`` in ``[start, end)`` (``end`` None: to the end) in key
        order, at most ``limit`` (0: all): the snapshot merged with this transaction's
        writes."""
        return self._t.scan(start, end, limit)

    def put(self, key: BytesLike, value: BytesLike) -> None:
        """Buffers a write of ``key`` (sent at ``commit()``)."""
        self._t.put(key, value)

    def delete(self, key: BytesLike) -> None:
        """Buffers a delete of ``key`` (sent at ``commit()``)."""
        self._t.delete(key)

    def commit(self) -> int:
        """Commits; returns the commit timestamp, the revision of every write of this
        transaction. ``TxnConflictError``: it lost a write conflict (nothing applied)."""
        self._finished = True
        return self._t.commit()

    def rollback(self) -> None:
        """Discards the buffered writes (nothing was sent before ``commit()``)."""
        self._finished = True
        self._t.rollback()


class WatchEvent:
    """One event of a watch. ``type`` is ``"PUT"`` (``value`` is the new value),
    ``"DELETE"`` (``value`` is ``b""``) or, with ``progress_notify`` or after
    ``Watch.request_progress()``, ``"PROGRESS"`` (no key: nothing happened up to
    ``revision``). ``revision`` is the write's revision (the
    number ``put`` returned; all keys of one transaction share one), or the revision a
    progress event reports. ``prev_value``: with ``prev_kv``, the value the key had
    before this revision (None: it had none)."""

    __slots__ = ("type", "key", "value", "prev_value", "revision")

    def __init__(self, type: str, key: bytes | None, value: bytes | None,  # noqa: A002
                 prev_value: bytes | None, revision: int):
        self.type = type
        self.key = key
        self.value = value
        self.prev_value = prev_value
        self.revision = revision

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WatchEvent):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def __repr__(self) -> str:
        if self.type == "PROGRESS":
            return f"WatchEvent(PROGRESS, revision={self.revision})"
        prev = f", prev_value={self.prev_value!r}" if self.prev_value is not None else ""
        return (f"WatchEvent({self.type}, key={self.key!r}, value={self.value!r}{prev}, "
                f"revision={self.revision})")


class Watch:
    """A running watch (``Client.watch()`` makes one): an iterator of ``WatchEvent`` in
    revision order.

        with cl.watch(prefix=b"app/", timeout=10.0) as w:
            for ev in w:                  # stops after 10 s without an event
                ...
        w = cl.watch(b"k"); ev = w.next(timeout=1.0)   # None: nothing within 1 s

    The stream is resumed by itself when it ends for a reason that is not the watch's (a
    leader change, a server shutting down, a server that dropped it for falling
    behind): from the revision after the last one delivered, so no event is lost or
    repeated; ``stats()["resumes"]`` counts those. The watch ends for good on
    ``close()`` (iteration then stops) or with an exception: ``CompactedError`` (the
    history it needs is gone), ``tinykv.IOError`` (a refused TLS handshake), ...
    Iteration releases the GIL while it waits and can be interrupted with Ctrl-C;
    ``close()`` may be called from any thread (a thread iterating stops).
    """

    def __init__(self, core: Any, timeout: float | None = None):
        self._w = core
        self._timeout = timeout
        self._pending: collections.deque[WatchEvent] = collections.deque()
        self._closed = False

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[WatchEvent]:
        return self

    def __next__(self) -> WatchEvent:
        ev = self.next(self._timeout)
        if ev is None:
            raise StopIteration
        return ev

    def next(self, timeout: float | None = None) -> WatchEvent | None:
        """The next event; None when none came within ``timeout`` seconds (None: waits
        until one comes) or the watch was closed."""
        if self._pending:
            return self._pending.popleft()
        if self._closed:
            return None
        try:
            batch = self._w.next(timeout)
        except CancelledError:
            if self._closed:
                return None
            raise
        if batch is None:
            return None
        kind, revision, events = batch
        if kind == "PROGRESS":
            return WatchEvent("PROGRESS", None, None, None, revision)
        self._pending.extend(WatchEvent(*e) for e in events)
        return self._pending.popleft()

    def request_progress(self) -> None:
        """Asks the server for a ``"PROGRESS"`` event (etcd's ``RequestProgress``), whether
        or not ``progress_notify`` is on: it comes in order with the events, and its
        revision covers every write acknowledged before this call. Raises
        ``tinykv.UnavailableError`` while the stream is being resumed (ask again)."""
        self._w.request_progress()

    def close(self) -> None:
        """Stops the watch (the server forgets it). Idempotent; any thread."""
        self._closed = True
        self._w.cancel()

    @property
    def revision(self) -> int:
        """The revision the watch has reached: every matching event at or below it was
        delivered (or is about to be: the events of the batch being iterated)."""
        return max(0, self._w.next_revision - 1)

    def stats(self) -> dict[str, Any]:
        """``{streams, resumes, last_resume_error, next_revision}``: streams opened,
        how many ended and were resumed, why the last one ended, where a resume starts."""
        return self._w.stats()


class EmbeddedCluster:
    """n real Raft members in this process (a ``KvNode`` and the client service each),
    serving the client protocol on 127.0.0.1 with OS-assigned ports, data under
    ``data_dir/n<i>``. Members are numbered 1..n.

        with EmbeddedCluster(3, tmp_path) as ec, ec.client() as cl:
            cl.put(b"k", b"v")
            ec.kill(ec.leader())          # the client carries on with the others

    ``kill(i)`` stops member i (in-process there is no SIGKILL: its files stay, its
    client port stays reserved); ``restart(i)`` starts it again from disk on the same
    client port; ``partition``/``heal`` drop Raft traffic between groups (client
    traffic is never dropped). ``tick_ms``/``election_ticks`` set Raft's timing;
    ``sync=False`` skips fsync (faster, for demos); ``wait``: seconds to wait for a
    leader before returning (0: do not wait).
    """

    def __init__(self, n: int = 3, data_dir: str | os.PathLike[str] | None = None, *,
                 tick_ms: int = 20, election_ticks: int = 10, sync: bool = True,
                 snapshot_threshold: int = 10000, wait: float = 10.0):
        if data_dir is None:
            raise ValueError("EmbeddedCluster needs a data_dir")
        self._c = _c.EmbeddedCluster(n, os.fspath(data_dir), tick_ms, election_ticks, sync,
                                     snapshot_threshold)
        if wait:
            self._c.wait_for_leader(wait)

    def __enter__(self) -> "EmbeddedCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoints(self) -> list[str]:
        """The client endpoints, member 1 first; stable across restarts."""
        return self._c.endpoints

    def endpoint(self, i: int) -> str:
        """Member i's client endpoint "127.0.0.1:port"."""
        return self._c.endpoint(i)

    def leader(self, timeout: float | None = None) -> int | None:
        """The id of the leader (highest term among running members), waiting up to
        ``timeout`` seconds for one (default: answer at once); None if there is none."""
        if not timeout:
            return self._c.leader()
        try:
            return self._c.wait_for_leader(timeout)
        except TimeoutError:
            return None

    def wait_leader(self, timeout: float = 10.0) -> int:
        """The id of the leader, waiting up to ``timeout`` seconds; raises
        ``TimeoutError`` if none is elected by then."""
        return self._c.wait_for_leader(timeout)

    def running(self) -> list[int]:
        """The ids of the members that run."""
        return self._c.running()

    def client(self, **kw: Any) -> Client:
        """A ``Client`` over every endpoint (keywords go to ``Client``); close it (or use
        it as a context manager) when done."""
        return Client(self.endpoints, **kw)

    def stop_node(self, i: int) -> None:
        """Stops member i: its client server and Raft node shut down, its files stay."""
        self._c.stop_node(i)

    def start_node(self, i: int) -> None:
        """Starts member i again from its files, on the same client port."""
        self._c.start_node(i)

    def kill(self, i: int) -> None:
        """Stops member i (the in-process stand-in for a crash; see the class doc)."""
        self.stop_node(i)

    def restart(self, i: int) -> None:
        """Stops member i if it runs, then starts it again on the same client port."""
        if i in self.running():
            self.stop_node(i)
        self.start_node(i)

    def add_node(self, i: int) -> None:
        """Starts a new member i with no configuration (it waits for the leader). Add it
        with ``Client.member_add(i, ec.peer_address(i), ec.endpoint(i), learner=True)``."""
        self._c.add_node(i)

    def peer_address(self, i: int) -> str:
        """Member i's current peer (Raft) address."""
        return self._c.peer_address(i)

    def partition(self, groups: Iterable[Iterable[int]]) -> None:
        """Only members in the same group exchange Raft traffic; unlisted members are
        alone. Replaces any earlier partition."""
        self._c.partition([list(g) for g in groups])

    def heal(self) -> None:
        """Removes the partition."""
        self._c.heal()

    def compact(self, revision: int, *, timeout: float = 5.0) -> None:
        """Compacts the history at ``revision`` on the leader directly (what
        ``Client.compact`` asks the leader for): reads below it and a watch from
        ``revision`` or below then raise ``CompactedError``."""
        self._c.compact(revision, timeout)

    def stop(self) -> None:
        """Stops every member. Idempotent."""
        self._c.close()

    def close(self) -> None:
        """Same as ``stop()``."""
        self.stop()


def __getattr__(name: str) -> Any:
    if name == "LocalCluster":
        raise AttributeError(
            "tinykv.client.LocalCluster is now tinykv.client.EmbeddedCluster (members that "
            "serve the client protocol); tinykv.raft.LocalCluster drives KvNodes directly")
    raise AttributeError(f"module 'tinykv.client' has no attribute {name!r}")
