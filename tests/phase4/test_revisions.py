"""Revisions on a real 3-node cluster: every write answers with its revision, a read at a
past revision sees the key exactly as it was then (whether the write was a plain put, a
delete or a transaction), a revision in the future is refused, and a scan longer than one
page is a single snapshot while another client rewrites every key under it."""

import threading
import time

import pytest

import tinykv


def test_get_at_each_revision_returns_that_version(cl, ns):
    k = ns + b"k"
    before = cl.timestamp()
    r1 = cl.put(k, b"v1")
    r2 = cl.put(k, b"v2")
    with cl.txn() as t:
        t.put(k, b"v3")
    # The context manager committed; the commit timestamp of an explicit commit is the
    # revision as well.
    t4 = cl.txn()
    t4.put(k, b"v4")
    r4 = t4.commit()
    cl.delete(k)
    assert before < r1 < r2 < r4
    assert cl.get(k) is None
    assert cl.get(k, revision=before) is None
    assert cl.get(k, revision=r1) == b"v1"
    assert cl.get(k, revision=r2) == b"v2"
    assert cl.get(k, revision=r2 + 1) == b"v2"  # between two writes: the older one
    assert cl.get(k, revision=r4) == b"v4"
    assert cl.get(k, revision=r4 - 1) == b"v3"  # the context manager's transaction
    # get_with_revision names the read point, and reads at it again see the same.
    value, at = cl.get_with_revision(k, revision=r2)
    assert (value, at) == (b"v2", r2)
    value, now = cl.get_with_revision(k)
    assert value is None and now > r4
    assert cl.scan(ns, tinykv.client.prefix_end(ns), revision=r1) == [(k, b"v1")]
    assert cl.scan_prefix(ns, revision=r4) == [(k, b"v4")]


def test_a_revision_in_the_future_is_refused(cl, ns):
    k = ns + b"k"
    cl.put(k, b"v")
    future = cl.timestamp() + (60_000 << 18)  # a minute ahead (hybrid ts: ms << 18)
    with pytest.raises(tinykv.InvalidArgumentError, match="future"):
        cl.get(k, revision=future)
    with pytest.raises(tinykv.InvalidArgumentError, match="future"):
        cl.scan_prefix(ns, revision=future)
    assert cl.get(k) == b"v"  # nothing was harmed


def test_scan_is_one_snapshot_across_pages(cl, cluster, ns):
    """2,500 keys (three pages of at most 1,000) rewritten generation after generation by
    another client, each generation one transaction; every scan returns all keys from
    one generation. A scan overlapped a rewrite when it returned generation g although
    g + 1 had committed before the scan ended: g + 1 committed after the scan's read
    point, while it was paging. Reading each page at its own fresh read point instead
    of the first page's would then return generation g + 1 for the later pages."""
    n = 2500
    keys = [ns + b"%05d" % i for i in range(n)]
    end = tinykv.client.prefix_end(ns)
    with cl.txn(timeout=30.0) as t:
        for k in keys:
            t.put(k, b"0")
    writer_cl = cluster.client(timeout=30.0)
    stop = threading.Event()
    commits: list[tuple[float, int]] = []  # (time.monotonic() after the commit, generation)
    errors: list[BaseException] = []

    def rewrite():
        g = 0
        try:
            while not stop.is_set():
                g += 1
                with writer_cl.txn(timeout=30.0) as w:
                    for k in keys:
                        w.put(k, b"%d" % g)
                commits.append((time.monotonic(), g))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    overlapped = scans = 0
    deadline = time.monotonic() + 60
    try:
        while overlapped < 3 and time.monotonic() < deadline and not errors:
            pairs = cl.scan(ns, end)
            finished = time.monotonic()
            scans += 1
            assert [k for k, _ in pairs] == keys
            generations = {int(v) for _, v in pairs}
            assert len(generations) == 1, f"scan {scans} mixed generations {sorted(generations)}"
            g = generations.pop()
            if any(at < finished and later > g for at, later in list(commits)):
                overlapped += 1
    finally:
        stop.set()
        writer.join(60)
    assert not errors, errors
    assert overlapped >= 3, f"only {overlapped} of {scans} scans overlapped a rewrite"
