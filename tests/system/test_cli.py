"""The tinykv CLI (phase 5) against a live 3-node cluster: every command, every output
format, errors and exit codes (0 ok, 1 not found, 2 bad usage, 3 unavailable, 4 other)."""

import base64
import json
import os
import subprocess
import time

import pytest

from tinykv import testing


def cli_binary() -> str:
    return testing.find_cli_binary()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    try:
        testing.find_server_binary()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("cli")) as c:
        c.leader()
        yield c


@pytest.fixture(scope="module")
def tk(live):
    binary = cli_binary()

    def run(*args, stdin=None, endpoints=None, env_endpoints=None):
        # The CLI takes its global flags (-w, --bytes) before the command (CLI11 without
        # fallthrough; etcdctl also accepts them after it): move them to the front.
        args, front = list(args), []
        for flag in ("-w", "--bytes"):
            while flag in args:
                i = args.index(flag)
                front += args[i:i + 2]
                del args[i:i + 2]
        args = front + args
        env = dict(os.environ)
        env.pop("TINYKV_ENDPOINTS", None)
        if env_endpoints is not None:
            env["TINYKV_ENDPOINTS"] = env_endpoints
        cmd = [binary]
        if endpoints is not False and env_endpoints is None:
            cmd += ["--endpoints", ",".join(endpoints or live.endpoints)]
        return subprocess.run(cmd + list(args), input=stdin, capture_output=True, timeout=60,
                              env=env)
    return run


def ok(p) -> str:
    assert p.returncode == 0, (p.returncode, p.stderr)
    return p.stdout.decode()


def test_put_get_simple(tk):
    assert ok(tk("put", "greeting", "hello")) == "OK\n"
    assert ok(tk("get", "greeting")) == "greeting\nhello\n"


def test_put_reads_value_from_stdin_including_binary(tk):
    payload = b"line one\nline two\x00\xff"
    ok(tk("put", "blob", stdin=payload))
    p = tk("get", "blob", "-w", "json")
    obj = json.loads(ok(p))
    assert obj["count"] == 1
    kv = obj["kvs"][0]
    assert kv["key"] == "blob"
    assert base64.b64decode(kv["value_base64"]) == payload  # not UTF-8: base64


def test_json_shows_utf8_as_text_and_base64_on_request(tk):
    ok(tk("put", "city", "Zürich"))
    obj = json.loads(ok(tk("get", "city", "-w", "json")))
    assert [(kv["key"], kv["value"]) for kv in obj["kvs"]] == [("city", "Zürich")]
    obj = json.loads(ok(tk("get", "city", "-w", "json", "--bytes", "base64")))
    kv = obj["kvs"][0]
    assert base64.b64decode(kv["key_base64"]) == b"city"
    assert base64.b64decode(kv["value_base64"]).decode() == "Zürich"


def test_get_prefix_keys_only_limit_and_table(tk):
    for i in range(5):
        ok(tk("put", f"fruit/{i}", f"v{i}"))
    ok(tk("put", "fruitless", "x"))
    out = ok(tk("get", "fruit/", "--prefix"))
    assert out.split("\n")[:-1] == sum([[f"fruit/{i}", f"v{i}"] for i in range(5)], [])
    assert ok(tk("get", "fruit/", "--prefix", "--keys-only")).split() == \
        [f"fruit/{i}" for i in range(5)]
    assert ok(tk("get", "fruit/", "--prefix", "--limit", "2", "--keys-only")).split() == \
        ["fruit/0", "fruit/1"]
    table = ok(tk("get", "fruit/", "--prefix", "-w", "table"))
    assert "| KEY" in table and "| fruit/3 | v3" in table.replace("  ", " ")
    obj = json.loads(ok(tk("get", "fruit/", "--prefix", "-w", "json")))
    assert obj["count"] == 5


def test_scan_range_and_serializable_read(tk):
    for k in ("s/a", "s/b", "s/c", "s/d"):
        ok(tk("put", k, k.upper()))
    assert ok(tk("scan", "s/b", "s/d", "--keys-only")).split() == ["s/b", "s/c"]
    assert ok(tk("scan", "s/c", "", "--limit", "1")).split() == ["s/c", "S/C"]
    # Serializable: any node answers from its own state; once applied everywhere it agrees.
    out = ok(tk("get", "s/a", "--consistency", "s"))
    assert out in ("s/a\nS/A\n",)


def test_del_key_and_prefix_report_counts(tk):
    for i in range(3):
        ok(tk("put", f"tmp/{i}", "x"))
    assert ok(tk("del", "tmp/0")) == "1\n"
    assert ok(tk("del", "tmp/0")) == "0\n"
    obj = json.loads(ok(tk("del", "tmp/", "--prefix", "-w", "json")))
    assert obj == {"header": obj["header"], "deleted": 2} and obj["header"]["revision"] > 0, obj
    assert tk("get", "tmp/1").returncode == 1


def test_get_at_a_revision_reads_the_old_value(tk):
    first = json.loads(ok(tk("put", "rev/k", "one", "-w", "json")))["header"]["revision"]
    ok(tk("put", "rev/k", "two"))
    assert ok(tk("get", "rev/k")) == "rev/k\ntwo\n"
    assert ok(tk("get", "rev/k", "--rev", str(first))) == "rev/k\none\n"
    obj = json.loads(ok(tk("get", "rev/k", "--rev", str(first), "-w", "json")))
    # etcd's header (the read's revision), the pair as etcd's KeyValue, its metadata as
    # of that revision.
    assert obj["header"]["revision"] == first and obj["header"]["member_id"] != 0, obj
    assert obj == {"header": obj["header"], "count": 1,
                   "kvs": [{"key": "rev/k", "create_revision": first, "mod_revision": first,
                            "version": 1, "value": "one", "lease": 0}]}
    now = json.loads(ok(tk("get", "rev/k", "-w", "json")))["header"]["revision"]
    p = tk("get", "rev/k", "--rev", str(now * 2))
    err = p.stderr.decode()
    assert p.returncode == 2 and "is in the future" in err and err.count("\n") == 1, err


def test_txn_from_stdin_runs_one_branch_atomically(tk):
    ok(tk("put", "txn/k", "v"))
    script = b'value("txn/k") = "v"\n\nput txn/k w\nget txn/k\n\nput txn/k failed\n'
    # Success; the get sees the transaction's own put.
    assert ok(tk("txn", stdin=script)) == "SUCCESS\n\nOK\n\ntxn/k\nw\n"
    # The same compare fails now: the failure branch runs instead.
    obj = json.loads(ok(tk("txn", "-w", "json", stdin=script)))
    assert obj["succeeded"] is False and obj["responses"] == [{"put": {"ok": True}}], obj
    assert ok(tk("get", "txn/k")) == "txn/k\nfailed\n"
    # Its revision is the commit's: the new value at it, the old one just before.
    rev = obj["header"]["revision"]
    assert ok(tk("get", "txn/k", "--rev", str(rev))) == "txn/k\nfailed\n"
    assert ok(tk("get", "txn/k", "--rev", str(rev - 1))) == "txn/k\nw\n"
    # Create-if-absent (version 0: the key does not exist).
    create = b'version("txn/new") = "0"\n\nput txn/new 1\n\nget txn/new\n'
    assert ok(tk("txn", stdin=create)) == "SUCCESS\n\nOK\n"
    assert ok(tk("txn", stdin=create)) == "FAILURE\n\ntxn/new\n1\n"
    # A line that does not parse: exit 2 naming it, and nothing runs.
    p = tk("txn", stdin=b'value("txn/k") = "failed"\nvalue(txn/k) = "v"\n\nput txn/bad 1\n')
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err)
    assert err.startswith("Error: InvalidArgument: txn: line 2: malformed comparison"), err
    assert err.count("\n") == 1, err
    assert tk("get", "txn/bad").returncode == 1


def test_get_missing_key_exits_1_with_one_line(tk):
    p = tk("get", "no-such-key")
    assert p.returncode == 1
    assert p.stdout == b""
    assert p.stderr.decode().strip().count("\n") == 0
    assert "not found" in p.stderr.decode()


def test_member_list_all_formats(tk, live):
    out = ok(tk("member", "list"))
    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert sum("leader" in ln for ln in lines) == 1
    obj = json.loads(ok(tk("member", "list", "-w", "json")))
    assert sorted(m["id"] for m in obj["members"]) == [1, 2, 3]
    assert obj["leader"] == live.leader()
    peers = {m["id"]: m["peer_address"] for m in obj["members"]}
    assert peers == {i: n.peer_address for i, n in live.nodes.items()}
    assert "PEER ADDRS" in ok(tk("member", "list", "-w", "table"))


def test_endpoint_status_and_health_all_formats(tk, live):
    rows = json.loads(ok(tk("endpoint", "status", "-w", "json")))
    assert [r["endpoint"] for r in rows] == live.endpoints
    leader = live.leader()
    assert {r["leader"] for r in rows} == {leader}
    assert sum(r["role"] == "leader" for r in rows) == 1
    simple = ok(tk("endpoint", "status"))
    assert simple.count("term=") == 3
    assert "RAFT LOG" in ok(tk("endpoint", "status", "-w", "table"))
    health = json.loads(ok(tk("endpoint", "health", "-w", "json")))
    assert all(h["health"] for h in health) and len(health) == 3
    assert ok(tk("endpoint", "health")).count("is healthy") == 3


def test_endpoints_from_environment(tk, live):
    ok(tk("put", "envkey", "1", env_endpoints=",".join(live.endpoints)))
    assert ok(tk("get", "envkey", env_endpoints=live.endpoints[2])) == "envkey\n1\n"


def test_https_endpoints_never_fall_back_to_plaintext_and_http_ones_accepted(tk, live):
    # An https:// endpoint of this plaintext cluster fails at the TLS handshake (exit 4,
    # one line) rather than being spoken to in plaintext (TLS clusters: test_tls.py);
    # http://host:port is host:port, as etcdctl users write it.
    https = ["https://" + e for e in live.endpoints]
    for p in (tk("get", "k", endpoints=https), tk("get", "k", env_endpoints=https[0])):
        err = p.stderr.decode()
        assert p.returncode == 4, (p.returncode, err)
        assert err.count("\n") == 1 and "TLS handshake" in err, err
    ok(tk("put", "via-http", "1", endpoints=["http://" + e for e in live.endpoints]))
    assert ok(tk("get", "via-http", endpoints=["http://" + live.endpoints[1] + "/"])) == \
        "via-http\n1\n"
    p = tk("get", "k", endpoints=["unix://" + live.endpoints[0]])
    assert p.returncode == 2 and "unsupported scheme" in p.stderr.decode(), p.stderr


def test_bad_usage_exits_2(tk):
    for args in (["frobnicate"], ["get"], ["-w", "yaml", "get", "k"],
                 ["--dial-timeout", "xyz", "get", "k"], ["scan", "a"]):
        p = tk(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.decode().startswith("Error:"), p.stderr


def test_unreachable_endpoint_exits_3(tk):
    dead = f"127.0.0.1:{testing.free_port()}"
    p = tk("--command-timeout", "1s", "--dial-timeout", "200ms", "get", "k", endpoints=[dead])
    assert p.returncode == 3, p.stderr
    p = tk("--command-timeout", "1s", "endpoint", "health", endpoints=[dead])
    assert p.returncode == 3


def test_refused_endpoints_fail_promptly_with_one_line_naming_them(tk):
    dead = [f"127.0.0.1:{testing.free_port()}" for _ in range(2)]
    start = time.monotonic()
    p = tk("--command-timeout", "10s", "put", "k", "v", endpoints=dead)
    took = time.monotonic() - start
    assert p.returncode == 3, p.stderr
    err = p.stderr.decode()
    assert err.startswith("Error: Unavailable: could not reach") and err.count("\n") == 1, err
    assert all(d in err for d in dead), err
    assert took < 5.0, f"{took:.1f}s: refused connections must not wait out the 10 s deadline"


def test_empty_key_and_oversized_value_are_bad_usage(tk):
    for args in (["put", "", "v"], ["get", ""], ["del", ""]):
        p = tk(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert "key must not be empty" in p.stderr.decode(), p.stderr
    start = time.monotonic()
    p = tk("--command-timeout", "10s", "put", "big", stdin=b"x" * (1536 * 1024))
    assert p.returncode == 2, p.stderr
    err = p.stderr.decode()
    assert "request too large" in err and err.count("\n") == 1, err  # no retry warnings
    assert time.monotonic() - start < 5.0
    assert ok(tk("put", "big", stdin=b"x" * (1536 * 1024 - 3))) == "OK\n"
    # `get "" --prefix` is every key, as in etcdctl.
    assert "big" in ok(tk("get", "", "--prefix", "--keys-only"))


def test_version_and_help(tk):
    assert ok(tk("--version", endpoints=False)).startswith("tinykv ")
    assert "Exit codes" in ok(tk("--help", endpoints=False))


def test_cli_survives_leader_kill(tk, live):
    ok(tk("put", "before-kill", "1"))
    old = live.leader()
    live.kill(old)
    try:
        live.leader(exclude=[old])
        assert ok(tk("--command-timeout", "10s", "get", "before-kill")) == "before-kill\n1\n"
        ok(tk("--command-timeout", "10s", "put", "after-kill", "2"))
    finally:
        live.restart(old)
