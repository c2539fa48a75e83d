"""tinykv-bench drives both targets: a TinyKV cluster and (when installed) a real etcd.
Only correctness is checked here (requests succeed, the RESULT line adds up, the writes
are really there); speed is shown by scripts/bench-etcd.sh, not asserted."""

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
    assert "Latency distribution" in p.stdout
    return parse_result(p.stdout)


@pytest.mark.parametrize("op,extra", [("put", []), ("get", ["--consistency", "l"]),
                                      ("get", ["--consistency", "s"]),
                                      ("mixed", ["--read-ratio", "0.5"])])
def test_bench_against_tinykv(cluster, op, extra):
    r = run_bench(op, "--endpoints", ",".join(cluster.endpoints), "--clients", "8",
                  "--conns", "2", "--total", "400", "--key-space-size", "100",
                  "--val-size", "256", *extra)
    assert r["errors"] == "0" and r["total"] == "400" and float(r["ops_per_s"]) > 0
    assert 0 < float(r["p50_ms"]) <= float(r["p99_ms"]) <= float(r["max_ms"])
    if op == "put":
        cl = cluster.client()
        assert len(cl.scan()) >= 1
        assert all(len(v) == 256 for _, v in cl.scan())


def test_bench_rejects_bad_flags():
    p = subprocess.run([bench_binary(), "put", "--clients", "0"], capture_output=True, text=True)
    assert p.returncode != 0
    p = subprocess.run([bench_binary(), "get", "--consistency", "x"], capture_output=True,
                       text=True)
    assert p.returncode != 0


@pytest.fixture
def etcd(tmp_path):
    binary = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.path.exists(binary):
        pytest.skip("etcd-server is not installed")
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
        yield f"127.0.0.1:{client}", url
    finally:
        proc.terminate()
        proc.wait(30)


def test_bench_against_etcd_gateway(etcd):
    endpoint, url = etcd
    r = run_bench("put", "--target", "etcd", "--endpoints", endpoint, "--clients", "4",
                  "--total", "200", "--key-space-size", "50", "--key-size", "8")
    assert r["errors"] == "0" and r["target"] == "etcd"
    # The puts really landed in etcd: count every key with a range over the whole space.
    body = json.dumps({"key": base64.b64encode(b"\0").decode(),
                       "range_end": base64.b64encode(b"\0").decode(), "count_only": True})
    req = urllib.request.Request(url + "/v3/kv/range", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    count = int(json.loads(urllib.request.urlopen(req, timeout=5).read()).get("count", 0))
    assert 1 <= count <= 50
    r = run_bench("get", "--target", "etcd", "--endpoints", endpoint, "--clients", "4",
                  "--total", "200", "--key-space-size", "50", "--consistency", "s")
    assert r["errors"] == "0"
