"""Key metadata and prev_kv on a real 3-node cluster of tinykv-server processes
(tinykv.testing.Cluster): ``get``/``scan`` with ``metadata=True`` answer etcd's
KeyValue fields (create and mod revision, version, lease), writes with
``prev_kv=True`` answer what was there, and the CLI prints both as etcdctl does."""

import json
import subprocess

from tinykv._bin import BIN_DIR
from tinykv.client import KeyValue


def test_a_keys_life_is_its_create_revision_version_and_lease(cl, ns):
    k = ns + b"k"
    r1 = cl.put(k, b"1")
    r2 = cl.put(k, b"2")
    lease = cl.lease_grant(60)
    r3 = cl.put(k, b"3", lease=lease)
    assert cl.get(k, metadata=True) == KeyValue(k, b"3", r1, r3, 3, lease.id)
    assert cl.get(k, revision=r2, metadata=True) == KeyValue(k, b"2", r1, r2, 2, 0)
    assert cl.get(ns + b"absent", metadata=True) is None
    cl.delete(k)
    r5 = cl.put(k, b"reborn")
    assert cl.get(k, metadata=True) == KeyValue(k, b"reborn", r5, r5, 1, 0)
    cl.put(ns + b"j", b"x")
    kvs = cl.scan_prefix(ns, metadata=True)
    assert [kv.key for kv in kvs] == [ns + b"j", k]
    assert kvs[1].create_revision == r5 and kvs[0].version == 1
    # The plain forms are unchanged.
    assert cl.get(k) == b"reborn"
    assert cl.scan_prefix(ns) == [(ns + b"j", b"x"), (k, b"reborn")]


def test_prev_kv_answers_the_keys_as_they_were(cl, ns):
    k = ns + b"k"
    r1, prev = cl.put(k, b"1", prev_kv=True)
    assert prev is None
    r2, prev = cl.put(k, b"2", prev_kv=True)
    assert prev == KeyValue(k, b"1", r1, r1, 1, 0) and r2 > r1
    assert cl.delete(k, prev_kv=True) == KeyValue(k, b"2", r1, r2, 2, 0)
    assert cl.delete(k, prev_kv=True) is None
    for i in range(3):
        cl.put(ns + b"r/%d" % i, b"v%d" % i)
    count, kvs = cl.delete_prefix(ns + b"r/", prev_kv=True)
    assert count == 3
    assert [(kv.key, kv.value) for kv in kvs] == [(ns + b"r/%d" % i, b"v%d" % i) for i in range(3)]
    assert cl.delete_prefix(ns + b"r/", prev_kv=True) == (0, [])


def test_the_cli_prints_metadata_and_prev_kv(cluster, cl, ns):
    k = (ns + b"k").decode()
    r1 = cl.put(k, b"v1")
    r2 = cl.put(k, b"v2")

    def run(*args):
        return subprocess.run([str(BIN_DIR / "tinykv"), "--endpoints", ",".join(cluster.endpoints),
                               "--command-timeout", "20s", *args],
                              capture_output=True, text=True, timeout=60)

    r = run("get", k, "-w", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kvs"] == [{"key": k, "create_revision": r1, "mod_revision": r2, "version": 2,
                           "value": "v2", "lease": 0}]
    r = run("put", k, "v3", "--prev-kv")
    assert r.returncode == 0 and r.stdout == f"OK\n{k}\nv2\n", r.stdout + r.stderr
    r = run("del", k, "--prev-kv", "-w", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["deleted"] == 1 and doc["prev_kvs"][0]["value"] == "v3"
    assert doc["prev_kvs"][0]["version"] == 3
