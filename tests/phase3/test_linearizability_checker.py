"""The linearizability checker (tinykv.linearizability) decides correctly.

Hand-written histories pin the classic anomalies; a brute-force reference decides small
random histories independently; generated executions of a real sequential store with
overlapping intervals must pass, and the same with one read corrupted must fail. None of
this needs a cluster: the checker is pure Python.

Randomized tests print their seed; set TINYKV_SEED to replay one.
"""

import functools
import itertools
import math
import os
import random
import threading

import pytest

from tinykv.linearizability import (LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, Event, History,
                                    KVModel, Operation as Op, assert_linearizable as
                                    lin_assert, check, operations_from_events)


def _seeds(default):
    env = os.environ.get("TINYKV_SEED")
    return [int(env)] if env else list(default)


def assert_linearizable(ops, **kw):
    r = check(ops, **kw)
    assert r.ok, r.explanation
    assert r.status == LINEARIZABLE
    return r


def assert_not_linearizable(ops, key="x", **kw):
    r = check(ops, **kw)
    assert not r.ok
    assert r.status == NOT_LINEARIZABLE, r.explanation
    assert r.key == key
    return r


# ---------------------------------------------------------------------------------------------
# Hand-written histories
# ---------------------------------------------------------------------------------------------

def test_empty_history_is_linearizable():
    assert_linearizable([])


def test_sequential_history_is_linearizable():
    assert_linearizable([
        Op.get(1, "x", None, 0, 1),
        Op.put(1, "x", b"a", 2, 3),
        Op.get(2, "x", b"a", 4, 5),
        Op.cas(2, "x", b"a", b"b", True, 6, 7),
        Op.cas(1, "x", b"a", b"c", False, 8, 9),
        Op.get(1, "x", b"b", 10, 11),
        Op.delete(2, "x", 12, 13),
        Op.get(1, "x", None, 14, 15),
        Op.cas(1, "x", None, b"d", True, 16, 17),
        Op.cas(2, "x", None, b"e", False, 18, 19),
        Op.get(2, "x", b"d", 20, 21),
    ])


def test_stale_read_after_completed_write_is_caught():
    r = assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(1, "x", b"b", 11, 20),
        Op.get(2, "x", b"a", 30, 40),   # b was acknowledged before this read began
    ])
    kr = r.per_key["x"]
    assert kr.stuck.f == "get" and kr.stuck.output == b"a"
    assert [op.value for op in kr.longest_prefix] == [b"a", b"b"]
    assert kr.state == b"b"
    # The failure message names the key, the prefix, the state and the offending read.
    assert "'x'" in r.explanation and "get('x') -> b'a'" in r.explanation
    assert "the value is b'b'" in r.explanation


def test_read_concurrent_with_write_may_see_old_or_new_value():
    for seen in (None, b"a"):
        assert_linearizable([
            Op.put(1, "x", b"a", 0, 10),
            Op.get(2, "x", seen, 5, 15),
        ])


def test_acknowledged_write_lost_is_caught():
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.get(2, "x", None, 20, 30),   # the acknowledged write vanished
    ])


def test_reads_going_back_in_time_are_caught():
    # Both writes complete; a later read sees b, an even later read sees a again.
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 5, 15),
        Op.get(3, "x", b"b", 20, 25),
        Op.get(4, "x", b"a", 30, 35),
    ])


def test_two_readers_disagreeing_after_writes_settle_is_caught():
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 0, 10),
        Op.get(3, "x", b"a", 20, 30),
        Op.get(4, "x", b"b", 20, 30),
    ])


def test_lost_update_through_cas_is_caught():
    # Two read-modify-write increments both read 0 and both CAS 0 -> 1 successfully.
    assert_not_linearizable([
        Op.put(0, "x", b"0", 0, 1),
        Op.get(1, "x", b"0", 2, 3),
        Op.get(2, "x", b"0", 2, 3),
        Op.cas(1, "x", b"0", b"1", True, 4, 8),
        Op.cas(2, "x", b"0", b"1", True, 5, 9),
    ])


def test_lost_update_with_blind_writes_is_linearizable():
    # The same increments done with get + put lose an update at the application level, but
    # every single-key operation is atomic, so the register history *is* linearizable. This
    # is why tests that want to catch lost updates use CAS.
    assert_linearizable([
        Op.put(0, "x", b"0", 0, 1),
        Op.get(1, "x", b"0", 2, 3),
        Op.get(2, "x", b"0", 2, 3),
        Op.put(1, "x", b"1", 4, 8),
        Op.put(2, "x", b"1", 5, 9),
        Op.get(3, "x", b"1", 10, 11),
    ])


@pytest.mark.parametrize("expected", [None, b"v0"])
def test_cas_succeeding_twice_from_same_expected_value_is_caught(expected):
    ops = [] if expected is None else [Op.put(0, "x", expected, 0, 1)]
    ops += [
        Op.cas(1, "x", expected, b"a", True, 2, 10),
        Op.cas(2, "x", expected, b"b", True, 3, 11),
    ]
    r = assert_not_linearizable(ops)
    assert {op.f for op, _ in r.per_key["x"].candidates} == {"cas"}


def test_one_of_two_concurrent_cas_succeeds_is_linearizable():
    for winner in (1, 2):
        assert_linearizable([
            Op.cas(1, "x", None, b"a", winner == 1, 0, 10),
            Op.cas(2, "x", None, b"b", winner == 2, 0, 10),
            Op.get(3, "x", b"a" if winner == 1 else b"b", 20, 30),
        ])


def test_failed_cas_must_see_a_different_value():
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 1),
        Op.cas(2, "x", b"a", b"b", False, 2, 3),   # the value was a: this CAS had to succeed
    ])
    assert_not_linearizable([
        Op.cas(2, "x", None, b"b", False, 0, 1),   # absent: "only if absent" had to succeed
    ])


def test_read_of_a_value_never_written_is_caught():
    r = assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.get(2, "x", b"zzz", 5, 15),
    ])
    assert "b'zzz' was never written" in r.explanation


def test_read_of_a_value_before_its_write_was_invoked_is_caught():
    r = assert_not_linearizable([
        Op.get(2, "x", b"a", 0, 5),
        Op.put(1, "x", b"a", 10, 20),
    ])
    assert "before any write of it was invoked" in r.explanation


def test_concurrent_operations_allowing_several_orders():
    # c1's put overlaps reads that see before and after it, and c2's put overlaps both; the
    # only linearization puts a before the second read and b between the third and fourth.
    ops = [
        Op.put(1, "x", b"a", 0, 100),
        Op.get(2, "x", None, 10, 20),
        Op.put(3, "x", b"b", 15, 80),
        Op.get(4, "x", b"a", 30, 40),
        Op.get(5, "x", b"a", 45, 50),
        Op.get(6, "x", b"b", 60, 70),
        Op.get(7, "x", b"b", 90, 110),
    ]
    r = assert_linearizable(ops)
    order = [(op.f, op.value, op.output) for op in r.per_key["x"].linearization]
    assert order.index(("put", b"a", None)) < order.index(("get", None, b"a"))
    assert order.index(("put", b"b", None)) > order.index(("get", None, b"a"))
    # Reading b before a afterwards is impossible: b was put after a was seen by c5.
    assert_not_linearizable(ops + [Op.get(8, "x", b"a", 120, 130)])


def test_equal_timestamps_count_as_concurrent():
    # The put returns at 10 and the read is invoked at 10: they may be ordered either way.
    assert_linearizable([Op.put(1, "x", b"a", 0, 10), Op.get(2, "x", None, 10, 20)])
    assert_not_linearizable([Op.put(1, "x", b"a", 0, 10), Op.get(2, "x", None, 11, 20)])


def test_delete_semantics():
    assert_linearizable([
        Op.put(1, "x", b"a", 0, 1),
        Op.delete(1, "x", 2, 3, output=True),
        Op.delete(2, "x", 4, 5, output=False),
        Op.get(2, "x", None, 6, 7),
    ])
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 1),
        Op.delete(1, "x", 2, 3),
        Op.get(2, "x", b"a", 4, 5),
    ])
    assert_not_linearizable([Op.delete(1, "x", 0, 1, output=True)])  # nothing to delete


def test_keys_are_checked_independently_and_the_offending_key_is_named():
    ops = []
    for k in ("a", "b", "c"):
        ops += [Op.put(1, k, b"1", 0, 1), Op.get(2, k, b"1", 2, 3)]
    ops += [Op.get(3, "b", None, 4, 5)]   # only b is broken
    r = assert_not_linearizable(ops, key="b")
    assert set(r.per_key) == {"a", "b", "c"}
    assert r.per_key["a"].ok and r.per_key["c"].ok and not r.per_key["b"].ok
    assert "key 'b'" in r.explanation


def test_result_repr_is_short_and_str_is_the_explanation():
    ops = [Op.put(1, "x", b"a", 2 * i, 2 * i + 1) for i in range(500)]
    r = check(ops + [Op.get(2, "x", None, 2000, 2001)])
    assert len(repr(r)) < 200 and "not linearizable" in repr(r)
    assert len(repr(r.per_key["x"])) < 200
    assert str(r) == r.explanation


def test_initial_values_come_from_the_model():
    ops = [Op.get(1, "x", b"seed", 0, 1)]
    assert_not_linearizable(ops)
    assert_linearizable(ops, model=KVModel(initial={"x": b"seed"}))


# ---------------------------------------------------------------------------------------------
# Unknown outcomes (timeouts, lost connections)
# ---------------------------------------------------------------------------------------------

def test_unknown_write_that_took_effect():
    assert_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 5, None),          # timed out
        Op.get(3, "x", b"b", 50, 60),           # ... but it did happen
        Op.get(3, "x", b"b", 70, 80),
    ])


def test_unknown_write_that_did_not_take_effect():
    assert_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 5, None),          # timed out and never applied
        Op.get(3, "x", b"a", 50, 60),
        Op.get(3, "x", b"a", 70, 80),
    ])


def test_unknown_write_that_took_effect_late():
    # It may take effect long after the client gave up (it is pending until +infinity).
    assert_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 5, None),
        Op.get(3, "x", b"a", 50, 60),
        Op.get(3, "x", b"b", 1000, 1010),
    ])


def test_unknown_write_cannot_be_undone():
    # Once a read saw b, the value cannot go back to a: b was not overwritten by anyone.
    assert_not_linearizable([
        Op.put(1, "x", b"a", 0, 10),
        Op.put(2, "x", b"b", 5, None),
        Op.get(3, "x", b"b", 50, 60),
        Op.get(3, "x", b"a", 70, 80),
    ])


def test_unknown_write_cannot_take_effect_before_it_was_invoked():
    assert_not_linearizable([
        Op.get(3, "x", b"b", 0, 5),
        Op.put(2, "x", b"b", 10, None),
    ])


def test_unknown_cas_applies_only_if_its_comparison_held():
    base = [Op.put(1, "x", b"a", 0, 1), Op.cas(2, "x", b"a", b"b", None, 2, None)]
    assert_linearizable(base + [Op.get(3, "x", b"b", 10, 11)])
    assert_linearizable(base + [Op.get(3, "x", b"a", 10, 11)])
    # It expected c, which the key never held, so it cannot have written b.
    assert_not_linearizable([Op.put(1, "x", b"a", 0, 1),
                             Op.cas(2, "x", b"c", b"b", None, 2, None),
                             Op.get(3, "x", b"b", 10, 11)])


def test_unknown_operation_spent_on_one_path_is_still_available_on_another():
    # Found by the brute-force comparison against a deliberately broken memo. The only
    # linearization is cas, put, delete, get: the search first reaches "put and cas done,
    # value a" having spent the unknown delete on the way (put, delete, cas), fails, and must
    # still explore the same point reached without spending it (cas, put).
    assert_linearizable([
        Op.put(2, "x", b"a", 5, 8),
        Op.cas(4, "x", None, b"a", True, 6, 10),
        Op.delete(1, "x", 9, None),
        Op.get(0, "x", None, 18, 25),
    ])


def test_unknown_reads_and_failed_operations_are_ignored():
    assert_linearizable([
        Op.put(1, "x", b"a", 0, 1),
        Op.get(2, "x", b"nonsense", 2, None),   # unknown read: no effect, output ignored
        Op.put(3, "x", b"b", 3, 4, status="fail"),   # definitely not applied
        Op.get(4, "x", b"a", 5, 6),
    ])


def test_many_unobserved_timeouts_stay_fast():
    # 60 writes that timed out and were never observed; a naive search that tries each
    # pending write at every point would blow up, this one checks it quickly.
    ops = [Op.put(1, "x", b"a", 0, 1)]
    for i in range(60):
        ops.append(Op.put(100 + i, "x", b"lost%d" % i, 2 + i, None))
    for i in range(200):
        ops.append(Op.get(2, "x", b"a", 100 + 2 * i, 101 + 2 * i))
    assert_linearizable(ops, timeout=30)


# ---------------------------------------------------------------------------------------------
# Event lists and the recorder
# ---------------------------------------------------------------------------------------------

def test_event_list_input():
    events = [
        ("invoke", 1, "put", "x", b"a"),
        ("invoke", 2, "get", "x"),
        ("ok", 1),
        ("ok", 2, b"a"),
        ("invoke", 3, "cas", "x", (b"a", b"b")),
        ("info", 3),
        ("invoke", 1, "get", "x"),
        ("ok", 1, b"b"),
        ("invoke", 4, "put", "x", b"c"),       # never completed: unknown outcome
    ]
    ops = operations_from_events(events)
    assert [op.status for op in ops] == ["ok", "ok", "info", "ok", "info"]
    assert ops[0].call == 0 and ops[0].ret == 2 and math.isinf(ops[2].ret)
    assert_linearizable(events)
    assert_not_linearizable(events + [("invoke", 2, "get", "x"), ("ok", 2, b"a")])


def test_event_list_rejects_unmatched_completion():
    with pytest.raises(ValueError, match="matches no outstanding invocation"):
        operations_from_events([("ok", 1, None)])


def test_invalid_operations_are_rejected():
    with pytest.raises(ValueError, match="returns before it is called"):
        Op.put(1, "x", b"a", 10, 5)
    with pytest.raises(ValueError, match="unknown operation"):
        Op(1, "append", "x")
    with pytest.raises(ValueError, match="True or False"):
        Op.cas(1, "x", None, b"a", None, 0, 1)
    with pytest.raises(ValueError, match="finite ret"):
        Op(1, "put", "x", b"a", None, 0, math.inf, "ok")
    with pytest.raises(TypeError):
        check([1, 2, 3])


class _LockedStore:
    """A correct store: every operation is atomic under one lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data = {}

    def get(self, k):
        with self._lock:
            return self._data.get(k)

    def put(self, k, v):
        with self._lock:
            self._data[k] = v

    def cas(self, k, expected, new):
        with self._lock:
            if self._data.get(k) != expected:
                return False
            self._data[k] = new
            return True


class _StaleReplicaStore(_LockedStore):
    """A broken store: reads are served from a replica that lags the primary by a few
    writes (what a Raft follower serving reads without ReadIndex looks like)."""

    def __init__(self, lag):
        super().__init__()
        self._log = []
        self._lag = lag

    def put(self, k, v):
        with self._lock:
            self._data[k] = v
            self._log.append((k, v))

    def cas(self, k, expected, new):
        with self._lock:
            if self._data.get(k) != expected:
                return False
            self._data[k] = new
            self._log.append((k, new))
            return True

    def get(self, k):
        with self._lock:
            replica = {}
            for key, v in self._log[:max(0, len(self._log) - self._lag)]:
                replica[key] = v
            return replica.get(k)


def _run_clients(store, history, seed, n_clients=6, n_ops=60, keys=("k0", "k1")):
    def client(c):
        rng = random.Random(seed * 1000 + c)
        for i in range(n_ops):
            k = rng.choice(keys)
            r = rng.random()
            if r < 0.4:
                history.record(c, "get", k, lambda: store.get(k))
            elif r < 0.7:
                v = b"c%d-%d" % (c, i)
                history.record(c, "put", k, lambda: store.put(k, v), value=v)
            else:
                exp = store.get(k) if rng.random() < 0.7 else None
                new = b"c%d-%d" % (c, i)
                history.record(c, "cas", k, lambda: store.cas(k, exp, new), value=(exp, new))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.parametrize("seed", _seeds([1, 2, 3]))
def test_recorder_with_threads_on_a_correct_store_is_linearizable(seed):
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    h = History()
    _run_clients(_LockedStore(), h, seed)
    assert len(h) == 2 * 6 * 60
    r = check(h)
    assert r.ok, r.explanation
    # Round trip through JSON gives the same verdict.
    assert check(History.from_json(h.to_json())).ok


@pytest.mark.parametrize("seed", _seeds([1, 2, 3]))
def test_recorder_with_threads_on_a_stale_store_is_caught(seed):
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    h = History()
    _run_clients(_StaleReplicaStore(lag=3), h, seed)
    r = check(h)
    assert r.status == NOT_LINEARIZABLE, r.explanation
    assert r.key in ("k0", "k1")
    assert check(History.from_json(h.to_json())).status == NOT_LINEARIZABLE


def test_assert_linearizable_raises_with_explanation_and_saves_history(tmp_path):
    h = History()
    h.record(1, "put", "x", lambda: None, value=b"a")
    assert lin_assert(h).ok
    h.record(2, "get", "x", lambda: None)          # the acknowledged write is not visible
    path = tmp_path / "history.json"
    with pytest.raises(AssertionError) as e:
        lin_assert(h, save_to=str(path))
    assert "NOT linearizable" in str(e.value) and str(path) in str(e.value)
    assert check(History.from_json(path.read_text())).status == NOT_LINEARIZABLE
    with pytest.raises(AssertionError, match="UNKNOWN"):
        lin_assert(_pathological(), max_configurations=1000)


def test_recorder_operation_context_records_outcomes():
    class Rejected(Exception):
        pass

    h = History()
    with h.operation(1, "put", "x", b"a") as op:
        op.ok()
    with pytest.raises(Rejected):
        with h.operation(2, "put", "x", b"b", fail_on=(Rejected,)):
            raise Rejected()          # definitely not applied
    with pytest.raises(TimeoutError):
        with h.operation(3, "put", "x", b"c", fail_on=(Rejected,)):
            raise TimeoutError()      # unknown
    with h.operation(4, "get", "x"):
        pass                          # forgot to complete: unknown
    h.invoke(5, "put", "x", b"d")     # still outstanding: unknown
    ops = h.operations()
    assert [op.status for op in ops] == ["ok", "fail", "info", "info", "info"]
    assert ops[0].call < ops[0].ret < ops[1].call
    with pytest.raises(ValueError):
        h.ok(0)                       # already completed
    events = h.events()
    assert all(isinstance(e, Event) for e in events)
    assert [e.time for e in events] == list(range(len(events)))
    assert all(a.wall_ns <= b.wall_ns for a, b in zip(events, events[1:]))


# ---------------------------------------------------------------------------------------------
# A brute-force reference on small random histories
# ---------------------------------------------------------------------------------------------

def _brute_force_linearizable(ops):
    """Independent reference: try every subset of the unknown-outcome operations and every
    order of the chosen operations that respects real time, replaying a single dict (no
    partitioning by key, no memoization)."""
    done = [op for op in ops if op.status == "ok"]
    unknown = [op for op in ops if op.status == "info" and op.f != "get"]

    def legal(state, op):
        cur = state.get(op.key)
        known = op.status == "ok"
        if op.f == "get":
            return (not known or cur == op.output), cur
        if op.f == "put":
            return True, op.value
        if op.f == "delete":
            return (not known or op.output is None or op.output == (cur is not None)), None
        exp, new = op.value
        if cur == exp:
            return (not known or op.output is True), new
        return (not known or op.output is False), cur

    def search(remaining, state):
        if not remaining:
            return True
        for op in remaining:
            # op may go next only if no other remaining op returned before op was invoked.
            if any(o is not op and o.ret < op.call for o in remaining):
                continue
            ok, v = legal(state, op)
            if ok:
                nstate = dict(state)
                nstate[op.key] = v
                if search([o for o in remaining if o is not op], nstate):
                    return True
        return False

    for r in range(len(unknown) + 1):
        for chosen in itertools.combinations(unknown, r):
            if search(done + list(chosen), {}):
                return True
    return False


def _random_small_history(rng, n_ops):
    values = [None, b"a", b"b"]
    ops = []
    for i in range(n_ops):
        call = rng.randrange(0, 20)
        ret = call + rng.randrange(0, 8)
        k = rng.choice(["x", "y"]) if rng.random() < 0.3 else "x"
        f = rng.choice(["get", "get", "put", "cas", "delete"])
        client = i
        if rng.random() < 0.15:
            ret = None
        if f == "get":
            ops.append(Op.get(client, k, rng.choice(values), call, ret, index=i))
        elif f == "put":
            ops.append(Op.put(client, k, rng.choice(values[1:]), call, ret, index=i))
        elif f == "delete":
            out = rng.choice([None, True, False])
            ops.append(Op.delete(client, k, call, ret, output=out, index=i))
        else:
            ops.append(Op.cas(client, k, rng.choice(values), rng.choice(values[1:]),
                              rng.random() < 0.5, call, ret, index=i))
    return ops


@pytest.mark.parametrize("seed", _seeds([11]))
def test_agrees_with_brute_force_on_small_random_histories(seed):
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for trial in range(1500):
        ops = _random_small_history(rng, rng.randrange(1, 8))
        want = _brute_force_linearizable(ops)
        r = check(ops)
        assert r.status in (LINEARIZABLE, NOT_LINEARIZABLE)
        assert r.ok == want, (trial, [str(op) for op in ops], r.explanation)
        if r.ok:
            _assert_witness_valid(ops, r)
        verdicts[want] += 1
    # Both verdicts must be well represented, or the comparison proves little.
    assert verdicts[True] > 200 and verdicts[False] > 200, verdicts


def _reference_linearizable(ops):
    """Independent reference for medium histories: Wing & Gong's recursion with an exact
    memo on (completed ops used, unknown-outcome ops used, whole-store state), over the
    whole history at once, with none of the checker's pruning or state abstraction."""
    done = [op for op in ops if op.status == "ok"]
    unknown = [op for op in ops if op.status == "info" and op.f != "get"]
    keys = sorted({op.key for op in ops})
    full = (1 << len(done)) - 1

    def apply(state, op):
        k = keys.index(op.key)
        legal, v = KVModel.step(state[k], op)
        return legal, state[:k] + (v,) + state[k + 1:]

    @functools.lru_cache(maxsize=None)
    def go(dmask, umask, state):
        if dmask == full:
            return True
        first_ret = min(op.ret for i, op in enumerate(done) if not (dmask >> i) & 1)
        for i, op in enumerate(done):
            if not (dmask >> i) & 1 and op.call <= first_ret:
                legal, nstate = apply(state, op)
                if legal and go(dmask | (1 << i), umask, nstate):
                    return True
        for j, op in enumerate(unknown):
            if not (umask >> j) & 1 and op.call <= first_ret:
                legal, nstate = apply(state, op)
                if legal and go(dmask, umask | (1 << j), nstate):
                    return True
        return False

    return go(0, 0, (None,) * len(keys))


def _random_medium_history(rng):
    """10-16 operations, mostly on one key, values from a tiny domain (so effects repeat),
    many unknown outcomes: the cases where the checker's pruning rules matter."""
    values = [None, b"a", b"b", b"c"]
    p_unknown = rng.choice([0.1, 0.3, 0.5])
    span = rng.choice([10, 30, 60])
    ops = []
    for i in range(rng.randrange(10, 17)):
        call = rng.randrange(0, span)
        ret = call + rng.randrange(0, 12)
        k = "y" if rng.random() < 0.2 else "x"
        if rng.random() < p_unknown:
            ret = None
        f = rng.choice(["get", "get", "put", "put", "cas", "cas", "delete"])
        if f == "get":
            ops.append(Op.get(i, k, rng.choice(values), call, ret, index=i))
        elif f == "put":
            ops.append(Op.put(i, k, rng.choice(values[1:]), call, ret, index=i))
        elif f == "delete":
            ops.append(Op.delete(i, k, call, ret, output=rng.choice([None, True, False]),
                                 index=i))
        else:
            ops.append(Op.cas(i, k, rng.choice(values), rng.choice(values[1:]),
                              rng.random() < 0.4, call, ret, index=i))
    return ops


@pytest.mark.parametrize("seed", _seeds([12]))
def test_agrees_with_exact_reference_on_medium_random_histories(seed):
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for trial in range(1500):
        ops = _random_medium_history(rng)
        want = _reference_linearizable(ops)
        r = check(ops)
        assert r.status in (LINEARIZABLE, NOT_LINEARIZABLE)
        assert r.ok == want, (trial, [str(op) for op in ops], r.explanation)
        if r.ok:
            _assert_witness_valid(ops, r)
        verdicts[want] += 1
    assert verdicts[True] > 150 and verdicts[False] > 150, verdicts


def _assert_witness_valid(ops, result):
    """The witness order the checker returns is a legal sequential execution that respects
    real time and contains every completed operation."""
    for key, kr in result.per_key.items():
        lin = kr.linearization
        completed = [op for op in ops if op.key == key and op.status == "ok"]
        assert {id(o) for o in completed} <= {id(o) for o in lin}
        pos = {id(o): i for i, o in enumerate(lin)}
        for a in lin:
            for b in lin:
                if a.ret < b.call:
                    assert pos[id(a)] < pos[id(b)], (str(a), str(b))
        state = KVModel().init(key)
        for op in lin:
            legal, state = KVModel.step(state, op)
            assert legal, str(op)


# ---------------------------------------------------------------------------------------------
# Generated executions of a sequential store with random overlapping intervals
# ---------------------------------------------------------------------------------------------

def _generate(rng, n_ops, n_clients, keys, p_unknown=0.0):
    """Runs n_ops random operations from n_clients clients against a sequential dict.

    Each tick one random client advances: an idle client invokes an operation; an invoked
    one reaches its linearization point (the dict is updated and the output computed); a
    linearized one returns. So intervals overlap at random and the history is linearizable
    by construction. With probability p_unknown an operation's response is lost (status
    info), either after it took effect or (half the time) without it ever taking effect.
    Values are unique per write, so a corrupted read can be made provably stale."""
    store = {}
    ops = []
    clients = [None] * n_clients
    started = 0
    t = 0
    seq = 0
    while started < n_ops or any(clients):
        t += 1
        c = rng.randrange(n_clients)
        st = clients[c]
        if st is None:
            if started >= n_ops:
                continue
            started += 1
            k = rng.choice(keys)
            r = rng.random()
            seq += 1
            if r < 0.45:
                st = {"f": "get", "key": k, "value": None}
            elif r < 0.75:
                st = {"f": "put", "key": k, "value": b"v%d" % seq}
            elif r < 0.8:
                st = {"f": "delete", "key": k, "value": None}
            else:
                exp = store.get(k) if rng.random() < 0.6 else rng.choice([None, b"v%d" % (seq - 7)])
                st = {"f": "cas", "key": k, "value": (exp, b"v%d" % seq)}
            st.update(call=t, done=False, lost=rng.random() < p_unknown)
            clients[c] = st
        elif not st["done"]:
            st["done"] = True
            if st["lost"] and rng.random() < 0.5:
                continue   # never takes effect
            k, f = st["key"], st["f"]
            cur = store.get(k)
            if f == "get":
                st["out"] = cur
            elif f == "put":
                store[k] = st["value"]
            elif f == "delete":
                store.pop(k, None)
            else:
                st["out"] = cur == st["value"][0]
                if st["out"]:
                    store[k] = st["value"][1]
        else:
            clients[c] = None
            status = "info" if st["lost"] else "ok"
            ret = math.inf if st["lost"] else t
            ops.append(Op(c, st["f"], st["key"], st["value"],
                          st.get("out") if status == "ok" else None, st["call"], ret, status,
                          len(ops)))
    return ops


def _corrupt_stale(rng, ops):
    """Replaces one read's output with a value that was provably overwritten before the read
    began: written by W, then overwritten by a completed write W2 that began after W
    returned and returned before the read began. Returns (ops, index) or None."""
    reads = [op for op in ops if op.f == "get" and op.status == "ok"]
    rng.shuffle(reads)
    for r in reads:
        writes = [op for op in ops if op.key == r.key and op.status == "ok" and op.ret < r.call
                  and (op.f in ("put", "delete") or (op.f == "cas" and op.output))]
        for w in writes:
            if w.f == "delete":
                continue
            v = w.value if w.f == "put" else w.value[1]
            if v == r.output:
                continue
            if any(w2.call > w.ret for w2 in writes):
                out = list(ops)
                out[r.index] = Op(r.client, "get", r.key, None, v, r.call, r.ret, "ok", r.index)
                return out, r.index
    return None


@pytest.mark.parametrize("seed", _seeds([1, 2, 3, 4, 5]))
def test_generated_linearizable_histories_pass_and_corrupted_reads_fail(seed):
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    rng = random.Random(seed)
    ops = _generate(rng, n_ops=400, n_clients=8, keys=["a", "b", "c"], p_unknown=0.03)
    assert sum(op.status == "info" for op in ops) > 0
    r = check(ops, timeout=60)
    assert r.ok, r.explanation
    _assert_witness_valid(ops, r)

    corrupted, idx = _corrupt_stale(rng, ops)
    r = check(corrupted, timeout=60)
    assert r.status == NOT_LINEARIZABLE, r.explanation
    assert r.key == ops[idx].key
    print(r.explanation)

    # A read of a value nobody wrote.
    reads = [op for op in ops if op.f == "get" and op.status == "ok"]
    victim = rng.choice(reads)
    bad = list(ops)
    bad[victim.index] = Op(victim.client, "get", victim.key, None, b"never-written",
                           victim.call, victim.ret, "ok", victim.index)
    r = check(bad, timeout=60)
    assert r.status == NOT_LINEARIZABLE and r.key == victim.key, r.explanation
    assert "never written" in r.explanation


@pytest.mark.parametrize("seed", _seeds([7]))
def test_a_few_thousand_operations_from_ten_clients(seed):
    # The size a nemesis run produces: 3000 operations, 5 keys, 10 concurrent clients, some
    # responses lost. The timeout bounds a regression; speed itself is not asserted.
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    rng = random.Random(seed)
    ops = _generate(rng, n_ops=3000, n_clients=10, keys=["k%d" % i for i in range(5)],
                    p_unknown=0.01)
    r = check(ops, timeout=60)
    assert r.ok, r.explanation
    assert len(r.per_key) == 5
    print(f"3000 ops: {r.explanation}")

    corrupted, idx = _corrupt_stale(rng, ops)
    r = check(corrupted, timeout=60)
    assert r.status == NOT_LINEARIZABLE, r.explanation
    assert r.key == ops[idx].key
    print(f"corrupted: checked in {r.elapsed:.3f} s")


@pytest.mark.parametrize("seed", _seeds([1, 2, 3]))
def test_ten_clients_on_one_hot_key(seed):
    # All contention on one key, so partitioning by key does not help: the search itself
    # must cope with ~10 overlapping operations and unknown outcomes.
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    rng = random.Random(seed)
    ops = _generate(rng, n_ops=1500, n_clients=10, keys=["hot"], p_unknown=0.02)
    r = check(ops, timeout=60)
    assert r.ok, r.explanation
    _assert_witness_valid(ops, r)
    corrupted, idx = _corrupt_stale(rng, ops)
    r = check(corrupted, timeout=60)
    assert r.status == NOT_LINEARIZABLE, r.explanation


# ---------------------------------------------------------------------------------------------
# Bounded search
# ---------------------------------------------------------------------------------------------

def _pathological():
    # 28 completed writes all concurrent with each other, then a read of a value none of
    # them can leave behind (nobody deletes). Refuting it means trying every subset of the
    # writes as "already linearized": 2^28 configurations.
    ops = [Op.put(i, "x", b"w%d" % i, 0, 100) for i in range(28)]
    ops.append(Op.get(99, "x", None, 200, 210))
    return ops


def test_pathological_history_gives_up_clearly_instead_of_hanging():
    r = check(_pathological(), max_configurations=20_000)
    assert not r.ok
    assert r.status == UNKNOWN
    assert r.key == "x"
    assert "UNKNOWN" in r.explanation and "gave up" in r.explanation
    assert "configuration limit" in r.explanation
    r = check(_pathological(), timeout=0.2)
    assert r.status == UNKNOWN and not r.ok
    assert "timeout" in r.explanation
    r = check(_pathological(), max_memory_mb=2)
    assert r.status == UNKNOWN and not r.ok
    assert "memory limit of about 2 MB" in r.explanation


def test_many_concurrent_unknown_writes_before_an_impossible_read_are_refuted():
    # The shape that makes plain Wing & Gong / Porcupine search explode (every subset of 24
    # unknown-outcome writes), decided quickly by the dominance rules for pending ops.
    ops = [Op.put(0, "x", b"start", 0, 1)]
    ops += [Op.put(i + 1, "x", b"w%d" % i, 2, None) for i in range(24)]
    ops.append(Op.get(99, "x", None, 10, 11))   # nobody deletes: impossible
    r = check(ops, timeout=30)
    assert r.status == NOT_LINEARIZABLE, r.explanation
