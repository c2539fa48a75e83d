"""A data directory records whose it is: started under another member id it is refused.

tinykv-server writes <data-dir>/identity (member id, cluster id) the first time it opens a
data dir, and checks it at every later start (etcd refuses a data dir bootstrapped as
another member the same way). The refusal is one line on stderr and exit code 1.
"""

import subprocess

import pytest

import tinykv
from tinykv import testing


@pytest.fixture(scope="module")
def server_bin(system_ready):
    return testing.find_server_binary()


def start(server_bin, data_dir, member_id, *extra):
    cp, pp = testing.free_port(), testing.free_port()
    start.client_address = f"127.0.0.1:{cp}"
    return subprocess.Popen(
        [server_bin, "--id", str(member_id), "--data-dir", str(data_dir),
         "--listen-client", f"127.0.0.1:{cp}", "--listen-peer", f"127.0.0.1:{pp}",
         "--initial-cluster", f"{member_id}=127.0.0.1:{pp}", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def stop(p):
    p.terminate()
    p.communicate(timeout=20)  # also closes the pipes


def test_data_dir_started_as_another_member_is_refused(server_bin, tmp_path):
    d = tmp_path / "node1"
    p = start(server_bin, d, 1)
    try:
        testing.wait_until(lambda: (d / "identity").exists(), timeout=20,
                           what="the identity record")
    finally:
        stop(p)
    record = (d / "identity").read_text()
    assert "member 1\n" in record, record
    p = start(server_bin, d, 2)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, (p.returncode, err)
    lines = [ln for ln in err.splitlines() if ln.strip() and "error" in ln]
    assert len(lines) == 1, err
    assert "belongs to member 1" in lines[0] and "not to member 2" in lines[0], lines[0]
    # The same dir under its own id still starts, and reports its identity.
    p = start(server_bin, d, 1)
    try:
        with tinykv.Client([start.client_address], timeout=2) as cl:
            def status():
                try:
                    return cl.status(start.client_address)
                except tinykv.Error:
                    assert p.poll() is None, p.communicate()[1]
                    return None
            st = testing.wait_until(status, timeout=20, what="the restarted server's status")
        assert st["id"] == 1 and st["cluster_id"] != 0, st
    finally:
        stop(p)


def test_damaged_identity_record_is_corruption_not_a_new_identity(server_bin, tmp_path):
    d = tmp_path / "node1"
    p = start(server_bin, d, 1)
    try:
        testing.wait_until(lambda: (d / "identity").exists(), timeout=20,
                           what="the identity record")
    finally:
        stop(p)
    text = (d / "identity").read_text()
    (d / "identity").write_text(text.replace("member 1", "member 2"))
    p = start(server_bin, d, 2)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 1, err
    assert "identity" in err and "Corruption" in err, err
