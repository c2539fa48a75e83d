"""TinyKV's exception hierarchy: errors are values in C++ (Status), exceptions here.

Every error raised by TinyKV is a ``tinykv.Error``. The C++ core reports a
``Status`` code; ``common/bindings/status_py.cc`` maps each code to one class
here. Where a built-in exception means the same thing, the class also derives
from it, so ``except TimeoutError`` catches ``tinykv.TimeoutError`` too.
"""

import builtins

__all__ = [
    "Error", "NotFoundError", "CorruptionError", "NotSupportedError", "InvalidArgumentError",
    "IOError", "NotLeaderError", "TimeoutError", "AbortedError", "UnavailableError",
    "CancelledError", "BusyError", "AlreadyExistsError", "TxnConflictError",
    "ResourceExhaustedError", "CompactedError",
]


class Error(Exception):
    """Base class of every TinyKV error."""


class NotFoundError(Error, KeyError):
    """The named thing (a file, a member, a key where one is required) does not exist."""

    def __str__(self):  # KeyError quotes its argument; we want the message as is.
        return Exception.__str__(self)


class CorruptionError(Error):
    """Stored or received bytes failed a checksum or do not parse; the message names the
    file (or peer) and offset."""


class NotSupportedError(Error, NotImplementedError):
    """The operation is not supported by this build or configuration."""


class InvalidArgumentError(Error, ValueError):
    """An argument or option is not acceptable."""


class IOError(Error, builtins.OSError):  # noqa: A001 - the name RocksDB users expect
    """The operating system refused a read, write or fsync."""


class CompactedError(InvalidArgumentError):
    """A read or a watch asked for history that compaction removed (etcd's
    ``ErrCompacted``). ``compact_revision`` is the compacted revision: a read can be made
    at it or later, a watch can start at ``compact_revision + 1`` at the earliest. Also
    raised by ``Client.compact`` for a revision compacted already."""

    compact_revision: int = 0


class NotLeaderError(Error):
    """This node is not the Raft leader. ``leader`` is the id of the node believed to be
    leader, or None when unknown; ``leader_address`` its address ("host:port", or None);
    ``group`` the Raft group that answered. They come from the error's typed routing
    fields (``routing``, a dict set by the C++ side), never from the message."""

    routing: dict = {}

    @property
    def leader(self) -> "int | None":
        """The id of the node believed to be leader, or None when unknown."""
        return self.routing.get("leader") or None

    @property
    def leader_address(self) -> "str | None":
        """The leader's address ("host:port"), or None when unknown."""
        return self.routing.get("leader_address") or None

    @property
    def group(self) -> "int | None":
        """The Raft group that answered, or None when unknown."""
        return self.routing.get("group") or None


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001
    """A deadline passed before the operation completed."""


class AbortedError(Error):
    """The operation was abandoned (for example a proposal dropped by a leader change)."""


class UnavailableError(Error, builtins.ConnectionError):
    """A peer or service cannot be reached right now; retrying may succeed."""


class CancelledError(Error):
    """The operation was cancelled, or the component shut down."""


class BusyError(Error):
    """Temporarily refused under load (a write stall, a full queue)."""


class AlreadyExistsError(Error):
    """The thing to be created already exists."""


class TxnConflictError(Error):
    """A transaction lost a write conflict; retry it from the start."""


class ResourceExhaustedError(Error):
    """A hard limit was hit (frame size, uncommitted bytes, disk space)."""
