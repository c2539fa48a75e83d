"""Membership change through tinykv.Client against an in-process cluster
(tinykv.client.EmbeddedCluster): add a learner that joins with no configuration, let it catch
up, promote it, update its addresses, remove the leader; errors map to tinykv exceptions."""

import pytest

import tinykv
from tinykv.client import EmbeddedCluster
from tinykv.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tinykv.testing import wait_until


def test_learner_is_added_catches_up_is_promoted_and_the_leader_is_removed(tmp_path):
    with EmbeddedCluster(3, tmp_path, sync=False) as lc, \
            tinykv.Client(lc.endpoints, timeout=10.0) as cl:
        for i in range(50):
            cl.put(f"k{i:02d}".encode(), b"v")
        lc.add_node(4)
        res = cl.member_add(4, lc.peer_address(4), client_addr=lc.endpoint(4), learner=True)
        m4 = [m for m in res["members"] if m["id"] == 4]
        assert m4 == [{"id": 4, "peer_address": lc.peer_address(4),
                       "client_address": lc.endpoint(4), "learner": True,
                       "is_leader": False}], res
        assert res["index"] > 0

        with tinykv.Client([lc.endpoint(4)], timeout=5.0) as c4:
            wait_until(lambda: c4.get(b"k49", serializable=True) == b"v", 15, "node 4 to catch up")

        with pytest.raises(AlreadyExistsError):
            cl.member_add(4, lc.peer_address(4))
        with pytest.raises(NotFoundError):
            cl.member_promote(9)
        with pytest.raises(InvalidArgumentError):
            cl.member_add(9, "no-port")

        res = cl.member_promote(4)
        assert [m["learner"] for m in res["members"] if m["id"] == 4] == [False]

        # member update: the same peer address again changes nothing but the client
        # address; an absent member or a bad address is refused.
        res = cl.member_update(4, lc.peer_address(4), client_addr="127.0.0.1:5999")
        assert [(m["peer_address"], m["client_address"], m["learner"])
                for m in res["members"] if m["id"] == 4] == \
            [(lc.peer_address(4), "127.0.0.1:5999", False)], res
        with pytest.raises(NotFoundError):
            cl.member_update(9, "127.0.0.1:1")
        with pytest.raises(InvalidArgumentError):
            cl.member_update(4, "no-port")

        leader = lc.leader()
        res = cl.member_remove(leader)
        assert leader not in [m["id"] for m in res["members"]]
        cl.put(b"after", b"x")
        assert cl.get(b"k00") == b"v"
        ids = sorted(m["id"] for m in cl.member_list())
        assert ids == sorted({1, 2, 3, 4} - {leader})
        assert cl.members() == cl.member_list()


def test_adding_a_voter_needs_a_quorum_of_started_members_unless_forced(tmp_path):
    # etcd's strict reconfiguration check. With one of three voters down, a fourth voter
    # (not started yet) would make a quorum of 3 out of 2 started members: refused.
    with EmbeddedCluster(3, tmp_path, sync=False) as lc:
        lead = lc.wait_leader()
        others = [i for i in (1, 2, 3) if i != lead]
        for i in others:
            lc.stop_node(i)
        # Alone, the leader steps down (check-quorum); the leader elected next has heard
        # only from the two members that run, so the stopped one counts as not started.
        wait_until(lambda: lc.leader() is None, 15, "the lone leader to step down")
        lc.start_node(others[0])
        lc.wait_leader()
        with tinykv.Client([lc.endpoint(lead), lc.endpoint(others[0])], timeout=10.0) as cl:
            with pytest.raises(InvalidArgumentError,
                               match="not enough started members.*only 2 of the 3") as e:
                cl.member_add(4, "127.0.0.1:1")
            assert f"not heard from within an election timeout: {others[1]}" in str(e.value)
            assert 4 not in [m["id"] for m in cl.member_list()]
            # Learners are exempt: they are not part of any quorum.
            cl.member_add(4, "127.0.0.1:1", learner=True)
            # force skips the check (the cluster then waits for a quorum of 4).
            res = cl.member_add(5, "127.0.0.1:2", force=True)
            assert [m["learner"] for m in res["members"] if m["id"] == 5] == [False], res


def test_https_addresses_are_refused_before_anything_is_sent(tmp_path):
    with EmbeddedCluster(1, tmp_path, sync=False) as lc, \
            tinykv.Client(lc.endpoints, timeout=5.0) as cl:
        # Whether members speak TLS is the servers' flags, not the address's.
        with pytest.raises(InvalidArgumentError, match="write host:port"):
            cl.member_add(2, "https://127.0.0.1:2480", learner=True)
        assert [m["id"] for m in cl.member_list()] == [1]
