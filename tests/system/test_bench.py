"""tinykv-bench drives TinyKV (client protocol), etcd (v3 gRPC) and etcd's JSON gateway with
the same machinery, and TinyKV's transactions through the phase 5 client (tinykv-blocking).
Only correctness is checked here (requests succeed, the RESULT line adds up, the writes
are really there, the CPU accounting reads the processes, --rate paces the run,
transactions abort under contention and lose no update, every watcher receives every put
once, lease keep-alives renew leases that are revoked afterwards); speed is shown by
scripts/bench-etcd.sh, scripts/bench-txn.sh and scripts/bench-watch.sh, never asserted."""

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import tinykv
from tinykv import testing


def bench_binary() -> str:
    env = os.environ.get("TINYKV_BENCH_BIN")
    if env:
        return env
    packaged = Path(tinykv.__file__).resolve().parent / "bin" / "tinykv-bench"
    if not packaged.exists():
        pytest.skip("tinykv-bench is not built")
    return str(packaged)


def parse_result(stdout: str) -> dict:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))
    return dict(kv.split("=", 1) for kv in line.split()[1:])


def run_bench(*args) -> dict:
    p = subprocess.run([bench_binary(), *args], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Latency distribution" in p.stdout or "floor" in p.stdout
    r = parse_result(p.stdout)
    r["stdout"] = p.stdout
    return r


def assert_sane(r: dict, total: int) -> None:
    """A run that completed: every request answered, no errors, numbers that add up."""
    assert r["errors"] == "0" and int(r["total"]) == total
    assert float(r["ops_per_s"]) > 0 and float(r["seconds"]) > 0
    assert 0 < float(r["p50_ms"]) <= float(r["p99_ms"]) <= float(r["max_ms"])
    assert float(r["gen_cpu_s"]) > 0 and float(r["gen_cpu_us_per_op"]) > 0


def server_pids(cluster) -> str:
    return ",".join(str(n.proc.pid) for n in cluster.nodes.values())


@pytest.mark.parametrize("op,extra", [("put", []), ("get", ["--consistency", "l"]),
                                      ("get", ["--consistency", "s"]),
                                      ("mixed", ["--read-ratio", "0.5"])])
def test_bench_against_tinykv(cluster, op, extra):
    r = run_bench(op, "--endpoints", ",".join(cluster.endpoints), "--clients", "8",
                  "--threads", "2", "--conns", "2", "--total", "400", "--key-space-size", "100",
                  "--val-size", "256", "--server-pids", server_pids(cluster), *extra)
    assert_sane(r, 400)
    assert r["backend"] == "tinykv" and r["clients"] == "8" and r["threads"] == "2"
    # The servers' CPU was read from /proc (clock ticks of 10 ms: 400 serializable gets
    # may cost less than one; 400 replicated, fsynced puts never do).
    assert 0 <= float(r["server_cpu_us_per_op"]) < 1e6
    if op == "put":
        assert float(r["server_cpu_us_per_op"]) > 0
        cl = cluster.client()
        kvs = cl.scan()
        assert 1 <= len(kvs) <= 100
        assert all(len(v) == 256 for _, v in kvs)


def assert_txn_sane(r: dict, total: int, keys: int) -> None:
    """A txn run: every attempt committed or aborted (none failed), numbers that add up."""
    assert r["backend"] == "tinykv-blocking" and r["errors"] == "0"
    assert int(r["total"]) == total and int(r["keys_per_op"]) == keys
    commits, aborts = int(r["succeeded"]), int(r["aborts"])
    assert commits > 0 and commits + aborts == total
    assert float(r["abort_rate"]) == pytest.approx(aborts / total, abs=1e-4)
    assert float(r["ops_per_s"]) > 0 and 0 < float(r["p50_ms"]) <= float(r["p99_ms"])
    assert r["threads"] == r["clients"]  # one thread per logical client
    assert f"Committed:\t{commits}\n" in r["stdout"], r["stdout"]


def test_bench_txn_low_contention_writes_every_key(cluster):
    # 4 keys of 10000 per transaction, blind writes: conflicts are rare and none is
    # asserted; what is asserted is that the transactions really wrote their keys.
    r = run_bench("txn", "--endpoints", ",".join(cluster.endpoints), "--clients", "8",
                  "--total", "200", "--txn-keys", "4", "--key-space", "10000",
                  "--val-size", "100", "--server-pids", server_pids(cluster))
    assert_txn_sane(r, 200, 4)
    assert r["op"] == "txn" and r["key_space"] == "10000"
    assert float(r["server_cpu_us_per_op"]) > 0
    kvs = cluster.client().scan()
    # Every committed transaction wrote 4 distinct keys, some shared with others.
    assert 4 <= len(kvs) <= 4 * int(r["succeeded"])
    assert all(v == b"v" * 100 for _, v in kvs)


def test_bench_txn_high_contention_aborts_and_loses_no_update(cluster):
    # Every transaction reads both keys of a key space of 2 and writes each a counter one
    # above what it read. 8 clients start together, so transactions overlap: of two that
    # overlap, snapshot isolation lets one commit and the other abort (first committer
    # wins), so some abort. And no update is lost: each key's counter is the number of
    # commits exactly -- a lost update (a conflict not detected, or an abort counted as a
    # commit) makes it differ.
    r = run_bench("txn", "--endpoints", ",".join(cluster.endpoints), "--clients", "8",
                  "--total", "200", "--txn-keys", "2", "--key-space", "2",
                  "--read-modify-write", "--val-size", "16")
    assert_txn_sane(r, 200, 2)
    assert r["op"] == "txn-rmw"
    assert int(r["aborts"]) > 0, r["stdout"]
    kvs = dict(cluster.client().scan())
    assert sorted(kvs) == [b"00000000", b"00000001"]
    for v in kvs.values():
        assert len(v) == 16 and int(v.rstrip(b"v")) == int(r["succeeded"]), (v, r["stdout"])


def test_bench_single_key_puts_on_the_blocking_client(cluster):
    # The baseline bench-txn.sh compares transactions with: the same client, plain puts.
    r = run_bench("put", "--backend", "tinykv-blocking", "--endpoints",
                  ",".join(cluster.endpoints), "--clients", "8", "--conns", "2",
                  "--total", "400", "--key-space", "100")
    assert_sane(r, 400)
    assert r["backend"] == "tinykv-blocking" and r["threads"] == "8"
    assert r["aborts"] == "0" and r["succeeded"] == "400" and r["keys_per_op"] == "1"
    assert 1 <= len(cluster.client().scan()) <= 100


def test_bench_many_logical_clients_on_one_thread(cluster):
    # 256 logical clients, one generator thread, one connection: coroutines, not threads.
    r = run_bench("put", "--endpoints", ",".join(cluster.endpoints), "--clients", "256",
                  "--threads", "1", "--conns", "1", "--total", "1024", "--key-space-size", "512")
    assert_sane(r, 1024)
    assert r["server_cpu_us_per_op"] == "-1.00"  # no --server-pids given


def test_bench_follows_the_leader_from_a_follower_endpoint(cluster):
    leader = cluster.leader()
    follower = next(i for i in cluster.nodes if i != leader)
    r = run_bench("put", "--endpoints", cluster.endpoint(follower), "--clients", "4",
                  "--total", "100")
    assert_sane(r, 100)
    # The Status sweep found the leader before the run: every connection goes to it.
    assert f"to the leader ({cluster.endpoint(leader)})" in r["stdout"], r["stdout"]


def test_bench_floor(cluster, tmp_path):
    r = run_bench("floor", "--dir", str(tmp_path), "--endpoints", cluster.endpoints[0],
                  "--seconds", "0.3", "--total", "50")
    assert r["op"] == "floor" and float(r["fsync_per_s"]) > 0
    assert 0 < float(r["rtt_p50_ms"]) <= float(r["rtt_p99_ms"])
    assert float(r["floor_ms"]) >= float(r["fsync_p50_ms"])
    assert not (tmp_path / "fsync_probe").exists()


def assert_paced(r: dict, rate: float, total: int) -> None:
    """An open-loop run at `rate`: it took at least the schedule's length (request n is
    not sent before n / rate s), so the achieved rate cannot exceed the offered one; the
    lower bound is generous, for a loaded 2-core machine."""
    assert float(r["offered_ops_per_s"]) == rate
    achieved = float(r["achieved_ops_per_s"])
    assert achieved == float(r["ops_per_s"])
    assert float(r["seconds"]) >= (total - 1) / rate * 0.999, r["stdout"]
    assert rate * 0.4 <= achieved <= rate * 1.01, r["stdout"]
    assert 0 <= int(r["late"]) <= total and float(r["max_late_ms"]) >= 0
    assert f"{rate:.1f} requests/s offered" in r["stdout"], r["stdout"]


@pytest.mark.parametrize("op,extra", [("put", []), ("mixed", ["--read-ratio", "0.5"])])
def test_bench_open_loop_against_tinykv(cluster, op, extra):
    # 400 requests at 200/s: a 2 s schedule, which a closed loop of 8 clients would finish
    # several times faster -- so the run's length shows the pacing.
    r = run_bench(op, "--endpoints", ",".join(cluster.endpoints), "--clients", "8",
                  "--threads", "2", "--conns", "2", "--total", "400", "--rate", "200",
                  "--key-space-size", "100", *extra)
    assert_sane(r, 400)
    assert_paced(r, 200.0, 400)


def test_bench_closed_loop_reports_no_offered_rate(cluster):
    r = run_bench("put", "--endpoints", ",".join(cluster.endpoints), "--clients", "4",
                  "--total", "100")
    assert_sane(r, 100)
    assert r["offered_ops_per_s"] == "0.0" and r["late"] == "0"
    assert r["achieved_ops_per_s"] == r["ops_per_s"]
    assert "offered" not in r["stdout"].split("RESULT")[0]


def test_bench_rejects_bad_rates():
    for args, why in ((["put", "--rate", "-5"], "--rate must be a finite number >= 0"),
                      (["put", "--rate", "nan"], "--rate must be a finite number >= 0"),
                      (["put", "--rate", "500", "--total", "100"], "one second of load")):
        p = subprocess.run([bench_binary(), *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2 and why in p.stderr, (args, p.stdout, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_bench_rejects_bad_flags(tmp_path):
    for args in (["put", "--clients", "0"], ["get", "--consistency", "x"],
                 ["put", "--backend", "redis"], ["put", "--threads", "0"], ["floor"],
                 ["floor", "--dir", str(tmp_path / "missing")],
                 ["put", "--server-pids", "abc"], ["txn", "--txn-keys", "0"],
                 ["txn", "--txn-keys", "3", "--key-space", "2"], ["txn", "--backend", "etcd"],
                 ["watch", "--backend", "etcd-http"], ["watch", "--watchers", "-1"],
                 ["lease", "--backend", "tinykv-blocking"], ["lease", "--lease-ttl", "1"]):
        p = subprocess.run([bench_binary(), *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, (args, p.stdout, p.stderr)


@pytest.mark.parametrize("backend", ["tinykv", "tinykv-blocking", "etcd"])
def test_bench_unreachable_store_fails_fast_with_one_line(backend):
    port = testing.free_port()
    start = time.monotonic()
    p = subprocess.run([bench_binary(), "put", "--backend", backend, "--endpoints",
                        f"127.0.0.1:{port}", "--timeout-ms", "2000"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert p.stderr.startswith("tinykv-bench: error: Unavailable: ")
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert time.monotonic() - start < 60


def assert_watch_sane(r: dict, watchers: int, puts: int, streams: int) -> None:
    """A watch run: every put acknowledged and delivered once to every watcher."""
    assert_sane(r, puts)
    assert r["op"] == "watch" and int(r["watchers"]) == watchers
    assert int(r["watch_streams"]) == streams
    assert int(r["events"]) == watchers * puts, r["stdout"]
    assert r["missing"] == r["duplicates"] == r["foreign"] == "0", r["stdout"]
    if watchers == 0:
        assert float(r["events_per_s"]) == 0
        return
    assert float(r["events_per_s"]) > 0 and float(r["watch_seconds"]) > 0
    # After the ack <= after the send for every event, so for the quantiles too.
    assert 0 <= float(r["watch_p50_ms"]) <= float(r["watch_p99_ms"]) <= float(r["watch_max_ms"])
    assert float(r["watch_p50_ms"]) <= float(r["watch_send_p50_ms"])
    assert float(r["watch_send_p50_ms"]) <= float(r["watch_send_p99_ms"])
    assert 0 <= int(r["early"]) <= int(r["events"])
    assert "Delivery latency, after the put's ack" in r["stdout"]


def test_bench_watch_against_tinykv(cluster):
    # One stream per watcher (TinyKV's protocol), over 2 connections; --watch-streams is
    # etcd's and does not apply.
    r = run_bench("watch", "--endpoints", ",".join(cluster.endpoints), "--clients", "4",
                  "--total", "60", "--watchers", "3", "--watch-streams", "2",
                  "--drain-ms", "20000", "--server-pids", server_pids(cluster))
    assert_watch_sane(r, 3, 60, 3)
    assert "3 Watch streams (one per watcher) over 2 multiplexed connections" in r["stdout"]
    # The puts wrote their own keys under the run's prefix.
    kvs = cluster.client().scan()
    assert len(kvs) == 60 and all(k.startswith(b"bench-watch/") for k, _ in kvs)


def test_bench_watch_without_watchers_is_the_plain_puts(cluster):
    r = run_bench("watch", "--endpoints", ",".join(cluster.endpoints), "--clients", "4",
                  "--total", "40", "--watchers", "0")
    assert_watch_sane(r, 0, 40, 0)


def test_bench_lease_keep_alives_against_tinykv(cluster):
    r = run_bench("lease", "--endpoints", ",".join(cluster.endpoints), "--clients", "4",
                  "--total", "200", "--server-pids", server_pids(cluster))
    assert_sane(r, 200)
    assert r["op"] == "lease-keepalive" and r["succeeded"] == "200"
    assert cluster.client().leases() == []  # granted before the run, revoked after it


def test_bench_reports_a_dead_server_pid(cluster):
    dead = subprocess.Popen(["true"])
    dead.wait()
    p = subprocess.run([bench_binary(), "put", "--endpoints", ",".join(cluster.endpoints),
                        "--total", "10", "--server-pids", str(dead.pid)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and f"no process {dead.pid}" in p.stderr, p.stderr


@pytest.fixture
def etcd(tmp_path):
    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.path.exists(binary):
        pytest.skip("etcd-server is not installed (scripts/install-deps.sh installs it)")
    client, peer = testing.free_port(), testing.free_port()
    proc = subprocess.Popen(
        [binary, "--name", "e1", "--data-dir", str(tmp_path / "etcd"),
         "--listen-client-urls", f"http://127.0.0.1:{client}",
         "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"e1=http://127.0.0.1:{peer}", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{client}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "etcd did not start"
                time.sleep(0.1)
        yield f"127.0.0.1:{client}", url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def etcd_key_count(url: str) -> int:
    """Every key in etcd, counted through its JSON gateway (independent of the backend)."""
    body = json.dumps({"key": base64.b64encode(b"\0").decode(),
                       "range_end": base64.b64encode(b"\0").decode(), "count_only": True})
    req = urllib.request.Request(url + "/v3/kv/range", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    return int(json.loads(urllib.request.urlopen(req, timeout=5).read()).get("count", 0))


def etcd_value(url: str, key: bytes) -> bytes | None:
    body = json.dumps({"key": base64.b64encode(key).decode()})
    req = urllib.request.Request(url + "/v3/kv/range", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    kvs = json.loads(urllib.request.urlopen(req, timeout=5).read()).get("kvs", [])
    return base64.b64decode(kvs[0]["value"]) if kvs else None


def test_bench_against_etcd_grpc(etcd):
    endpoint, url, pid = etcd
    assert etcd_key_count(url) == 0
    r = run_bench("put", "--backend", "etcd", "--endpoints", endpoint, "--clients", "16",
                  "--threads", "2", "--conns", "2", "--total", "300", "--key-space-size", "50",
                  "--key-size", "8", "--val-size", "100", "--server-pids", str(pid))
    assert_sane(r, 300)
    assert r["backend"] == "etcd" and 0 < float(r["server_cpu_us_per_op"]) < 1e6
    # The puts really landed in etcd, with the generator's keys and values.
    assert 1 <= etcd_key_count(url) <= 50
    assert all(etcd_value(url, b"%08d" % i) in (None, b"v" * 100) for i in range(50))
    for consistency in ("l", "s"):
        r = run_bench("get", "--backend", "etcd", "--endpoints", endpoint, "--clients", "16",
                      "--total", "300", "--key-space-size", "50", "--consistency", consistency)
        assert_sane(r, 300)
        assert r["op"] == f"get-{consistency}"
    assert etcd_key_count(url) == 50  # the get run wrote the whole key space first


def test_bench_against_etcd_gateway(etcd):
    endpoint, url, _ = etcd
    r = run_bench("put", "--backend", "etcd-http", "--endpoints", endpoint, "--clients", "4",
                  "--total", "200", "--key-space-size", "50", "--key-size", "8")
    assert_sane(r, 200)
    assert r["backend"] == "etcd-http"
    assert 1 <= etcd_key_count(url) <= 50
    r = run_bench("get", "--backend", "etcd-http", "--endpoints", endpoint, "--clients", "4",
                  "--total", "200", "--key-space-size", "50", "--consistency", "s")
    assert_sane(r, 200)


@pytest.mark.parametrize("backend", ["etcd", "etcd-http"])
def test_bench_open_loop_against_etcd(etcd, backend):
    endpoint, _, _ = etcd
    r = run_bench("put", "--backend", backend, "--endpoints", endpoint, "--clients", "4",
                  "--total", "200", "--rate", "100", "--key-space-size", "50")
    assert_sane(r, 200)
    assert_paced(r, 100.0, 200)


def test_bench_watch_against_etcd(etcd):
    # 5 watchers multiplexed on 2 gRPC streams, as etcd's watch-latency does.
    endpoint, url, pid = etcd
    r = run_bench("watch", "--backend", "etcd", "--endpoints", endpoint, "--clients", "4",
                  "--total", "60", "--watchers", "5", "--watch-streams", "2",
                  "--drain-ms", "20000", "--server-pids", str(pid))
    assert_watch_sane(r, 5, 60, 2)
    assert "5 watchers multiplexed on 2 Watch streams" in r["stdout"]
    assert etcd_key_count(url) == 60


def test_bench_lease_keep_alives_against_etcd(etcd):
    endpoint, url, _ = etcd
    r = run_bench("lease", "--backend", "etcd", "--endpoints", endpoint, "--clients", "4",
                  "--total", "200")
    assert_sane(r, 200)
    assert r["op"] == "lease-keepalive" and r["backend"] == "etcd"
    body = json.dumps({}).encode()
    req = urllib.request.Request(url + "/v3/lease/leases", data=body,
                                 headers={"Content-Type": "application/json"})
    assert json.loads(urllib.request.urlopen(req, timeout=5).read()).get("leases", []) == []
