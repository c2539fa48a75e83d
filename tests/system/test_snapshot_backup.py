"""Backups end to end (as etcdctl snapshot save / etcdutl snapshot status|restore):
`tinykv snapshot save` from one member of a live 3-node cluster, `snapshot status` of the
file, `snapshot restore` into three new data dirs, and a NEW cluster started on them that
holds every key and takes writes, while the old cluster's data dirs stay untouched. A
truncated or bit-flipped file is refused by status and restore, with a clear error and a
non-zero exit, and restore leaves no data dir behind (negative control: with the
checksum check in DecodeBackup switched off, the bit flip reaches the engine's files and
status fails with the engine's own "checksum mismatch" on a scratch file instead of the
clear refusal, and the bitflip case fails).
"""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

import tinykv
from tinykv import testing

from test_cli import cli_binary  # same folder (the rootdir conftest puts it on the path)

pytestmark = pytest.mark.system

TOKEN = "restored-cluster"


def tk(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([cli_binary(), *args], capture_output=True, text=True,
                          timeout=timeout)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root -> sha256 of its bytes (what "untouched" means)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def restore_args(new: testing.Cluster, i: int, backup: Path) -> list[str]:
    clients = ",".join(f"{j}={new.nodes[j].endpoint}" for j in sorted(new.nodes))
    return ["snapshot", "restore", str(backup), "--data-dir", str(new.nodes[i].data_dir),
            "--id", str(i), "--initial-cluster", new.initial_cluster(),
            "--initial-cluster-client", clients, "--initial-cluster-token", TOKEN]


def test_save_status_restore_into_a_new_cluster(system_ready, tmp_path):
    backup = tmp_path / "backup.snap"
    expected = {b"key%04d" % i: b"value-%d-" % i * (1 + i % 7) for i in range(300)}
    with testing.Cluster(n=3, data_dir=tmp_path / "old") as old:
        cl = old.client(timeout=5.0)
        for k, v in expected.items():
            cl.put(k, v)
        cl.delete(b"key0007")  # a delete is part of the state too
        del expected[b"key0007"]
        old_cluster_id = cl.status(old.endpoint(1))["cluster_id"]
        # A follower serves it as well as the leader: the backup is its applied state.
        leader = old.leader()
        follower = next(i for i in old.nodes if i != leader)
        old.wait_applied(old.status(leader)["applied_index"], nodes=[follower])
        p = tk("--endpoints", old.endpoint(follower), "snapshot", "save", str(backup))
        assert p.returncode == 0, p.stderr
        assert "Snapshot saved at" in p.stdout
        assert not list(tmp_path.glob("backup.snap.part")), "the temporary file stays behind"
        # Nothing of the checkpoint stays in the member's snap/ directory.
        assert not list((tmp_path / "old").rglob("backup-*.tmp"))
    old_digest = tree_digest(tmp_path / "old")

    p = tk("-w", "json", "snapshot", "status", str(backup))
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["totalKey"] == len(expected)
    assert st["totalSize"] == backup.stat().st_size
    assert st["revision"] >= len(expected) and st["term"] >= 1
    assert int(st["cluster"], 16) == old_cluster_id
    p = tk("snapshot", "status", str(backup))
    assert p.returncode == 0 and p.stdout.startswith(st["hash"] + ", "), p.stdout

    new = testing.Cluster(n=3, data_dir=tmp_path / "new", start=False,
                          extra_args=["--initial-cluster-token", TOKEN])
    with new:
        for i in new.nodes:
            p = tk(*restore_args(new, i, backup))
            assert p.returncode == 0, p.stderr
            assert "restored member %d" % i in p.stdout
        # A data dir is written once: a second restore into it is refused.
        p = tk(*restore_args(new, 1, backup))
        assert p.returncode != 0 and "not empty" in p.stderr, p.stderr
        new.start()
        new.wait_leader()
        cl = new.client(timeout=5.0)
        got = dict(cl.scan(b"", None))
        assert got == expected
        assert cl.get(b"key0007") is None
        cl.put(b"after-restore", b"1")
        assert cl.get(b"after-restore") == b"1"
        # A new cluster: its own id, three voting members at the new addresses.
        ids = {cl.status(ep)["cluster_id"] for ep in new.endpoints}
        assert len(ids) == 1 and old_cluster_id not in ids
        members = cl.members()
        assert [m["id"] for m in members] == [1, 2, 3]
        assert {m["peer_address"] for m in members} == {n.peer_address for n in new.nodes.values()}
        assert not any(m["learner"] for m in members)
        # Every member applied the same state (the restore is identical everywhere).
        new.wait_applied(new.status(new.leader())["applied_index"])
        for ep in new.endpoints:
            with tinykv.Client([ep], timeout=5.0) as one:
                assert one.get(b"key0299", serializable=True) == expected[b"key0299"]
                assert one.get(b"after-restore", serializable=True) == b"1"
    assert tree_digest(tmp_path / "old") == old_digest, "the old cluster's data dirs changed"


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "empty"])
def test_damaged_backup_is_refused(system_ready, tmp_path, damage):
    backup = tmp_path / "backup.snap"
    with testing.Cluster(n=1, data_dir=tmp_path / "old") as old:
        cl = old.client(timeout=5.0)
        for i in range(50):
            cl.put(b"k%d" % i, b"v%d" % i)
        p = tk("--endpoints", old.endpoint(1), "snapshot", "save", str(backup))
        assert p.returncode == 0, p.stderr
    data = bytearray(backup.read_bytes())
    if damage == "truncate":
        data = data[: len(data) * 2 // 3]
    elif damage == "bitflip":
        data[len(data) // 2] ^= 0x10
    else:
        data = bytearray()
    bad = tmp_path / "bad.snap"
    bad.write_bytes(bytes(data))
    p = tk("snapshot", "status", str(bad))
    assert p.returncode != 0
    assert "not a valid tinykv snapshot file" in p.stderr, p.stderr
    target = tmp_path / "restored"
    p = tk("snapshot", "restore", str(bad), "--data-dir", str(target), "--id", "1",
           "--initial-cluster", "1=127.0.0.1:%d" % testing.free_port())
    assert p.returncode != 0
    assert "not a valid tinykv snapshot file" in p.stderr, p.stderr
    assert not target.exists(), "a refused restore wrote a data dir"
    # The intact file still restores (the control: the checks refuse only damage).
    p = tk("snapshot", "status", str(backup))
    assert p.returncode == 0, p.stderr


def test_snapshot_usage_errors_are_clear(system_ready, tmp_path):
    backup = tmp_path / "b.snap"
    dead = "127.0.0.1:%d" % testing.free_port()  # nobody listens there
    p = tk("--endpoints", f"{dead},{dead}", "snapshot", "save", str(backup))
    assert p.returncode == 2 and "exactly one endpoint" in p.stderr, p.stderr
    p = tk("--endpoints", dead, "--command-timeout", "2s", "snapshot", "save", str(backup))
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert not backup.exists() and not list(tmp_path.glob("*.part"))
    p = tk("snapshot", "status", str(tmp_path / "missing.snap"))
    assert p.returncode != 0 and "missing.snap" in p.stderr, p.stderr
    p = tk("snapshot", "restore", str(backup), "--data-dir", str(tmp_path / "d"), "--id", "9",
           "--initial-cluster", "1=127.0.0.1:2380")
    assert p.returncode == 2 and "--initial-cluster" in p.stderr, p.stderr
