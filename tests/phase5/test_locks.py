"""Distributed locks from Python (``cl.lock``, python/tinykv/lock.py over concurrency.h's
Mutex) on a real 3-node cluster: one holder at a time, a release waking the waiter, a
timed-out waiter leaving no key, the fencing revision increasing from holder to holder."""

import threading

import pytest

import tinykv
from tinykv import testing
from tinykv.client import prefix_end


def queue(cl, name: bytes) -> list[bytes]:
    return [kv[0] for kv in cl.scan(name + b"/", prefix_end(name + b"/"))]


def test_one_holder_at_a_time_and_release_wakes_the_waiter(cl, cluster):
    other = cluster.client(timeout=10.0)
    first = cl.lock(b"py-lock", ttl=10)
    second = other.lock(b"py-lock", ttl=10)
    got: list[int] = []
    with first:
        assert first.key.startswith(b"py-lock/")
        assert first.revision > 0
        assert queue(cl, b"py-lock") == [first.key]
        with pytest.raises(tinykv.TimeoutError):
            second.acquire(timeout=0.3)
        assert queue(cl, b"py-lock") == [first.key]  # the waiter that gave up left no key
        waiter = threading.Thread(target=lambda: got.append(second.acquire()))
        waiter.start()
        testing.wait_until(lambda: len(queue(cl, b"py-lock")) == 2, timeout=30,
                           what="the second contender queued")
        assert not got  # still held by the first
        held = first.revision
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert got and got[0] > held, (got, held)
    assert queue(cl, b"py-lock") == [second.key]
    second.release()
    second.close()
    assert queue(cl, b"py-lock") == []
