"""A full disk: writes fail with a clear error, reads are served, and the cluster takes
writes again once space frees -- without a restart, and without losing an acknowledged
write.

The three nodes' data directories share one small tmpfs (mounted by the test: it needs
root; skipped with the reason otherwise). A filler file takes the free space; the next
write the leader persists fails with ENOSPC, the replica stops acknowledging and probes
the disk with backoff (phase3_raft/include/tinykv/replica/replica.h, "Failing safe");
when the filler is removed every replica reopens its log and state in place.
"""

import os
import subprocess
import time

import pytest

import tinykv
from tinykv import testing

TMPFS_MIB = 96
RECOVERY_BOUND_S = 30.0  # after the filler goes: the probe backs off to 2 s, then an election


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


def test_full_disk_refuses_writes_serves_reads_and_recovers_without_a_restart(system_ready,
                                                                              small_tmpfs):
    with testing.Cluster(n=3, data_dir=small_tmpfs / "cluster") as c:
        cl = c.client(timeout=5.0)
        acked = {}
        for i in range(200):
            k, v = b"k%03d" % i, b"v%03d" % i * 10
            cl.put(k, v)
            acked[k] = v
        pids = {i: n.proc.pid for i, n in c.nodes.items()}
        filler = small_tmpfs / "filler"
        fill(filler)
        # Writes fail, naming the cause; none is acknowledged.
        refused = 0
        for i in range(5):
            with pytest.raises(tinykv.Error) as ei:
                cl.put(b"during%d" % i, b"x" * 4096, timeout=3.0)
            assert "no space left" in str(ei.value).lower(), str(ei.value)
            refused += 1
        # Reads are served (from each node's own state: no node can lead while every
        # disk is full, so a linearizable read has no leader to confirm it).
        for ep in c.endpoints:
            with tinykv.Client([ep], timeout=5.0) as one:
                for k in (b"k000", b"k123", b"k199"):
                    assert one.get(k, serializable=True) == acked[k], ep
        # Space returns: the same processes take writes again.
        filler.unlink()
        start = time.monotonic()

        def writes_again():
            try:
                cl.put(b"after", b"1", timeout=2.0)
                return True
            except tinykv.Error:
                return False
        testing.wait_until(writes_again, timeout=RECOVERY_BOUND_S,
                           what="a write after the filler was removed")
        print(f"writes resumed {time.monotonic() - start:.1f}s after space freed")
        for i, n in c.nodes.items():
            assert n.proc.poll() is None and n.proc.pid == pids[i], f"node {i} restarted or died"
        for k, v in acked.items():
            assert cl.get(k) == v
        assert cl.get(b"after") == b"1"
        st = {i: c.status(i) for i in c.nodes}
        assert all(not s.get("error") for s in st.values()), st
