"""Seeing a transaction's lock from outside, for the tests that stop a writer between
its prewrite and its commit."""

import tinykv
from tinykv import testing


def wait_until_locked(probe: "tinykv.Client", key: bytes, timeout: float = 20.0) -> None:
    """Returns once a live transaction lock is on ``key``. A read of a locked key waits
    for the lock's transaction (client.h "Locks") and so times out (0.2 s here, well
    inside the TTLs these tests use), where a read of an unlocked key answers at once.
    The probe leaves a live lock alone: only a lock past its TTL is rolled back."""
    testing.wait_until(lambda: _read_times_out(probe, key), timeout=timeout,
                       what=f"a transaction's lock on {key!r}")


def _read_times_out(probe: "tinykv.Client", key: bytes) -> bool:
    try:
        probe.get(key, timeout=0.2)
    except tinykv.TimeoutError:
        return True
    return False
