"""Membership change through tinykv.Client against an in-process cluster
(tinykv.client.EmbeddedCluster): add a learner that joins with no configuration, let it catch
up, promote it, remove the leader; errors map to tinykv exceptions."""

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

        leader = lc.leader()
        res = cl.member_remove(leader)
        assert leader not in [m["id"] for m in res["members"]]
        cl.put(b"after", b"x")
        assert cl.get(b"k00") == b"v"
        ids = sorted(m["id"] for m in cl.member_list())
        assert ids == sorted({1, 2, 3, 4} - {leader})
        assert cl.members() == cl.member_list()
