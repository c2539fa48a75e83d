"""tinykv.Client against a real in-process 3-node cluster (tinykv.client.EmbeddedCluster:
KvNode x3, each serving the client protocol on 127.0.0.1 port 0), and the ``tinykv``
CLI executable shipped in the package against the same cluster."""

import json
import os
import subprocess
import sysconfig
import threading
import time
from pathlib import Path

import pytest

import tinykv
from tinykv import testing
from tinykv.testing import find_cli_binary
from tinykv.client import EmbeddedCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with EmbeddedCluster(3, tmp_path_factory.mktemp("cluster"), sync=False) as lc:
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


def test_bytes_like_and_str_keys_and_values(cl):
    cl.put("text", "värde")                      # str: UTF-8
    assert cl.get("text") == "värde".encode()
    cl.put(bytearray(b"ba"), memoryview(b"mv"))
    assert cl.get(b"ba") == b"mv"
    cl.put(b"arr", memoryview(bytearray(b"\x00\x01\xff")))
    assert cl.get(memoryview(b"arr")) == b"\x00\x01\xff"
    assert cl.cas(b"arr", bytearray(b"\x00\x01\xff"), "new") is True
    assert cl.scan(bytearray(b"ar"), "as") == [(b"arr", b"new")]


@pytest.mark.parametrize("bad", [5, [1, 2], None, 1.5, object()])
def test_non_bytes_keys_and_values_raise_type_error_and_store_nothing(cl, bad):
    # bytes(5) would be five zero bytes and bytes([1, 2]) b"\x01\x02": never silently.
    with pytest.raises(TypeError):
        cl.put(b"x", bad)
    with pytest.raises(TypeError):
        cl.cas(b"x", None, bad)
    if bad is not None:  # None is "absent" for cas' expected and "open" for a range end
        with pytest.raises(TypeError):
            cl.put(bad, b"v")
        with pytest.raises(TypeError):
            cl.get(bad)
        with pytest.raises(TypeError):
            cl.delete(bad)
        with pytest.raises(TypeError):
            cl.scan(bad)
        with pytest.raises(TypeError):
            cl.scan(b"", bad)
        with pytest.raises(TypeError):
            cl.cas(b"x", bad, b"v")
    assert cl.get(b"x") is None


def test_empty_key_is_invalid_argument(cl):
    for call in (lambda: cl.put(b"", b"v"), lambda: cl.get(""), lambda: cl.delete(b""),
                 lambda: cl.cas(b"", None, b"v")):
        with pytest.raises(tinykv.InvalidArgumentError, match="key must not be empty"):
            call()
    # An empty range bound is not a key: scan(b"") is the whole key space.
    cl.put(b"k", b"v")
    assert cl.scan(b"") == [(b"k", b"v")]


def test_open_range_end_is_none_and_empty_end_means_the_same(cl):
    for k in (b"a", b"b", b"c"):
        cl.put(k, b"x")
    assert cl.scan(b"b") == cl.scan(b"b", None) == cl.scan(b"b", b"") == [(b"b", b"x"),
                                                                          (b"c", b"x")]
    assert cl.delete_range(b"c", None) == 1
    assert cl.delete_range(b"a") == 2
    assert cl.scan() == []


def test_request_above_the_limit_fails_at_once_and_one_at_the_limit_is_stored(cl):
    limit = tinykv.client.MAX_REQUEST_BYTES
    assert limit == 1536 * 1024
    attempts, start = cl.stats()["attempts"], time.monotonic()
    with pytest.raises(tinykv.InvalidArgumentError, match="request too large"):
        cl.put(b"big", b"x" * (limit - 2), timeout=10.0)   # 3 + limit - 2 bytes
    with pytest.raises(tinykv.InvalidArgumentError, match="request too large"):
        cl.cas(b"big", b"e" * (limit // 2), b"n" * (limit // 2))
    assert time.monotonic() - start < 1.0, "rejected before sending, not retried"
    assert cl.stats()["attempts"] == attempts
    value = b"y" * (limit - 3)
    cl.put(b"big", value)
    assert cl.get(b"big") == value


def test_https_endpoints_never_fall_back_to_plaintext_and_http_ones_mean_host_port(cluster):
    # https:// turns TLS on for every endpoint: against this plaintext cluster each call
    # fails at the handshake (IOError naming TLS, no retrying until the deadline), never
    # speaks plaintext; mixing http:// and https:// is refused outright.
    for endpoints in (["https://" + cluster.endpoints[0]], "https://" + cluster.endpoints[0],
                      [cluster.endpoints[0], "https://" + cluster.endpoints[1]]):
        start = time.monotonic()
        with tinykv.Client(endpoints, timeout=20.0) as c:
            with pytest.raises(tinykv.IOError, match="TLS handshake"):
                c.get(b"k")
        assert time.monotonic() - start < 8.0
    with pytest.raises(tinykv.InvalidArgumentError, match="asks for plaintext, but TLS is on"):
        tinykv.Client(["http://" + cluster.endpoints[0], "https://" + cluster.endpoints[1]])
    with pytest.raises(tinykv.InvalidArgumentError, match="unsupported scheme"):
        tinykv.Client(["grpc://" + cluster.endpoints[0]])
    with tinykv.Client(["http://" + e for e in cluster.endpoints], timeout=10.0) as c:
        assert c.endpoints == cluster.endpoints
        c.put(b"http", b"1")
        assert c.get(b"http") == b"1"


def test_unreachable_endpoints_fail_promptly_naming_them():
    dead = [f"127.0.0.1:{testing.free_port()}" for _ in range(3)]
    for endpoints in (dead[:1], dead):
        with tinykv.Client(endpoints, timeout=10.0) as c:
            start = time.monotonic()
            with pytest.raises(tinykv.UnavailableError, match="could not reach") as e:
                c.put(b"k", b"v")
            assert time.monotonic() - start < 3.0, "the deadline is 10 s; refusals are at once"
            for ep in endpoints:
                assert ep in str(e.value)


def test_timeout_raises_tinykv_timeout_error(tmp_path):
    # One member of a 3-node cluster cannot elect itself: every write times out.
    with EmbeddedCluster(3, tmp_path, sync=False) as lc:
        for i in (2, 3):
            lc.stop_node(i)
        with tinykv.Client([lc.endpoint(1)], timeout=0.5) as c:
            with pytest.raises(tinykv.TimeoutError):
                c.put(b"k", b"v")
            with pytest.raises(TimeoutError):  # also the builtin
                c.get(b"k")


def test_bad_endpoint_raises_invalid_argument():
    with pytest.raises(tinykv.InvalidArgumentError):
        tinykv.Client(["no-port"])


def test_closed_client_raises_cancelled(cluster):
    c = tinykv.Client(cluster.endpoints)
    c.close()
    with pytest.raises(tinykv.CancelledError):
        c.get(b"k")


def test_client_survives_leader_stop_and_threads_share_it(tmp_path):
    with EmbeddedCluster(3, tmp_path, sync=False) as lc, lc.client(timeout=20.0) as c:
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


def test_embedded_cluster_shares_the_cluster_verbs(tmp_path):
    with EmbeddedCluster(3, tmp_path, sync=False) as ec, ec.client(timeout=20.0) as c:
        leader = ec.wait_leader()
        assert ec.leader() == leader
        c.put(b"k", b"1")
        ec.kill(leader)
        assert leader not in ec.running()
        new = ec.leader(timeout=10.0)
        assert new is not None and new != leader
        c.put(b"k", b"2")              # same endpoints: the client follows the new leader
        ec.restart(leader)             # same client port, from its files
        assert sorted(ec.running()) == [1, 2, 3]
        with tinykv.Client([ec.endpoint(leader)], timeout=20.0) as back:
            assert back.get(b"k") == b"2"
        ec.stop()
        assert ec.running() == []


def test_old_embedded_cluster_name_says_where_it_went():
    with pytest.raises(AttributeError, match="EmbeddedCluster"):
        tinykv.client.LocalCluster  # noqa: B018


@pytest.fixture(scope="module")
def exe():
    # The executable ships inside the package (TINYKV_PACKAGE_BINARIES).
    return find_cli_binary()


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
    # etcdctl's header comes first, with the revision the read was made at.
    assert r.stdout.startswith(b'{"header":{"cluster_id":'), r.stdout
    doc = json.loads(r.stdout)
    assert doc["header"]["revision"] > 0 and doc["header"]["member_id"] != 0, r.stdout
    assert doc["count"] == 2, r.stdout
    # Each pair is etcd's KeyValue: its metadata, the value (base64 when not UTF-8).
    assert [(kv["key"], kv.get("value"), kv.get("value_base64"), kv["version"], kv["lease"])
            for kv in doc["kvs"]] == [("fruit/apple", "red", None, 1, 0),
                                     ("fruit/bin", None, "/wByYXc=", 1, 0)], r.stdout
    assert all(kv["create_revision"] == kv["mod_revision"] > 0 for kv in doc["kvs"]), r.stdout
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
    assert r.returncode == 3, r.stderr
    assert r.stderr == (b"Error: Unavailable: could not reach endpoint 127.0.0.1:1 "
                        b"(connect to 127.0.0.1:1: Connection refused)\n"), r.stderr
    r = subprocess.run([exe, "--version"], capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith(b"tinykv ")


@pytest.mark.parametrize("name", ["tinykv", "tinykv-server", "tinykv-bench"])
def test_console_scripts_on_the_venv_path_run_the_packaged_binaries(name):
    script = Path(sysconfig.get_path("scripts")) / name
    assert script.is_file(), f"{script} is not installed (pip install . makes it)"
    r = subprocess.run([str(script), "--help"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert name.encode() in r.stdout
    # exec, not a child: the exit code is the binary's own.
    r = subprocess.run([str(script), "--no-such-flag"], capture_output=True, timeout=60)
    assert r.returncode != 0 and b"Traceback" not in r.stderr, r.stderr


def test_packaged_binaries_are_stripped():
    pkg = Path(tinykv.__file__).resolve().parent
    files = [*sorted((pkg / "bin").iterdir()), *pkg.glob("_core*.so")]
    assert files
    for f in files:
        r = subprocess.run(["readelf", "-S", str(f)], capture_output=True, text=True, check=True)
        assert ".debug_info" not in r.stdout, f"{f.name} ships debug information"
