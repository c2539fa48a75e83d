"""History compaction and defragmentation on a real 3-node cluster of tinykv-server
processes (tinykv.testing.Cluster): ``Client.compact`` / ``tinykv compaction`` make
reads below the compacted revision fail as compacted while the state at it stays
whole, watches from it or below fail the same way, ``defrag`` gives the engine's space
back, and ``--auto-compaction-retention`` compacts by itself on the leader.

Time: the auto-compaction test runs on the wall clock; it waits on a condition with a
generous bound for a loaded 2-core machine."""

import json
import subprocess

import pytest

import tinykv
from tinykv import testing
from tinykv._bin import BIN_DIR

HEADROOM = 30.0


def run_cli(cluster, *args):
    return subprocess.run([str(BIN_DIR / "tinykv"), "--endpoints", ",".join(cluster.endpoints),
                           "--command-timeout", "20s", *args],
                          capture_output=True, text=True, timeout=60)


def test_reads_below_the_compacted_revision_fail_and_at_it_succeed(cl, ns):
    a = cl.put(ns + b"k", b"v1")
    b = cl.put(ns + b"k", b"v2")
    c = cl.put(ns + b"k", b"v3")
    assert cl.get(ns + b"k", revision=a) == b"v1"
    assert cl.compact(b) == b
    with pytest.raises(tinykv.CompactedError) as e:
        cl.get(ns + b"k", revision=a)
    assert e.value.compact_revision == b
    assert "has been compacted" in str(e.value)
    with pytest.raises(tinykv.CompactedError):
        cl.scan(ns, revision=b - 1)
    with pytest.raises(tinykv.CompactedError):
        cl.watch(ns + b"k", start_revision=b)
    assert cl.get(ns + b"k", revision=b) == b"v2"
    assert cl.get(ns + b"k", revision=c) == b"v3"
    assert cl.get(ns + b"k") == b"v3"
    # Every member applied it: a serializable read on each refuses the old revision.
    for e_ in cl.endpoints:
        one = tinykv.Client([e_], timeout=10.0)
        testing.wait_until(lambda: _refuses(one, ns + b"k", a), timeout=HEADROOM,
                           what=f"{e_} to apply the compaction")
        one.close()
    with pytest.raises(tinykv.InvalidArgumentError, match="compacted already"):
        cl.compact(b)
    with pytest.raises(tinykv.InvalidArgumentError, match="in the future"):
        cl.compact(c + (1 << 40))
    with pytest.raises(tinykv.InvalidArgumentError):
        cl.compact(0)


def _refuses(client, key, revision):
    try:
        client.get(key, revision=revision, serializable=True)
    except tinykv.CompactedError:
        return True
    return False


def test_the_cli_compacts_and_defragments(cluster, cl, ns):
    a = cl.put(ns + b"k", b"old")
    b = cl.put(ns + b"k", b"new")
    r = run_cli(cluster, "compaction", str(b))
    assert r.returncode == 0 and r.stdout == f"compacted revision {b}\n", r.stderr
    r = run_cli(cluster, "get", (ns + b"k").decode(), "--rev", str(a))
    assert r.returncode == 2 and "has been compacted" in r.stderr, r.stdout + r.stderr
    r = run_cli(cluster, "compaction", str(b))
    assert r.returncode == 2 and "compacted already" in r.stderr
    r = run_cli(cluster, "defrag", "--cluster", "-w", "json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(x["endpoint"] for x in lines) == sorted(cluster.endpoints)
    assert all(x["bytes_after"] <= x["bytes_before"] + 4096 for x in lines), lines


def test_defrag_gives_back_the_space_of_compacted_history(cl, ns):
    value = b"x" * 4096
    for _ in range(3):
        for i in range(200):
            cl.put(ns + b"big/%03d" % i, value)
    cl.delete_prefix(ns + b"big/")
    leader = cl.leader_endpoint or cl.endpoints[0]
    kept = cl.defrag(leader)
    assert kept["bytes_after"] > 1_000_000, kept  # 2.4 MB of history, still there
    cl.compact(cl.timestamp())
    freed = cl.defrag(leader)
    assert freed["bytes_after"] < kept["bytes_after"] // 4, (kept, freed)
    assert cl.scan_prefix(ns + b"big/") == []


def test_auto_compaction_compacts_the_history_older_than_the_retention(tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path,
                         extra_args=["--auto-compaction-retention", "1s"]) as c:
        c.wait_leader()
        cl = c.client(timeout=10.0)
        a = cl.put(b"auto/k", b"v1")
        cl.put(b"auto/k", b"v2")
        # Within the retention the old revision reads; once it passed, it is compacted.
        testing.wait_until(lambda: _refuses(cl, b"auto/k", a), timeout=1.0 + HEADROOM,
                           what="the leader's auto-compaction to pass revision a")
        assert cl.get(b"auto/k") == b"v2"
        cl.close()


def test_bad_auto_compaction_flags_are_refused(tmp_path):
    server = str(BIN_DIR / "tinykv-server")
    base = [server, "--id", "1", "--data-dir", str(tmp_path / "d"),
            "--listen-client", "127.0.0.1:0", "--listen-peer", "127.0.0.1:0"]
    r = subprocess.run(base + ["--auto-compaction-retention", "soon"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "--auto-compaction-retention 'soon'" in r.stderr, r.stderr
    r = subprocess.run(base + ["--auto-compaction-mode", "revision",
                               "--auto-compaction-retention", "1000"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "revisions are commit timestamps" in r.stderr, r.stderr
