"""Phase 5: leases, as etcd has them (phase5_client/doc/protocol.md "Leases").

A lease is an id with a TTL in seconds. A key put with a lease is attached to it; when
the lease is revoked -- by ``revoke()``, or by the cluster's leader once the TTL passes
without a renewal -- every attached key is deleted at one revision. The leader owns
expiry; a leader change never shortens a lease (the new leader gives every lease its
TTL plus an election timeout).

    lease = cl.lease_grant(10)              # a Lease: .id (int), .ttl (seconds)
    cl.put(b"service/a", b"addr", lease=lease)    # or lease=lease.id
    lease.keep_alive()                      # one renewal: the TTL starts again
    with lease.keep_alive_forever():        # renewed every ttl/3 in the background
        ...                                 # the key lives while the block runs
    lease.time_to_live(keys=True)           # LeaseTimeToLive(id, granted_ttl, ttl, keys)
    rev = lease.revoke()                    # the keys are gone at revision rev
    cl.leases()                             # [id, ...]

A lease that does not exist raises ``NotFoundError("etcdserver: requested lease not
found")`` -- from ``cl.put(..., lease=...)`` too, which then writes nothing.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from tinykv._core import client as _c

__all__ = ["Lease", "LeaseKeepAlive", "LeaseTimeToLive", "LEASE_NOT_FOUND"]

LEASE_NOT_FOUND = "etcdserver: requested lease not found"
"""The message of the ``NotFoundError`` for a lease that does not exist (etcd's)."""


class LeaseTimeToLive(NamedTuple):
    """``Lease.time_to_live()``: the granted TTL and the whole seconds left before the
    leader revokes the lease; ``keys`` (attached, in key order) when asked for."""

    id: int
    granted_ttl: int
    ttl: int
    keys: list[bytes]


class Lease:
    """A lease of a cluster (``Client.lease_grant`` makes one; ``Client.lease(id)``
    names an existing one). ``id`` is the lease's id (etcdctl prints it in hex:
    ``format(lease.id, "x")``), ``ttl`` the TTL it was granted with, in seconds."""

    def __init__(self, client: "_c.Client", id: int, ttl: int):  # noqa: A002
        self._c = client
        self.id = id
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"Lease(id=0x{self.id:x}, ttl={self.ttl})"

    def __int__(self) -> int:
        return self.id

    def keep_alive(self, *, timeout: float | None = None) -> int:
        """One renewal: the lease's deadline becomes now + its TTL. Returns the TTL.
        ``NotFoundError`` once the lease was revoked or expired."""
        return self._c.lease_keep_alive(self.id, timeout)

    def keep_alive_forever(self) -> "LeaseKeepAlive":
        """Renews the lease every ttl/3 from a background thread until ``stop()`` --
        best used as a context manager, which stops it when the block ends::

            with lease.keep_alive_forever() as ka:
                ...            # ka.renewals counts them; ka.check() raises a failure

        Renews once at once (``NotFoundError`` for a lease that is gone)."""
        return LeaseKeepAlive(self._c.lease_keeper(self.id))

    def revoke(self, *, timeout: float | None = None) -> int:
        """Revokes the lease: every attached key is deleted at one revision, returned
        (a read at ``revision - 1`` still sees them all)."""
        revision, _deleted = self._c.lease_revoke(self.id, timeout)
        return revision

    def time_to_live(self, keys: bool = False, *,
                     timeout: float | None = None) -> LeaseTimeToLive:
        """The granted and remaining TTL (and the attached keys with ``keys=True``)."""
        id_, granted, ttl, ks = self._c.lease_time_to_live(self.id, keys, timeout)
        return LeaseTimeToLive(id_, granted, ttl, list(ks))


class LeaseKeepAlive:
    """A background renewal of one lease (``Lease.keep_alive_forever()``): every ttl/3,
    from a C++ thread, so two lost renewals in a row still leave the lease alive. A
    renewal that finds the lease gone (revoked, expired) ends it; ``check()`` raises
    that error. ``stop()`` (or leaving the ``with`` block) ends the renewals; the lease
    then expires at its TTL unless revoked."""

    def __init__(self, keeper: "_c.LeaseKeeper"):
        self._k = keeper
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def renewals(self) -> int:
        """Renewals that succeeded so far (the first, at start, included)."""
        return self._k.renewals

    def check(self) -> None:
        """Raises the error of the last renewal if it failed (``NotFoundError``: the
        lease is gone and the renewals stopped)."""
        self._k.check()

    def stop(self) -> None:
        """Ends the renewals (idempotent)."""
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._k.stop()

    def __enter__(self) -> "LeaseKeepAlive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
