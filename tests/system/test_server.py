"""tinykv-server as a process: flags, config file, bad input, logs, signals, admin RPC."""

import json
import os
import signal
import subprocess
import time

import pytest

import tinykv
from tinykv import testing


@pytest.fixture(scope="module")
def server_bin():
    try:
        return testing.find_server_binary()
    except FileNotFoundError as e:
        if os.environ.get("TINYKV_REQUIRE_SYSTEM"):
            pytest.fail(str(e))
        pytest.skip(str(e))


def run(args, timeout=30):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def one_line_error(p) -> str:
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"want one line on stderr, got: {p.stderr!r}"
    assert lines[0].startswith("tinykv-server: error: "), lines[0]
    return lines[0]


def test_help_and_version_exit_zero(server_bin):
    p = run([server_bin, "--help"])
    assert p.returncode == 0
    for flag in ("--id", "--data-dir", "--listen-client", "--listen-peer", "--initial-cluster",
                 "--tick-ms", "--election-ticks", "--heartbeat-ticks", "--snapshot-threshold",
                 "--log-level", "--log-format", "--enable-fault-injection", "--io-threads",
                 "--config"):
        assert flag in p.stdout, flag
    p = run([server_bin, "--version"])
    assert p.returncode == 0 and "tinykv-server" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["--id", "1", "--data-dir", "X", "--bogus-flag"], "bogus"),
    (["--bogus-flag"], "bogus"),            # a typo is reported before what is missing
    (["--data-dir", "X"], "--id"),
    (["--id", "0", "--data-dir", "X"], "--id"),
    (["--id", "1"], "--data-dir"),
    (["--id", "abc", "--data-dir", "X"], "--id"),
    (["--id", "4", "--data-dir", "X", "--initial-cluster", "1=127.0.0.1:1,2=127.0.0.1:2"],
     "--initial-cluster"),
    (["--id", "1", "--data-dir", "X", "--listen-client", "nonsense"], "--listen-client"),
    (["--id", "1", "--data-dir", "X", "--log-format", "xml"], "--log-format"),
    (["--id", "1", "--data-dir", "X", "--log-level", "loud"], "log"),
    (["--id", "1", "--data-dir", "X", "--election-ticks", "1", "--heartbeat-ticks", "1"],
     "--election-ticks"),
])
def test_bad_flags_exit_2_with_one_line(server_bin, tmp_path, args, needle):
    args = [str(tmp_path / "d") if a == "X" else a for a in args]
    p = run([server_bin, *args])
    assert p.returncode == 2, p.stderr
    assert needle in one_line_error(p)


def test_unusable_data_dir_exits_1_with_one_line(server_bin, tmp_path):
    f = tmp_path / "file"
    f.write_text("not a directory")
    p = run([server_bin, "--id", "1", "--data-dir", str(f)])
    assert p.returncode == 1, p.stderr
    assert "not a directory" in one_line_error(p)


def test_address_in_use_exits_1(server_bin, tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = run([server_bin, "--id", "1", "--data-dir", str(tmp_path / "d"),
                 "--listen-client", f"127.0.0.1:{port}",
                 "--listen-peer", f"127.0.0.1:{testing.free_port()}"])
    assert p.returncode == 1, p.stderr
    assert "--listen-client" in p.stderr.splitlines()[-1]


def start_single(server_bin, tmp_path, *extra, log_format="text"):
    port = testing.free_port()
    cmd = [server_bin, "--id", "1", "--data-dir", str(tmp_path / "d"),
           "--listen-client", f"127.0.0.1:{port}",
           "--listen-peer", f"127.0.0.1:{testing.free_port()}",
           "--tick-ms", "20", "--log-format", log_format, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    endpoint = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            st = tinykv._core.prod.admin_status(endpoint, timeout=1.0)
            if st["role"] == "leader":
                return proc, endpoint
        except tinykv.Error:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"single node did not become leader: {err}")
        time.sleep(0.05)


def test_single_node_sigterm_exits_zero_with_greppable_shutdown_lines(server_bin, tmp_path):
    proc, endpoint = start_single(server_bin, tmp_path)
    try:
        st = tinykv._core.prod.admin_status(endpoint)
        assert st["id"] == 1 and st["leader"] == 1 and st["term"] >= 1
        assert st["fault_injection"] is False
        assert st["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "node=1 ready client=" in err
    assert "node=1 shutdown signal=SIGTERM" in err
    assert "node=1 shutdown step=drain done" in err
    assert "node=1 shutdown step=stop done" in err
    assert "node=1 exited cleanly" in err


def test_restart_from_existing_data_dir(server_bin, tmp_path):
    for _ in range(2):
        proc, endpoint = start_single(server_bin, tmp_path)
        term = tinykv._core.prod.admin_status(endpoint)["term"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "shutdown signal=SIGINT" in err
    assert term >= 2, "the second start must have restored the term from disk"


def test_json_log_format_writes_one_object_per_line(server_bin, tmp_path):
    proc, endpoint = start_single(server_bin, tmp_path, log_format="json")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines
    for ln in lines:
        obj = json.loads(ln)
        assert {"ts", "level", "logger", "msg"} <= obj.keys()
    # Typed fields, not text inside msg (logging.h).
    assert any(json.loads(ln)["msg"] == "ready" and json.loads(ln)["node"] == 1 for ln in lines)


def json_lines(node: testing.Node) -> list[dict]:
    """Every whole line of a node's log, each parsed (a line that is not JSON fails the test);
    a last line still being written is left for the next read."""
    text = node.log_path.read_text()
    whole = text[:text.rfind("\n") + 1]
    return [json.loads(ln) for ln in whole.splitlines() if ln.strip()]


def test_json_logs_of_a_cluster_carry_node_and_term_fields(server_bin, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "c", server_bin=server_bin,
                         extra_args=["--log-format", "json"]) as c:
        lead = c.leader()
        c.client().put(b"k", b"v")
        lines = json_lines(c.nodes[lead])
        won = [o for o in lines if o["msg"] == "became leader"]
        assert won and won[-1]["node"] == lead and isinstance(won[-1]["term"], int), won
        assert won[-1]["term"] >= 1 and won[-1]["logger"] == "raft"
        started = [o for o in lines if o["msg"] == "started" and o["logger"] == "server"]
        assert started and started[0]["node"] == lead and started[0]["fault_injection"] is True
        # A new leader: every survivor warns with the old and the new one and the term.
        c.kill(lead)
        c.leader(exclude=[lead])
        for i in c.nodes:
            if i == lead:
                continue
            testing.wait_until(
                lambda: any(o["msg"] == "leader changed" and o["from"] == lead
                            and o["to"] != lead and o["node"] == i and o["term"] >= 2
                            and o["level"] == "warning" for o in json_lines(c.nodes[i])),
                timeout=10, what=f"node {i} logs the leader change")


def wait_serving(proc, endpoint: str, timeout: float = 30) -> dict:
    """Waits until the server `proc` answers AdminStatus at `endpoint`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return tinykv._core.prod.admin_status(endpoint, timeout=1.0)
        except tinykv.Error:
            assert proc.poll() is None, f"exited with {proc.returncode}"
            assert time.monotonic() < deadline, f"{endpoint} did not answer in {timeout}s"
            time.sleep(0.05)


def test_config_file_sets_flags_and_command_line_wins(server_bin, tmp_path):
    port = testing.free_port()
    cfg = tmp_path / "server.toml"
    cfg.write_text(f'id = 1\ndata-dir = "{tmp_path / "d"}"\n'
                   f'listen-client = "127.0.0.1:{port}"\n'
                   f'listen-peer = "127.0.0.1:{testing.free_port()}"\n'
                   'tick-ms = 20\nlog-format = "xml"\n')
    p = run([server_bin, "--config", str(cfg)])
    assert p.returncode == 2 and "--log-format" in one_line_error(p)
    proc = subprocess.Popen([server_bin, "--config", str(cfg), "--log-format", "json"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_serving(proc, f"127.0.0.1:{port}")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    json.loads(err.splitlines()[0])


@pytest.mark.parametrize("line,where,needle", [
    ('log-levle = "debug"', "unknown key 'log-levle'", "did you mean 'log-level'"),
    ("this is not a setting", "expected key = value", "'this is not a setting'"),
    ("[server]", "section headers are not supported", "[server]"),
    ('tick-ms = "fast"', "tick-ms: expected an integer", "'fast'"),
    ("enable-fault-injection = maybe", "enable-fault-injection: expected true or false",
     "'maybe'"),
    ("id = 2", "id: given twice (first on line 1)", "id"),
    ("name = 2", "name: sets the same setting as id on line 1", "name"),
])
def test_config_file_refuses_what_it_cannot_read_naming_file_line_and_key(
        server_bin, tmp_path, line, where, needle):
    # A half-read config file would start a server its operator did not configure:
    # every line must be understood, else exit 2 naming the file, the line and the key.
    cfg = tmp_path / "server.toml"
    cfg.write_text(f'id = 1\ndata-dir = "{tmp_path / "d"}"\n# a comment\n{line}\n'
                   'log-level = "info"\n')
    p = run([server_bin, "--config", str(cfg)])
    assert p.returncode == 2, p.stderr
    msg = one_line_error(p)
    assert f"{cfg}:4: {where}" in msg, msg
    assert needle in msg, msg
    assert not (tmp_path / "d").exists(), "nothing may be touched before the file is read"


def test_settings_come_from_the_environment_below_the_file_and_the_flags(server_bin, tmp_path):
    # TINYKV_<FLAG> sets what neither a flag nor the config file sets (`member add` prints
    # these variables); the file wins over the environment, a flag over both.
    port = testing.free_port()
    cfg = tmp_path / "server.toml"
    cfg.write_text('log-format = "json"\n')
    env = {**os.environ, "TINYKV_ID": "1", "TINYKV_DATA_DIR": str(tmp_path / "d"),
           "TINYKV_LISTEN_CLIENT": f"127.0.0.1:{port}",
           "TINYKV_LISTEN_PEER": f"127.0.0.1:{testing.free_port()}",
           "TINYKV_LOG_FORMAT": "xml", "TINYKV_TICK_MS": "20", "TINYKV_LOG_LEVEL": "loud"}
    proc = subprocess.Popen([server_bin, "--config", str(cfg), "--log-level", "info"], env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert wait_serving(proc, f"127.0.0.1:{port}")["id"] == 1
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    json.loads(err.splitlines()[0])  # log-format from the file, not the environment's "xml"
    # A bad value from the environment is a bad setting like any other.
    p = subprocess.run([server_bin], env={**env, "TINYKV_TICK_MS": "soon"}, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "--tick-ms" in one_line_error(p), p.stderr


@pytest.mark.parametrize("flag", ["--listen-client", "--listen-peer"])
def test_https_listen_addresses_need_their_tls_flags(server_bin, tmp_path, flag):
    # Never a silent downgrade: https:// without the port's certificate is refused.
    p = run([server_bin, "--id", "1", "--data-dir", str(tmp_path / "d"), flag,
             "https://127.0.0.1:2379"])
    assert p.returncode == 2, p.stderr
    msg = one_line_error(p)
    assert flag in msg and "asks for TLS, but" in msg, msg


def test_fault_injection_is_off_unless_enabled(server_bin, tmp_path):
    proc, endpoint = start_single(server_bin, tmp_path)
    try:
        with pytest.raises(tinykv.NotSupportedError):
            tinykv._core.prod.admin_set_faults(endpoint, [2])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_partition_isolates_the_leader_and_heal_reunites(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "c") as c:
        old = c.leader()
        others = [i for i in c.nodes if i != old]
        c.partition([[old], others])
        new = c.leader(exclude=[old], timeout=30)
        assert new != old
        assert c.status(new)["term"] > c.status(old)["term"] - 1
        c.heal()
        deadline = time.monotonic() + 30
        while c.status(old)["role"] == "leader" or c.status(old)["leader"] != c.leader():
            assert time.monotonic() < deadline, c.statuses()
            time.sleep(0.05)
