"""tinykv.Client against a real in-process 3-node cluster (tinykv.client.LocalCluster:
KvNode x3, each serving the client protocol on 127.0.0.1 port 0), and the ``tinykv``
CLI executable shipped in the package against the same cluster."""

import os
import shutil
import subprocess
import sysconfig
import threading
from pathlib import Path

import pytest

import tinykv
from tinykv.client import LocalCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(3, tmp_path_factory.mktemp("cluster"), sync=False) as lc:
        yield lc


@pytest.fixture
def cl(cluster):
    with tinykv.Client(cluster.endpoints, timeout=10.0) as c:
        c.delete_range(b"", b"")
        yield c


def test_client_is_exported_at_package_level():
    assert tinykv.Client is tinykv.client.Client
    assert "Client" in tinykv.__all__


def test_put_get_delete_round_trip(cl):
    cl.put(b"k", b"v\x00\xff")
    assert cl.get(b"k") == b"v\x00\xff"
    cl.delete(b"k")
    assert cl.get(b"k") is None
    cl.delete(b"k")  # deleting a missing key is fine


def test_get_of_missing_key_returns_none(cl):
    assert cl.get(b"never-written") is None


def test_scan_returns_pairs_in_order_with_limit(cl):
    for i in range(30):
        cl.put(b"s%03d" % i, b"v%d" % i)
    cl.put(b"t", b"outside")
    pairs = cl.scan(b"s", b"t")
    assert [k for k, _ in pairs] == [b"s%03d" % i for i in range(30)]
    assert pairs[5] == (b"s005", b"v5")
    assert len(cl.scan(b"s", b"t", limit=7)) == 7
    assert cl.scan(b"s029", b"") == [(b"s029", b"v29"), (b"t", b"outside")]
    assert cl.scan_prefix(b"s00", keys_only=True) == [(b"s%03d" % i, b"") for i in range(10)]


def test_cas_semantics(cl):
    assert cl.cas(b"c", None, b"1") is True          # absent: succeeds
    assert cl.cas(b"c", None, b"2") is False         # present now
    assert cl.cas(b"c", b"9", b"2") is False
    assert cl.cas_ex(b"c", b"9", b"2") == (False, b"1")
    assert cl.cas(b"c", b"1", b"2") is True
    assert cl.get(b"c") == b"2"


def test_delete_range_and_prefix_count_keys(cl):
    for k in [b"a", b"p/1", b"p/2", b"p/3", b"q"]:
        cl.put(k, b"x")
    assert cl.delete_prefix(b"p/") == 3
    assert [k for k, _ in cl.scan()] == [b"a", b"q"]
    assert cl.delete_range(b"", b"") == 2


def test_status_members_health(cluster, cl):
    cl.put(b"x", b"y")
    leader = cluster.leader()
    st = cl.status()
    assert st["id"] == leader and st["role"] == "leader"
    assert st["client_address"] == cluster.endpoint(leader)
    assert st["applied_index"] >= 1 and st["first_index"] <= st["last_index"]
    members = cl.members()
    assert [m["id"] for m in members] == [1, 2, 3]
    assert [m["client_address"] for m in members] == cluster.endpoints
    assert [m["is_leader"] for m in members].count(True) == 1
    assert all(h["healthy"] for h in cl.health())
    follower = next(i for i in (1, 2, 3) if i != leader)
    fst = cl.status(cluster.endpoint(follower))
    assert fst["role"] == "follower" and fst["leader"] == leader
    assert fst["leader_client_address"] == cluster.endpoint(leader)


def test_serializable_read_from_a_follower(cluster, cl):
    cl.put(b"sr", b"1")
    follower = next(i for i in (1, 2, 3) if i != cluster.leader())
    with tinykv.Client([cluster.endpoint(follower)]) as fc:
        # Linearizable reads go to the leader via the hint; serializable ones stay local.
        assert fc.get(b"sr") == b"1"
        for _ in range(200):
            if fc.get(b"sr", serializable=True) == b"1":
                break
        assert fc.get(b"sr", serializable=True) == b"1"


def test_bytes_and_str_keys(cl):
    cl.put("text", "värde")
    assert cl.get("text") == "värde".encode()
    cl.put(bytearray(b"ba"), memoryview(b"mv"))
    assert cl.get(b"ba") == b"mv"


def test_timeout_raises_tinykv_timeout_error(tmp_path):
    # One member of a 3-node cluster cannot elect itself: every write times out.
    with LocalCluster(3, tmp_path, sync=False) as lc:
        for i in (2, 3):
            lc.stop_node(i)
        with tinykv.Client([lc.endpoint(1)], timeout=0.5) as c:
            with pytest.raises(tinykv.TimeoutError):
                c.put(b"k", b"v")
            with pytest.raises(TimeoutError):  # also the builtin
                c.get(b"k")


def test_unreachable_endpoint_raises_timeout_naming_unavailable():
    with tinykv.Client(["127.0.0.1:1"], timeout=0.3) as c:
        with pytest.raises(tinykv.TimeoutError, match="Unavailable"):
            c.put(b"k", b"v")


def test_bad_endpoint_raises_invalid_argument():
    with pytest.raises(tinykv.InvalidArgumentError):
        tinykv.Client(["no-port"])


def test_closed_client_raises_cancelled(cluster):
    c = tinykv.Client(cluster.endpoints)
    c.close()
    with pytest.raises(tinykv.CancelledError):
        c.get(b"k")


def test_client_survives_leader_stop_and_threads_share_it(tmp_path):
    with LocalCluster(3, tmp_path, sync=False) as lc, lc.client(timeout=20.0) as c:
        errors = []

        def writer(t):
            try:
                for i in range(20):
                    c.put(b"w%d-%02d" % (t, i), b"v")
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        lc.stop_node(lc.leader())
        for th in threads:
            th.join()
        assert errors == []
        assert len(c.scan(b"w", b"x")) == 80
        assert c.stats()["write_sessions"] <= 4


def _tinykv_exe():
    # The executable ships inside the package (TINYKV_PACKAGE_BINARIES), like
    # tinykv-demo-server; fall back to PATH.
    pkg = Path(tinykv.__file__).parent
    for cand in [pkg / "bin" / "tinykv", pkg / "tinykv",
                 Path(sysconfig.get_path("scripts")) / "tinykv"]:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("tinykv")


@pytest.fixture(scope="module")
def exe():
    path = _tinykv_exe()
    if path is None:
        pytest.fail("tinykv executable not found in the installed package")
    return path


def _run(exe, cluster, *args, stdin=None, env_endpoints=False):
    env = dict(os.environ)
    cmd = [exe]
    if env_endpoints:
        env["TINYKV_ENDPOINTS"] = ",".join(cluster.endpoints)
    else:
        cmd += ["--endpoints", ",".join(cluster.endpoints)]
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, env=env,
                          timeout=60)


def test_cli_against_the_cluster(exe, cluster, cl):
    r = _run(exe, cluster, "put", "fruit/apple", "red")
    assert (r.returncode, r.stdout) == (0, b"OK\n"), r.stderr
    r = _run(exe, cluster, "put", "fruit/bin", stdin=b"\xff\x00raw")
    assert r.returncode == 0, r.stderr
    assert cl.get(b"fruit/bin") == b"\xff\x00raw"
    r = _run(exe, cluster, "get", "fruit/apple", env_endpoints=True)
    assert r.stdout == b"fruit/apple\nred\n"
    r = _run(exe, cluster, "-w", "json", "get", "fruit/", "--prefix")
    assert r.stdout == (b'{"count":2,"kvs":[{"key":"fruit/apple","value":"red"},'
                        b'{"key":"fruit/bin","value_base64":"/wByYXc="}]}\n')
    r = _run(exe, cluster, "get", "nope")
    assert r.returncode == 1 and r.stdout == b"" and r.stderr == b"Error: key not found: nope\n"
    r = _run(exe, cluster, "del", "fruit/", "--prefix")
    assert r.stdout == b"2\n"
    r = _run(exe, cluster, "member", "list")
    assert r.returncode == 0 and r.stdout.count(b"\n") == 3
    r = _run(exe, cluster, "endpoint", "health")
    assert r.returncode == 0 and r.stdout.count(b"is healthy") == 3
    r = _run(exe, cluster, "-w", "table", "endpoint", "status")
    assert r.returncode == 0 and b"| ENDPOINT" in r.stdout
    r = _run(exe, cluster, "bogus")
    assert r.returncode == 2 and r.stderr.startswith(b"Error: ")
    r = subprocess.run([exe, "--endpoints", "127.0.0.1:1", "--command-timeout", "300ms",
                        "get", "k"], capture_output=True, timeout=60)
    assert r.returncode == 3 and r.stderr.startswith(b"Error: Timeout"), r.stderr
    r = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith(b"tinykv ")
