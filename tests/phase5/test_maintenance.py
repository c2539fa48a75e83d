"""MoveLeader and HashKV from Python on a real 3-node cluster of tinykv-server
processes: ``cl.move_leader(id)`` hands the leadership over (and refuses an unknown
member), ``cl.hash_kv(rev)`` gives the same hash on every member once they applied the
same writes, another hash at another revision, and the compacted error below the
compacted revision; ``cl.status()`` names the server's version."""

import pytest

import tinykv
from tinykv import testing

HEADROOM = 30.0


def _agreed(cl, rev):
    """Every member's hash at rev once they all give the same one and the same
    compact revision (they apply at their own pace)."""
    seen = {}

    def same():
        rows = cl.hash_kv(rev)
        seen["rows"] = rows
        return len({(r["hash"], r["compact_revision"]) for r in rows}) == 1
    testing.wait_until(same, timeout=HEADROOM, what=f"the members to agree at {rev}")
    return seen["rows"]


def test_move_leader_moves_the_leadership(cl):
    leader = cl.status()["id"]
    target = next(m["id"] for m in cl.members() if m["id"] != leader)
    assert cl.move_leader(target) == (leader, target)
    assert cl.status()["id"] == target
    assert cl.move_leader(target) == (target, target)
    cl.put(b"move/after", b"v")
    with pytest.raises(tinykv.NotFoundError, match="member 99 not found"):
        cl.move_leader(99)
    with pytest.raises(tinykv.InvalidArgumentError):
        cl.move_leader(0)


def test_hash_kv_agrees_across_members_and_moves_with_the_history(cl, ns):
    a = cl.put(ns + b"a", b"1")
    b = cl.put(ns + b"b", b"2")
    rows = _agreed(cl, b)
    assert len(rows) == 3 and {r["hash_revision"] for r in rows} == {b}
    assert sorted(r["member_id"] for r in rows) == [1, 2, 3]
    assert _agreed(cl, a)[0]["hash"] != rows[0]["hash"]
    assert cl.status()["version"] == tinykv.__version__
    cl.compact(b)
    after = _agreed(cl, b)  # every member applied the compaction
    assert {r["compact_revision"] for r in after} == {b}
    for e in cl.endpoints:
        with pytest.raises(tinykv.CompactedError):
            cl.hash_kv(a, e)
