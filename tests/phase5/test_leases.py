"""Leases (tinykv.lease) on a real 3-node cluster of tinykv-server processes
(tinykv.testing.Cluster): a key put with a lease disappears once the TTL passes, a
keep-alive keeps it, a revoke deletes every attached key at one revision, a leader kill
does not make a live lease expire early; and ``tinykv lease`` / ``put --lease`` through
the shipped CLI.

Time: the cluster runs on the wall clock, so the bounds are real seconds -- every wait
is on a condition, with a generous bound for a loaded 2-core machine; what must *not*
happen early is checked against the earliest moment it may happen."""

import re
import signal
import subprocess
import time

import pytest

import tinykv
from tinykv import testing
from tinykv.testing import find_cli_binary
from tinykv.lease import LEASE_NOT_FOUND

# Expiry waits: the TTL plus this much (an election, a loaded machine).
HEADROOM = 20.0


@pytest.fixture
def cl(cluster):
    """conftest.py's client, on an empty key space (the lease tests count keys)."""
    c = cluster.client(timeout=10.0)
    c.delete_range(b"", b"")
    return c


def test_a_ttl_key_disappears_after_expiry(cl):
    start = time.monotonic()
    lease = cl.lease_grant(2)
    assert lease.id > 0 and lease.ttl == 2
    cl.put(b"ttl/a", b"1", lease=lease)
    cl.put(b"ttl/b", b"2", lease=lease.id)
    cl.put(b"ttl/plain", b"p")
    assert cl.get(b"ttl/a") == b"1"
    testing.wait_until(lambda: cl.get(b"ttl/a") is None and cl.get(b"ttl/b") is None,
                       timeout=2 + HEADROOM, what="the leased keys to expire")
    # Not before the TTL: the deadline starts once the grant applied, after `start`.
    assert time.monotonic() - start >= 2.0
    assert cl.get(b"ttl/plain") == b"p"
    assert lease.id not in cl.leases()
    with pytest.raises(tinykv.NotFoundError):
        lease.keep_alive()


def test_keep_alive_keeps_the_key(cl):
    lease = cl.lease_grant(2)
    cl.put(b"ka/k", b"v", lease=lease)
    start = time.monotonic()
    with lease.keep_alive_forever() as ka:
        # Three TTLs with the key there at every look (renewed every ~0.67 s).
        def held_three_ttls():
            assert cl.get(b"ka/k") == b"v", "expired while kept alive"
            return time.monotonic() - start > 6.0
        testing.wait_until(held_three_ttls, timeout=6.0 + HEADROOM, what="three TTLs",
                           interval=0.2)
        ka.check()
        assert ka.renewals >= 4
    # Stopped: it expires.
    testing.wait_until(lambda: cl.get(b"ka/k") is None, timeout=2 + HEADROOM,
                       what="the key to expire once no longer kept alive")


def test_one_renewal_restarts_the_ttl(cl):
    lease = cl.lease_grant(30)
    assert lease.keep_alive() == 30
    t = lease.time_to_live()
    assert t.granted_ttl == 30 and 25 <= t.ttl <= 30


def test_revoke_deletes_every_attached_key_at_one_revision(cl):
    lease = cl.lease_grant(60)
    keys = [b"rv/%d" % i for i in range(5)]
    for k in keys:
        cl.put(k, b"v" + k, lease=lease)
    cl.put(b"rv/plain", b"p")
    t = lease.time_to_live(keys=True)
    assert t.keys == sorted(keys)
    assert t.granted_ttl == 60 and 0 < t.ttl <= 60
    assert lease.id in cl.leases()
    rev = lease.revoke()
    for k in keys:
        assert cl.get(k, revision=rev - 1) == b"v" + k
        assert cl.get(k, revision=rev) is None
        assert cl.get(k) is None
    assert cl.get(b"rv/plain") == b"p"
    assert lease.id not in cl.leases()
    with pytest.raises(tinykv.NotFoundError):
        lease.time_to_live()


def test_a_put_detaches_and_a_missing_lease_is_refused(cl):
    lease = cl.lease_grant(60)
    cl.put(b"dt/k", b"leased", lease=lease)
    cl.put(b"dt/k", b"plain")  # no lease: detached
    assert lease.time_to_live(keys=True).keys == []
    lease.revoke()
    assert cl.get(b"dt/k") == b"plain"
    with pytest.raises(tinykv.NotFoundError) as e:
        cl.put(b"dt/new", b"v", lease=lease)
    assert LEASE_NOT_FOUND in str(e.value)
    assert cl.get(b"dt/new") is None
    with pytest.raises(tinykv.AlreadyExistsError):
        cl.lease_grant(10, id=cl.lease_grant(10).id)


def test_a_leader_kill_does_not_expire_a_live_lease_early(cluster, cl):
    ttl = 3
    lease = cl.lease_grant(ttl)
    cl.put(b"lk/k", b"v", lease=lease)
    lease.keep_alive()
    renewed = time.monotonic()  # the deadline is at least renewed + ttl from here on
    old = cluster.leader()
    cluster.kill(old)
    try:
        # Every successful read before renewed + ttl sees the key: the new leader
        # gives the lease its TTL and an election timeout from its promotion.
        def seen_until_the_deadline():
            value = cl.get(b"lk/k")
            if time.monotonic() < renewed + ttl - 0.1:
                assert value == b"v", "the lease expired early after the leader change"
                return False
            return True
        testing.wait_until(seen_until_the_deadline, timeout=ttl + HEADROOM,
                           what="the lease's deadline", interval=0.1)
        assert cluster.leader(exclude=[old]) != old
        # It does expire, on the new leader.
        testing.wait_until(lambda: cl.get(b"lk/k") is None, timeout=ttl + HEADROOM,
                           what="the new leader to expire the lease")
    finally:
        cluster.restart(old)
        cluster.wait_leader()




def test_the_cli_grants_attaches_and_revokes(cluster, cl):
    exe = find_cli_binary()

    def run(*args):
        return subprocess.run([exe, "--endpoints", ",".join(cluster.endpoints),
                               "--command-timeout", "20s", *args],
                              capture_output=True, text=True, timeout=60)

    r = run("lease", "grant", "60")
    assert r.returncode == 0, r.stderr
    m = re.fullmatch(r"lease ([0-9a-f]+) granted with TTL\(60s\)\n", r.stdout)
    assert m, r.stdout
    lease_hex = m.group(1)
    assert int(lease_hex, 16) in cl.leases()
    assert run("put", "cli/k", "v", "--lease", lease_hex).returncode == 0
    r = run("lease", "timetolive", lease_hex, "--keys")
    assert r.returncode == 0 and "attached keys([cli/k])" in r.stdout, r.stdout + r.stderr
    r = run("lease", "keep-alive", lease_hex, "--once")
    assert r.stdout == f"lease {lease_hex} keepalived with TTL(60)\n", r.stderr
    r = run("lease", "list")
    assert lease_hex in r.stdout.split()
    r = run("lease", "revoke", lease_hex)
    assert r.stdout == f"lease {lease_hex} revoked\n", r.stderr
    assert cl.get(b"cli/k") is None
    r = run("lease", "revoke", "not-hex")
    assert r.returncode == 2 and "expecting ID in Hex" in r.stderr


def test_cli_keep_alive_runs_until_interrupted(cluster, cl):
    exe = find_cli_binary()
    lease = cl.lease_grant(3)
    p = subprocess.Popen([exe, "--endpoints", ",".join(cluster.endpoints), "lease",
                          "keep-alive", format(lease.id, "x")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        assert first == f"lease {lease.id:x} keepalived with TTL(3)\n", first
        second = p.stdout.readline()  # the next renewal, ~1 s later
        assert second == first
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert out.endswith("keep-alive ended\n"), out
    finally:
        if p.poll() is None:
            p.kill()
