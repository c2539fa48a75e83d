"""tinykv.storage: the phase-1 LSM-tree storage engine, driven from Python.

The surface is a contract (tests are written against it)::

    from tinykv import storage
    with storage.DB.open(path, create_if_missing=True, write_buffer_size=1 << 20) as db:
        db.put(b"k", b"v", sync=False)
        db.get(b"k")                      # -> b"v", or None when absent
        db.delete(b"k")
        b = storage.WriteBatch(); b.put(b"a", b"1"); b.delete(b"k")
        db.write(b, sync=True)            # atomic: all or nothing
        for key, value in db.scan(start=b"a", end=b"z"):   # [start, end)
            ...
        with db.snapshot() as s:          # a consistent read point
            db.get(b"a", snapshot=s)
        db.flush(); db.compact_range(); db.stats()   # -> {"num-files-at-level0": ..., ...}

Keys and values are bytes-like or str (``tinykv.common.BytesLike``: bytes, bytearray,
memoryview, or str encoded as UTF-8; anything else is a ``TypeError``) and may hold any byte,
``\\x00`` and ``\\xff`` included; reads return ``bytes``. ``scan(start, end=None)``: an
open end is None; ``end=b""`` means the same (no key sorts below b"").
Durability: ``sync=False`` survives a crash of the process; ``sync=True`` survives power
loss. Every call releases the GIL while the engine works, so threads write in parallel.
Errors are ``tinykv.Error`` subclasses: a failed checksum raises ``CorruptionError``
naming the file; using a DB after ``close()`` raises ``InvalidArgumentError``.

``DB.open`` keyword options map onto the C++ ``Options`` fields (see
phase1_storage/include/tinykv/storage/options.h for their meaning and defaults).
"""

from tinykv._core import storage as _s

DB = _s.DB
WriteBatch = _s.WriteBatch
Snapshot = _s.Snapshot
ScanIterator = _s.ScanIterator
destroy = _s.destroy

__all__ = ["DB", "WriteBatch", "Snapshot", "ScanIterator", "destroy"]
