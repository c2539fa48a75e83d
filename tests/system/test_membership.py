"""Membership change with real tinykv-server processes, driven through the tinykv CLI
(etcdctl's `member add/promote/remove/update`) and the Python client.

Scenario (etcd's runtime reconfiguration): a 3-node cluster takes writes; node 4 starts
with --initial-cluster-state existing (no configuration: it must not campaign), is added
as a learner, catches up (serializable read at node 4), is promoted; an original member
is removed and killed; every acknowledged key is still readable, writes still succeed
and `member list` shows the final configuration.

Also: `member add ADDR` (no id) prints the TINYKV_* lines that start the new member, and a
member started from exactly those lines catches up; the strict reconfiguration check
refuses a voter that would leave too few started members for the new quorum, unless
--force, while a learner is accepted; `member remove` takes an address; `member update`
moves a member to a new peer port."""

import json
import os
import signal
import subprocess
import time

import pytest

import tinykv
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


def parse_start_lines(stdout: str) -> tuple[dict[str, str], list[str]]:
    """The TINYKV_* variables and the tinykv-server command line that `member add` prints."""
    env, flags = {}, []
    for line in stdout.splitlines():
        if line.startswith("TINYKV_") and "=" in line:
            name, value = line.split("=", 1)
            assert value.startswith('"') and value.endswith('"'), line
            env[name] = value[1:-1]
        elif line.startswith("tinykv-server "):
            flags = line.split()[1:]
    return env, flags


def test_member_add_with_only_an_address_prints_how_to_start_the_member(cluster, tmp_path):
    # `member add ADDR`: the id is the highest + 1, and the printed TINYKV_* lines (what
    # etcdctl prints as ETCD_INITIAL_*) are enough to start the new member.
    c = cluster
    c.leader()
    cl = c.client(timeout=10.0)
    for i in range(20):
        cl.put(f"k{i:02d}".encode(), b"v")
    peer = f"127.0.0.1:{testing.free_port()}"
    client = f"127.0.0.1:{testing.free_port()}"
    r = run_cli(c.endpoints, "member", "add", peer, "--client-addr", client)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Member 4 added to cluster\n"), r.stdout
    env, flags = parse_start_lines(r.stdout)
    assert env == {
        "TINYKV_ID": "4", "TINYKV_LISTEN_PEER": peer, "TINYKV_LISTEN_CLIENT": client,
        "TINYKV_INITIAL_CLUSTER": c.initial_cluster() + f",4={peer}",
        "TINYKV_INITIAL_CLUSTER_CLIENT":
            ",".join(f"{i}={c.endpoint(i)}" for i in (1, 2, 3)) + f",4={client}",
        "TINYKV_INITIAL_CLUSTER_STATE": "existing"}, r.stdout
    # The command line says the same as the variables.
    assert flags[:2] == ["--data-dir", "DATA_DIR"], flags
    assert {"TINYKV_" + f[2:].upper().replace("-", "_"): v
            for f, v in zip(flags[2::2], flags[3::2])} == env, flags

    # Start it from exactly those variables (and its own data dir).
    log = open(tmp_path / "node4.log", "wb")
    proc = subprocess.Popen([testing.find_server_binary(), "--data-dir", str(tmp_path / "d4")],
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def caught_up():
            try:
                with tinykv.Client([client], timeout=2.0) as c4:
                    return c4.get(b"k19", serializable=True) == b"v"
            except tinykv.UnavailableError:  # not listening yet
                assert proc.poll() is None, (tmp_path / "node4.log").read_text()
                return False
        wait_until(caught_up, 30, "the new member to start and catch up")
        members = {m["id"]: m for m in cl.member_list()}
        assert members[4]["peer_address"] == peer and not members[4]["learner"], members
        cl.put(b"after", b"4 voters")
        assert cl.get(b"after") == b"4 voters"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == 0, (tmp_path / "node4.log").read_text(errors="replace")[-2000:]


def test_adding_a_voter_needs_a_quorum_of_started_members_unless_forced(system_ready, tmp_path):
    # etcd's strict reconfiguration check: members 1 and 2 run, member 3 is down (never
    # started). A fourth voter, not started yet either, would need 3 of 4 for a quorum
    # while only 2 are started: refused without --force. Learners are exempt.
    with testing.Cluster(n=3, data_dir=tmp_path / "c", start=False) as c:
        c.start_node(1)
        c.start_node(2)
        c.leader()
        eps = [c.endpoint(1), c.endpoint(2)]
        start = time.monotonic()
        r = run_cli(eps, "member", "add", f"127.0.0.1:{testing.free_port()}")
        took = time.monotonic() - start
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert r.stderr.count("\n") == 1, r.stderr
        assert "re-configuration failed due to not enough started members" in r.stderr
        assert "quorum of 3, but only 2 of the 3 current voters are started" in r.stderr
        assert "not heard from within an election timeout: 3)" in r.stderr, r.stderr
        assert took < 15, f"refused after {took:.1f}s: within about one election timeout"
        assert sorted(m["id"] for m in json.loads(
            run_cli(eps, "-w", "json", "member", "list").stdout)["members"]) == [1, 2, 3]

        r = run_cli(eps, "member", "add", f"127.0.0.1:{testing.free_port()}", "--learner")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Member 4 added to cluster"), r.stdout

        r = run_cli(eps, "-w", "json", "member", "add", f"127.0.0.1:{testing.free_port()}",
                    "--force")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["id"] == 5, out
        assert [m["is_learner"] for m in out["members"] if m["id"] == 5] == [False], out


def test_member_remove_takes_an_address_as_the_name(cluster):
    c = cluster
    c.leader()
    victim = next(i for i in (1, 2, 3) if i != c.leader())
    r = run_cli(c.endpoints, "member", "remove", c.nodes[victim].peer_address)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Member {victim} removed from cluster\n"), r.stdout
    r = run_cli(c.endpoints, "member", "remove", "127.0.0.1:1")
    assert r.returncode == 1 and "no member has the peer or client address" in r.stderr


def test_member_update_moves_a_member_to_a_new_peer_port(cluster):
    """etcd's member update: node `moved` restarts on a new peer port, `tinykv member
    update` tells the cluster, and it catches up; a member restarted later with its
    original command line (the old port in --initial-cluster) keeps the new address,
    because the replicated address book wins once a data dir has state."""
    c = cluster
    lead = c.leader()
    moved = next(i for i in (1, 2, 3) if i != lead)
    other = next(i for i in (1, 2, 3) if i not in (lead, moved))
    stale_command = c.command(other)
    cl = c.client(timeout=10.0)
    cl.put(b"before", b"1")

    c.kill(moved)
    old_peer = c.nodes[moved].peer_address
    c.nodes[moved].peer_port = testing.free_port()
    new_peer = c.nodes[moved].peer_address
    c.start_node(moved)
    cl.put(b"while-unknown", b"2")
    listed = {m["id"]: m for m in c.client(endpoints=[c.endpoint(lead)]).member_list()}
    assert listed[moved]["peer_address"] == old_peer, listed

    r = run_cli(c.endpoints, "member", "update", str(moved), "--peer-urls", f"http://{new_peer}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Member {moved} updated in cluster\n"), r.stdout
    assert f"{moved}, voter, {new_peer}, " in r.stdout, r.stdout
    cl.put(b"after", b"3")
    cm = c.client(endpoints=[c.endpoint(moved)])
    wait_until(lambda: cm.get(b"after", serializable=True) == b"3", 30,
               f"node {moved} to catch up at {new_peer}")
    assert cm.get(b"while-unknown", serializable=True) == b"2"

    # Restart `other` from the command line it had before the move.
    c.kill(other)
    c.command = lambda i, _orig=c.command: stale_command if i == other else _orig(i)
    try:
        c.start_node(other)
    finally:
        del c.command
    co = c.client(endpoints=[c.endpoint(other)])
    wait_until(lambda: {m["id"]: m["peer_address"] for m in co.member_list()}.get(moved)
               == new_peer, 20, f"node {other} to list {moved} at {new_peer}")
    r = run_cli(c.endpoints, "member", "update", "9", "--peer-urls", "127.0.0.1:1")
    assert r.returncode == 1 and "not in the configuration" in r.stderr, (r.returncode, r.stderr)


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
