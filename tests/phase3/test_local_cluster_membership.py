"""Membership change on real nodes (tinykv.raft.LocalCluster, the SimCluster API):
a learner joins with no configuration and catches up, is promoted, the leader removes
itself, and the removed node, still running, does not disturb the others."""

import time

import pytest

from tinykv import errors
from tinykv.raft import LocalCluster
from tinykv.testing import wait_until


def test_add_learner_promote_and_remove_the_leader(tmp_path):
    with LocalCluster(3, tmp_path, sync=False) as c:
        c.wait_leader()
        for i in range(40):
            c.put(b"k%02d" % i, b"v%d" % i)
        res = c.add_member(4, learner=True)
        assert (4, f"127.0.0.1:{c.node(4).peer_port}", True) in res["members"]
        assert wait_until(lambda: c.node(4).get(b"k39") == b"v39"), c.status(4)
        assert c.members(4) == {"voters": [1, 2, 3], "learners": [4]}
        with pytest.raises(errors.AlreadyExistsError):
            c.add_member(4)

        c.promote(4)
        assert c.members() == {"voters": [1, 2, 3, 4], "learners": []}

        old = c.wait_leader()
        c.remove_member(old)
        assert wait_until(lambda: c.leader() not in (None, old))
        new = c.wait_leader()
        c.put(b"after", b"x")
        assert c.get(b"k00") == b"v0"
        rest = sorted({1, 2, 3, 4} - {old})
        assert c.members(new) == {"voters": rest, "learners": []}
        # The removed node keeps running; the others' term does not move because of it.
        term = c.status(new)["term"]
        time.sleep(1.0)  # 2.5-5 election timeouts
        assert c.status(new)["term"] == term and c.leader() == new
        assert c.status(old)["role"] != "leader"
