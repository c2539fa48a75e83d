"""Phase 5: distributed locks, as etcd's concurrency package has them
(phase5_client/include/tinykv/client/concurrency.h).

    with cl.lock(b"jobs/reindex", ttl=10) as lk:   # blocks until held
        store(data, fencing_token=lk.revision)      # lk.key: b"jobs/reindex/<lease hex>"

Each lock has a session of its own: a lease of ``ttl`` seconds, kept alive from a C++
thread while the lock object lives. The holder is the contender whose key under
``name + b"/"`` has the lowest create revision; ``revision`` is that create revision,
which strictly increases from one holder to the next (the fencing token). A process that
dies while holding keeps the lock until its lease expires, ``ttl`` seconds after its last
renewal. Leaving the ``with`` block unlocks and revokes the session's lease.
"""

from __future__ import annotations

from tinykv._core import client as _c

__all__ = ["Lock"]


class Lock:
    """A lock on ``name`` (``Client.lock`` makes one). ``acquire(timeout=None)`` blocks
    until held (``TimeoutError`` after ``timeout`` seconds, leaving no key behind; Ctrl-C
    interrupts the wait) and returns the fencing revision; ``release()`` unlocks;
    ``close()`` revokes the session's lease. As a context manager: acquire on entry,
    release and close on exit."""

    def __init__(self, handle: "_c.Lock", timeout: float | None = None):
        self._h = handle
        self._timeout = timeout

    @property
    def key(self) -> bytes:
        """This session's key under the lock's name."""
        return self._h.key

    @property
    def revision(self) -> int:
        """While held: the key's create revision, the fencing token; 0 otherwise."""
        return self._h.revision

    @property
    def lease(self) -> int:
        """The session's lease id."""
        return self._h.lease

    def acquire(self, timeout: float | None = None) -> int:
        """Blocks until held; returns the fencing revision."""
        return self._h.acquire(timeout)

    def release(self) -> None:
        """Unlocks: the next contender takes the lock."""
        self._h.release()

    def close(self) -> None:
        """Revokes the session's lease (a held lock goes with it)."""
        self._h.close()

    def __enter__(self) -> "Lock":
        self.acquire(self._timeout)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.release()
        finally:
            self.close()

    def __repr__(self) -> str:
        return f"Lock(key={self.key!r}, revision={self.revision})"
