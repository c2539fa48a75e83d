"""Membership change with real tinykv-server processes, driven through the tinykv CLI
(etcdctl's `member add/promote/remove`) and the Python client.

Scenario (etcd's runtime reconfiguration): a 3-node cluster takes writes; node 4 starts
with --initial-cluster-state existing (no configuration: it must not campaign), is added
as a learner, catches up (serializable read at node 4), is promoted; an original member
is removed and killed; every acknowledged key is still readable, writes still succeed
and `member list` shows the final configuration."""

import json
import time

import pytest

from tinykv import testing
from tinykv.testing import wait_until

from test_cli import cli_binary  # noqa: E402 - same folder (rootdir conftest puts it on path)


def run_cli(endpoints, *args):
    import subprocess
    cmd = [cli_binary(), "--endpoints", ",".join(endpoints), "--command-timeout", "20s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_learner_joins_is_promoted_and_an_original_member_is_removed(cluster):
    c = cluster
    c.leader()
    cl = c.client(timeout=10.0)
    for i in range(100):
        cl.put(f"pre{i:03d}".encode(), f"v{i}".encode())

    node4 = c.add_node(4)
    # With no configuration it never campaigns, however long it waits.
    time.sleep(4 * c.election_timeout)
    st4 = c.status(4)
    assert st4["term"] == 0 and st4["role"] == "follower" and st4["leader"] == 0, st4
    assert st4["applied_index"] == 0, st4

    eps = [c.endpoint(i) for i in (1, 2, 3)]
    r = run_cli(eps, "-w", "json", "member", "add", "4", node4.peer_address, "--learner",
                "--client-addr", node4.endpoint)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    m4 = [m for m in out["members"] if m["id"] == 4]
    assert m4 and m4[0]["is_learner"] and m4[0]["peer_address"] == node4.peer_address, out
    assert m4[0]["client_address"] == node4.endpoint, out

    # The change applied: adding 4 again is refused (AlreadyExists: exit code 4).
    again = run_cli(eps, "member", "add", "4", node4.peer_address, "--learner")
    assert again.returncode == 4 and "already" in again.stderr, (again.returncode, again.stderr)

    # Node 4 catches up: a serializable read at node 4 sees the last key.
    c4 = c.client(endpoints=[node4.endpoint])
    wait_until(lambda: c4.get(b"pre099", serializable=True) == b"v99", 30, "node 4 to catch up")
    assert c.status(4)["role"] == "follower"

    r = run_cli(eps, "member", "promote", "4")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Member 4 promoted in cluster"), r.stdout

    # Remove an original member that is not the leader, then kill it.
    lead = c.leader()
    victim = next(i for i in (1, 2, 3) if i != lead)
    r = run_cli(eps, "member", "remove", str(victim))
    assert r.returncode == 0, r.stderr
    assert f"Member {victim} removed from cluster" in r.stdout
    c.kill(victim)

    remaining = [i for i in (1, 2, 3, 4) if i != victim]
    eps2 = [c.endpoint(i) for i in remaining]
    cl2 = c.client(timeout=10.0, endpoints=eps2)
    for i in range(100):
        assert cl2.get(f"pre{i:03d}".encode()) == f"v{i}".encode()
    for i in range(20):
        cl2.put(f"post{i:02d}".encode(), b"x")
    wait_until(lambda: c4.get(b"post19", serializable=True) == b"x", 20, "node 4 to apply")

    r = run_cli(eps2, "-w", "json", "member", "list")
    assert r.returncode == 0, r.stderr
    members = json.loads(r.stdout)["members"]
    assert sorted(m["id"] for m in members) == sorted(remaining), members
    assert not any(m["is_learner"] for m in members), members
    # The Python client sees the same configuration.
    assert sorted(m["id"] for m in cl2.member_list()) == sorted(remaining)

    # The leader removes itself (through the Python client): it steps down and the two
    # remaining voters elect a new leader that serves reads and writes.
    lead = c.leader(exclude=[victim])
    res = cl2.member_remove(lead)
    assert lead not in [m["id"] for m in res["members"]]
    left = [i for i in remaining if i != lead]
    new_lead = c.leader(exclude=[victim, lead])
    assert new_lead in left
    cl3 = c.client(timeout=10.0, endpoints=[c.endpoint(i) for i in left])
    cl3.put(b"after-leader-removal", b"y")
    assert cl3.get(b"after-leader-removal") == b"y"
    assert cl3.get(b"pre000") == b"v0"


def test_member_commands_report_errors_with_exit_codes(cluster):
    c = cluster
    c.leader()
    eps = c.endpoints
    r = run_cli(eps, "member", "promote", "9")
    assert r.returncode == 1 and "not a learner" in r.stderr, (r.returncode, r.stderr)
    r = run_cli(eps, "member", "remove", "9")
    assert r.returncode == 1, (r.returncode, r.stderr)
    r = run_cli(eps, "member", "add", "9", "not-an-address")
    assert r.returncode == 2, (r.returncode, r.stderr)
    r = run_cli(eps, "member", "add", "1", "127.0.0.1:1")
    assert r.returncode == 4 and "already" in r.stderr, (r.returncode, r.stderr)
    r = run_cli(eps, "member", "add")
    assert r.returncode == 2


@pytest.mark.parametrize("state", ["bogus"])
def test_server_rejects_a_bad_initial_cluster_state(tmp_path, state, system_ready):
    import subprocess
    proc = subprocess.run([testing.find_server_binary(), "--id", "1", "--data-dir",
                           str(tmp_path / "d"), "--initial-cluster-state", state],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "--initial-cluster-state" in proc.stderr + proc.stdout
