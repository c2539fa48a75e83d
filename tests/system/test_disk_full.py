"""A full disk raises the NOSPACE alarm, as etcd does: writes fail with a clear error,
reads are served, the alarm shows in `tinykv alarm list`, and it holds after space is
freed until `tinykv alarm disarm` -- then the same processes take writes again, without a
restart and without losing an acknowledged write.

The three nodes' data directories share one small tmpfs (mounted by the test: it needs
root; skipped with the reason otherwise). A filler file takes the free space; the next
write a replica persists fails with ENOSPC, and it raises the alarm and stops
acknowledging (phase3_raft/include/tinykv/replica/replica.h, "Failing safe"); the disarm
probes each member's disk and reopens its log and state in place.
"""

import os
import subprocess
import time

import pytest

import tinykv
from tinykv import testing

from test_cli import cli_binary  # noqa: E402 - same folder (rootdir conftest puts it on path)

TMPFS_MIB = 96
RECOVERY_BOUND_S = 30.0  # after the disarm: an election and a write, on a loaded machine


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MIB}m", "tinykv-test", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(path, chunk=1 << 20):
    """Writes `path` until the file system is full; returns the bytes written."""
    written = 0
    block = b"\0" * chunk
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(block)
            except OSError:
                if chunk == 4096:
                    return written
                chunk = 4096
                block = b"\0" * chunk
    return written


def alarm(endpoints, *args):
    cmd = [cli_binary(), "--endpoints", ",".join(endpoints), "--command-timeout", "10s",
           "alarm", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def alarmed_members(endpoints):
    p = alarm(endpoints, "list")
    assert p.returncode == 0, p.stderr
    return {line for line in p.stdout.splitlines() if line}


def test_full_disk_raises_nospace_until_disarmed_and_loses_nothing(system_ready, small_tmpfs):
    with testing.Cluster(n=3, data_dir=small_tmpfs / "cluster") as c:
        cl = c.client(timeout=5.0)
        acked = {}
        for i in range(200):
            k, v = b"k%03d" % i, b"v%03d" % i * 10
            cl.put(k, v)
            acked[k] = v
        pids = {i: n.proc.pid for i, n in c.nodes.items()}
        assert alarmed_members(c.endpoints) == set()
        filler = small_tmpfs / "filler"
        fill(filler)
        # Writes fail, naming the alarm; none is acknowledged.
        for i in range(5):
            with pytest.raises(tinykv.Error) as ei:
                cl.put(b"during%d" % i, b"x" * 4096, timeout=3.0)
            assert "nospace" in str(ei.value).lower(), str(ei.value)
        # A member raises the alarm as soon as it must persist something (a follower
        # that never wins a pre-vote persists nothing); two are enough to stop writes.
        testing.wait_until(lambda: len(alarmed_members(c.endpoints)) >= 2, timeout=30.0,
                           what="the NOSPACE alarm on two members")
        raised = alarmed_members(c.endpoints)
        assert all(a.endswith(" alarm:NOSPACE") and a.startswith("memberID:") for a in raised), raised
        # Reads are served (from each node's own state: no node can lead while every
        # disk is full, so a linearizable read has no leader to confirm it).
        for ep in c.endpoints:
            with tinykv.Client([ep], timeout=5.0) as one:
                for k in (b"k000", b"k123", b"k199"):
                    assert one.get(k, serializable=True) == acked[k], ep
        # A disarm while the disk is still full is refused and the alarm stays.
        p = alarm(c.endpoints, "disarm")
        assert p.returncode != 0 and "still has no room" in p.stderr, (p.returncode, p.stderr)
        assert alarmed_members(c.endpoints) == raised
        # Space returns, but the alarm holds: a write is still refused.
        filler.unlink()
        with pytest.raises(tinykv.Error) as ei:
            cl.put(b"before-disarm", b"x", timeout=3.0)
        assert "nospace" in str(ei.value).lower(), str(ei.value)
        assert alarmed_members(c.endpoints) == raised
        # The disarm prints what it disarmed; the same processes take writes again.
        p = alarm(c.endpoints, "disarm")
        assert p.returncode == 0, p.stderr
        assert set(p.stdout.splitlines()) == raised
        assert alarmed_members(c.endpoints) == set()
        start = time.monotonic()

        def writes_again():
            try:
                cl.put(b"after", b"1", timeout=2.0)
                return True
            except tinykv.Error:
                return False
        testing.wait_until(writes_again, timeout=RECOVERY_BOUND_S,
                           what="a write after the disarm")
        print(f"writes resumed {time.monotonic() - start:.1f}s after the disarm")
        for i, n in c.nodes.items():
            assert n.proc.poll() is None and n.proc.pid == pids[i], f"node {i} restarted or died"
        for k, v in acked.items():
            assert cl.get(k) == v
        assert cl.get(b"after") == b"1"
        st = {i: c.status(i) for i in c.nodes}
        assert all(not s.get("error") for s in st.values()), st
