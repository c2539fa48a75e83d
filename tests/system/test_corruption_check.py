"""The state hash check (etcd's corruption check) through tinykv-server.

A node whose engine is altered while it is stopped restarts with the same applied index as
everyone else, so Raft never repairs it. With the checks on (tinykv-server's default: a
check when a node starts, and every --corrupt-check-interval-ms), the leader compares every
member's state hash at one log index and the odd one out is marked CORRUPT: its alarm shows
in `tinykv endpoint status` / `endpoint health` and in the admin status, it refuses reads,
and the other two go on serving. With the checks off, the same node serves its altered value
(the negative control).

The engine is altered through the phase 1 Python bindings (tinykv.storage), at the write
record the MVCC state machine keeps a plain put's value in ('w' + the memcomparable key +
~commit_ts, the value held in the record; phase4_txn doc/mvcc_format.md).
"""

import json
import subprocess

import pytest

import tinykv
from tinykv import storage, testing

from test_cli import cli_binary  # same folder (the rootdir conftest puts it on the path)

KEYS = 30


def _engine(cluster, i):
    return cluster.nodes[i].data_dir / "groups" / "1" / "mvcc" / "db"


def _write_prefix(key):
    """The MVCC write family's prefix of `key`'s versions: 'w' + memcomparable(key), whose
    groups are 8 bytes, zero-padded, each followed by 0xff minus the padding."""
    out = b"w"
    for i in range(0, len(key) + 1, 8):
        group = key[i:i + 8]
        out += group + b"\0" * (8 - len(group)) + bytes([0xFF - (8 - len(group))])
        if len(group) < 8:
            break
    return out


def _varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def _with_value(write, value):
    """A one-step put's write record holding `value` instead: kind 'p', varint start_ts,
    create_ts, version and lease (the key's metadata), then the value length-prefixed
    (phase4_txn/doc/mvcc_format.md)."""
    assert write[:1] == b"p", "the MVCC state machine's write record layout changed"
    i = 1
    for _ in range(4):  # past the varints start_ts, create_ts, version, lease
        while write[i] & 0x80:
            i += 1
        i += 1
    return write[:i] + _varint(len(value)) + value


def _load(cluster):
    cl = cluster.client()
    for k in range(KEYS):
        cl.put(f"k{k}", f"v{k}")
    # Every member has applied every write before one of them is stopped.
    cluster.wait_applied(max(s["applied_index"] for s in cluster.statuses().values()))
    return cl


def _alter_a_follower(cluster, key=b"k7", value=b"altered"):
    """Stops a follower, sets `key` to `value` in its engine directly, restarts it."""
    x = next(i for i in cluster.nodes if i != cluster.leader())
    assert cluster.terminate(x) == 0
    with storage.DB.open(str(_engine(cluster, x))) as db:
        prefix = _write_prefix(key)
        versions = list(db.scan(start=prefix, end=prefix + b"\xff" * 8))
        assert versions, "the MVCC state machine's key layout changed"
        newest_key, newest = versions[0]  # newest first (~commit_ts)
        db.put(newest_key, _with_value(newest, value), sync=True)
    cluster.start_node(x)
    return x


def _tk(cluster, *args):
    return subprocess.run([cli_binary(), "--endpoints", ",".join(cluster.endpoints), *args],
                          capture_output=True, text=True, timeout=60)


def _alarm(cluster, i):
    return cluster.status(i)["alarm"]


def test_altered_node_is_flagged_corrupt_by_the_startup_check_and_refuses_to_serve(
        system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "c") as cluster:
        _load(cluster)
        x = _alter_a_follower(cluster)
        alarm = testing.wait_until(lambda: _alarm(cluster, x), timeout=30,
                                   what=f"node {x}'s CORRUPT alarm")
        assert "state hash mismatch at index" in alarm, alarm
        for i in cluster.nodes:
            if i != x:
                assert _alarm(cluster, i) == "", (i, cluster.status(i))

        # The alarm in `tinykv endpoint status` (json and table) and `endpoint health`.
        p = _tk(cluster, "-w", "json", "endpoint", "status")
        assert p.returncode == 0, p.stderr
        rows = {r["id"]: r for r in json.loads(p.stdout)}
        assert rows[x]["alarm"].startswith("CORRUPT: state hash mismatch"), rows[x]
        assert all("alarm" not in rows[i] for i in rows if i != x), rows
        p = _tk(cluster, "-w", "table", "endpoint", "status")
        assert "alarm: CORRUPT" in p.stdout, p.stdout
        p = _tk(cluster, "endpoint", "health")
        assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
        unhealthy = [ln for ln in p.stdout.splitlines() if "unhealthy" in ln]
        assert len(unhealthy) == 1 and cluster.endpoint(x) in unhealthy[0], p.stdout
        assert "CORRUPT" in unhealthy[0], unhealthy

        # It refuses reads, serializable ones too, naming the mismatch.
        with tinykv.Client([cluster.endpoint(x)], timeout=1.5) as only_x:
            with pytest.raises(tinykv.Error) as e:
                only_x.get("k7", serializable=True)
            assert "CORRUPT" in str(e.value) and "hash mismatch" in str(e.value), e.value

        # The leader logged one line naming it, the index and both hashes.
        lead = cluster.leader(exclude=[x])
        lines = [ln for n in cluster.nodes.values()
                 for ln in n.log_path.read_text(errors="replace").splitlines()
                 if f"member {x} is CORRUPT" in ln]
        assert lines, "no leader logged the mismatch"
        assert "state hash check at index" in lines[0] and "the majority" in lines[0], lines[0]

        # The other two keep serving, with the right value.
        others = [cluster.endpoint(i) for i in cluster.nodes if i != x]
        with tinykv.Client(others, timeout=5) as cl:
            cl.put("after", "1")
            assert cl.get("k7") == b"v7"
            assert cl.get("after") == b"1"
        assert cluster.status(lead)["hash_verified_index"] > 0

        # The alarm is persisted: restarted, the node is CORRUPT before any check.
        assert cluster.terminate(x) == 0
        assert (cluster.nodes[x].data_dir / "groups" / "1" / "alarm").exists()
        cluster.start_node(x)
        assert "state hash mismatch" in _alarm(cluster, x)


def test_periodic_check_flags_an_altered_node(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "c",
                         extra_args=["--no-initial-corrupt-check",
                                     "--corrupt-check-interval-ms", "200"]) as cluster:
        _load(cluster)
        x = _alter_a_follower(cluster, b"k3", b"changed")
        alarm = testing.wait_until(lambda: _alarm(cluster, x), timeout=30,
                                   what=f"node {x}'s CORRUPT alarm")
        assert "state hash mismatch" in alarm, alarm


def test_negative_control_with_the_checks_off_the_altered_node_serves_its_value(
        system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "c",
                         extra_args=["--no-initial-corrupt-check",
                                     "--corrupt-check-interval-ms", "0"]) as cluster:
        _load(cluster)
        x = _alter_a_follower(cluster)
        cluster.wait_applied(cluster.status(cluster.leader())["applied_index"], nodes=[x])
        with tinykv.Client([cluster.endpoint(x)], timeout=5) as only_x:
            assert only_x.get("k7", serializable=True) == b"altered"
        assert _alarm(cluster, x) == ""
