"""Phase 2 milestone: the demo KV server and client over TinyKV's RPC layer.

Servers bind 127.0.0.1 port 0 only. Subprocess servers are always killed and reaped.
"""

import socket
import threading
import time

import pytest

import tinykv
from tinykv import net


@pytest.fixture
def server():
    with net.DemoServer(port=0) as s:
        yield s


@pytest.fixture
def client(server):
    with net.Client(server.address, timeout=5.0) as c:
        yield c


@pytest.fixture
def server_process():
    procs = []

    def start(*args):
        proc, address = net.start_server_process(0, *args)
        procs.append(proc)
        return proc, address

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(10)
        p.stdout.close()
        p.stderr.close()


def test_port_zero_reports_the_bound_port(server):
    assert server.port > 0
    assert server.address == f"127.0.0.1:{server.port}"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass


def test_put_get_delete_round_trip(client):
    assert client.get(b"missing") is None
    client.put(b"k1", b"v1")
    client.put(b"k2", b"v2", sync=True)
    assert client.get(b"k1") == b"v1"
    client.put(b"k1", b"v1b")
    assert client.get(b"k1") == b"v1b"
    client.delete(b"k1")
    assert client.get(b"k1") is None
    assert client.get(b"k2") == b"v2"


def test_binary_keys_and_values_survive_the_wire(client):
    key, value = b"\x00a\xff\x00", bytes(range(256)) * 4
    client.put(key, value)
    assert client.get(key) == value


def test_scan_streams_a_range_in_key_order(client):
    keys = [b"key%05d" % i for i in range(1500)]  # several server-side pages
    for k in reversed(keys):
        client.put(k, k[::-1])
    got = client.scan()
    assert [k for k, _ in got] == keys
    assert all(v == k[::-1] for k, v in got)
    assert [k for k, _ in client.scan(b"key00010", b"key00013")] == keys[10:13]
    assert [k for k, _ in client.scan(b"key00100", limit=300)] == keys[100:400]
    assert client.scan(b"zzz") == []


def test_deadline_raises_timeout_error_while_the_server_is_slow(client):
    start = time.monotonic()
    with pytest.raises(tinykv.TimeoutError):
        client.echo(b"slow", delay_ms=3000, timeout=0.2)
    assert time.monotonic() - start < 2.0
    assert client.echo(b"fast") == b"fast"  # the connection is still usable


def test_blocking_calls_release_the_gil(client):
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    try:
        client.echo(b"wait", delay_ms=400)
    finally:
        stop.set()
        t.join()
    assert ticks > 20  # the spinner ran while the call was waiting


def test_concurrent_python_threads_share_one_client(client):
    errors = []

    def worker(i):
        try:
            for j in range(50):
                k = b"t%d-%d" % (i, j)
                client.put(k, k)
                assert client.get(k) == k
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_graceful_shutdown_lets_an_in_flight_call_finish():
    s = net.DemoServer(port=0)
    c = net.Client(s.address, timeout=10.0)
    result = {}

    def call():
        try:
            result["value"] = c.echo(b"draining", delay_ms=400)
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=call)
    t.start()
    deadline = time.monotonic() + 5
    while s.stats()["calls_started"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    s.shutdown(drain_timeout=5.0)
    t.join(10)
    c.close()
    assert result == {"value": b"draining"}


def test_retry_with_backoff_reaches_a_server_that_comes_back():
    first = net.DemoServer(port=0)
    port = first.port
    first.shutdown()
    restarted = {}

    def restart():
        time.sleep(0.3)
        restarted["server"] = net.DemoServer(port=port)

    t = threading.Thread(target=restart)
    t.start()
    with net.Client(f"127.0.0.1:{port}", timeout=10.0, max_attempts=100,
                    initial_backoff=0.02, max_backoff=0.1, seed=7) as c:
        assert c.echo(b"hello again") == b"hello again"
        assert c.stats()["retries"] > 0
    t.join()
    restarted["server"].shutdown()


def test_server_killed_mid_call_gives_a_clear_error_within_the_deadline(server_process):
    proc, address = server_process()
    c = net.Client(address, timeout=3.0, max_attempts=3)
    c.put(b"k", b"v")
    outcome = {}

    def call():
        start = time.monotonic()
        try:
            c.echo(b"never answered", delay_ms=20000)
            outcome["error"] = None
        except Exception as e:  # noqa: BLE001
            outcome["error"] = e
        outcome["elapsed"] = time.monotonic() - start

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.3)  # the call is in flight on the server
    proc.kill()
    t.join(10)
    assert not t.is_alive()
    assert isinstance(outcome["error"], tinykv.UnavailableError), outcome
    assert "lost" in str(outcome["error"]) or "connect" in str(outcome["error"])
    assert outcome["elapsed"] < 3.0 + 0.5
    c.close()


def _read_until_eof(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_garbage_bytes_close_only_that_connection(server_process):
    proc, address = server_process()
    host, port = address.rsplit(":", 1)
    with net.Client(address, timeout=5.0) as c:
        c.put(b"before", b"1")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(b"\x00\x01garbage that is not a TinyKV frame" * 10)
            reply = _read_until_eof(raw)  # the server closes this connection
        frames = net.decode_frames(reply)
        assert len(frames) == 1
        assert frames[0]["kind"] == "error"
        assert frames[0]["request_id"] == 0
        assert frames[0]["error"].startswith("Corruption")
        # Everyone else keeps being served, on the same connection.
        assert c.get(b"before") == b"1"
        c.put(b"after", b"2")
        assert c.get(b"after") == b"2"
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert "closing connection" in err and "bad frame magic" in err


def test_oversized_frame_is_refused_with_resource_exhausted(server):
    header = bytearray(net.encode_frame(net.REQUEST, 1, 104, b""))
    header[16:20] = (0xFFFFFFF0).to_bytes(4, "little")  # claims ~4 GiB
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(bytes(header))
        frames = net.decode_frames(_read_until_eof(raw))
    assert frames[0]["error"].startswith("ResourceExhausted")
    assert server.stats()["protocol_errors"] == 1


def test_frame_helpers_round_trip_and_reject_corruption():
    f = net.encode_frame(net.RESPONSE, 42, 7, b"payload")
    assert len(f) == net.FRAME_HEADER_SIZE + 7
    (d,) = net.decode_frames(f)
    assert (d["kind"], d["request_id"], d["method_id"], d["payload"]) == ("response", 42, 7,
                                                                          b"payload")
    assert d["trace_id"] == 0
    bad = bytearray(f)
    bad[-1] ^= 1
    with pytest.raises(tinykv.CorruptionError, match="checksum"):
        net.decode_frames(bytes(bad))
    # A trace id makes it a version 2 frame: 8 more header bytes, under the checksum.
    t = net.encode_frame(net.REQUEST, 42, 7, b"payload", trace_id=0xC0FFEE)
    assert len(t) == net.FRAME_HEADER_SIZE + 8 + 7 and t[2] == 2
    (d,) = net.decode_frames(t)
    assert (d["trace_id"], d["payload"]) == (0xC0FFEE, b"payload")
    bad = bytearray(t)
    bad[net.FRAME_HEADER_SIZE] ^= 1
    with pytest.raises(tinykv.CorruptionError, match="checksum"):
        net.decode_frames(bytes(bad))


def test_data_dir_uses_the_phase1_engine_or_says_it_is_missing(tmp_path):
    if not net.STORAGE_BACKEND_AVAILABLE:
        with pytest.raises(tinykv.NotSupportedError):
            net.DemoServer(port=0, data_dir=str(tmp_path / "db"))
        return
    with net.DemoServer(port=0, data_dir=str(tmp_path / "db")) as s:
        assert s.backend == "tinykv-storage"
        with net.Client(s.address) as c:
            c.put(b"durable", b"yes", sync=True)
    with net.DemoServer(port=0, data_dir=str(tmp_path / "db")) as s:
        with net.Client(s.address) as c:
            assert c.get(b"durable") == b"yes"


def test_bench_echo_reports_latencies(client):
    r = client.bench_echo(concurrency=4, requests=200, payload_bytes=64)
    assert r["errors"] == 0
    assert r["calls"] == 200
    assert len(r["latencies_us"]) == 200
    assert all(x > 0 for x in r["latencies_us"])
