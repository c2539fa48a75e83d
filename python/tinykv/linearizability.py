"""A linearizability checker for key-value histories, in pure Python.

Linearizability (Herlihy & Wing, 1990) asks whether every operation of a
concurrent history can be given a single instant between its invocation and its
response such that, taken in the order of those instants, the operations form a
legal sequential execution of the object. This module decides that question for
histories recorded against TinyKV (or any store with the same operations):
``get``, ``put``, ``delete`` and ``cas(key, expected, new) -> bool``, where
``expected=None`` means "only if the key is absent".

How the search works
--------------------
* **P-compositionality.** Linearizability is local (Herlihy & Wing): a history
  is linearizable iff the sub-history of each object is. Every operation here
  touches one key, so the history is partitioned by key and every key is
  checked on its own with a single-register model. This turns one search over
  thousands of operations into several small ones (Horn & Kroening, 2015, and
  Porcupine use the same split).
* **Wing & Gong (1993)** depth-first search: repeatedly pick an operation that
  is *minimal* (its invocation precedes the earliest response among the
  operations not yet linearized), apply it to the model, and recurse;
  backtrack when no minimal operation is legal. Operations are kept as a
  doubly linked list of call and return entries sorted by time, so "lifting"
  an operation out of the list and putting it back are O(1).
* **Lowe (2017)** memoization: the search remembers every configuration it
  has explored, ``(set of linearized operations as a bitset, model state)``; a
  configuration reached again by a different order of the same operations is
  not explored twice. This is what makes the search fast in practice; it is
  also the design of Porcupine (Athalye, https://github.com/anishathalye/porcupine),
  which this module follows closely.
* **Unknown outcomes.** An operation whose response was never seen (a timeout,
  a lost connection, a crashed client) may or may not have taken effect. As in
  Knossos and Porcupine it is treated as still pending until +infinity: it may
  be linearized anywhere after its invocation, or never, and its output is not
  checked. Unknown-outcome *reads* have no effect and are dropped.
* **Pruning beyond Porcupine.** Histories from fault-injection runs carry many
  unknown-outcome writes, and plain Wing & Gong search tries every subset of
  them at every point: exponential, in practice as well as in theory. This
  module adds dominance rules that skip a configuration only when another one
  that the search does explore can do everything it can (fewer pending
  operations used, a read moved earlier, equivalent values merged). They are
  listed and justified in ``_check_key``; the tests compare the verdicts with
  an exhaustive reference on thousands of random histories.
* **Failed operations** (``fail``: the store guarantees the operation did not
  take effect, e.g. a not-leader rejection before proposing) are dropped. A
  CAS whose comparison did not match is *not* a failure: it completed with
  output ``False``.

Worst-case cost is exponential (checking linearizability is NP-complete,
Gibbons & Korach 1997), so ``check`` takes a ``timeout``: a search that runs
out of time reports ``status == "unknown"`` with ``ok == False`` and says so,
rather than hanging a test run.

Recording histories
-------------------
``History`` is a thread-safe recorder. Each event (invoke / ok / fail / info)
takes the next number of a global sequence under a lock, and that number is
the event's time: if an operation's completion was recorded before another's
invocation, the first really finished before the second began, which is all
linearizability needs (Jepsen uses history indices the same way). Wall-clock
``time.monotonic_ns()`` is kept alongside for humans.

Example::

    from tinykv.linearizability import History, check

    h = History()
    with h.operation(client=1, f="put", key=b"x", value=b"1") as op:
        cl.put(b"x", b"1")
        op.ok()
    result = check(h)
    assert result.ok, result.explanation

References
----------
* M. Herlihy, J. Wing. Linearizability: a correctness condition for
  concurrent objects. TOPLAS 12(3), 1990.
* J. Wing, C. Gong. Testing and verifying concurrent objects. JPDC 17(1-2),
  1993.
* G. Lowe. Testing for linearizability. Concurrency and Computation:
  Practice and Experience 29(4), 2017.
* A. Horn, D. Kroening. Faster linearizability checking via
  P-compositionality. FORTE 2015.
* P. Gibbons, E. Korach. Testing shared memories. SIAM J. Computing 26(4),
  1997 (the problem is NP-complete).
* A. Athalye. Porcupine: a fast linearizability checker in Go.
  https://github.com/anishathalye/porcupine
* K. Kingsbury. Knossos. https://github.com/jepsen-io/knossos
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

__all__ = [
    "Operation", "Event", "History", "KVModel", "Result", "KeyResult", "check",
    "assert_linearizable", "operations_from_events", "LINEARIZABLE", "NOT_LINEARIZABLE",
    "UNKNOWN", "UNOBSERVED",
]

LINEARIZABLE = "linearizable"
NOT_LINEARIZABLE = "not linearizable"
UNKNOWN = "unknown"  # the search ran out of time or steps

_FUNCTIONS = ("get", "put", "delete", "cas")
_STATUSES = ("ok", "fail", "info")


# --------------------------------------------------------------------------------------------
# Operations and events
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Operation:
    """One completed (or abandoned) operation of a history.

    ``f`` is ``"get"``, ``"put"``, ``"delete"`` or ``"cas"``.
    ``value`` is the input: the value for ``put``; ``(expected, new)`` for ``cas``
    (``expected=None``: succeed only if the key is absent); ``None`` otherwise.
    ``output`` is what the store answered: the value or ``None`` (absent) for ``get``;
    ``True``/``False`` for ``cas``; ``None`` for ``put``; ``None`` (not checked) or a bool
    "the key existed" for ``delete``.
    ``call`` and ``ret`` are the invocation and response times (any comparable numbers;
    at equal times the operations count as concurrent). ``status`` is ``"ok"`` (completed
    with ``output``), ``"fail"`` (definitely did not take effect; ignored by the checker) or
    ``"info"`` (outcome unknown: pending until +infinity, output ignored). ``ret`` may be
    ``math.inf`` for an info operation. ``index`` is its position in the source history.
    """

    client: Any
    f: str
    key: Hashable
    value: Any = None
    output: Any = None
    call: float = 0
    ret: float = math.inf
    status: str = "ok"
    index: int = -1

    def __post_init__(self):
        if self.f not in _FUNCTIONS:
            raise ValueError(f"unknown operation {self.f!r}; expected one of {_FUNCTIONS}")
        if self.status not in _STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {_STATUSES}")
        if self.f == "cas" and not (isinstance(self.value, tuple) and len(self.value) == 2):
            raise ValueError(f"cas needs value=(expected, new), got {self.value!r}")
        if self.ret < self.call:
            raise ValueError(f"operation returns before it is called: {self}")
        if self.status == "ok" and math.isinf(self.ret):
            raise ValueError(f"a completed ('ok') operation needs a finite ret: {self}")
        if self.status == "ok" and self.f == "cas" and not isinstance(self.output, bool):
            raise ValueError(f"a completed cas must output True or False: {self}")

    # Constructors for hand-written histories. ``ret=None`` means "no response was seen"
    # (status "info"), which is what a timeout looks like to a client.
    @classmethod
    def get(cls, client, key, output, call, ret, **kw) -> "Operation":
        return cls._make(client, "get", key, None, output, call, ret, **kw)

    @classmethod
    def put(cls, client, key, value, call, ret, **kw) -> "Operation":
        return cls._make(client, "put", key, value, None, call, ret, **kw)

    @classmethod
    def delete(cls, client, key, call, ret, output=None, **kw) -> "Operation":
        return cls._make(client, "delete", key, None, output, call, ret, **kw)

    @classmethod
    def cas(cls, client, key, expected, new, output, call, ret, **kw) -> "Operation":
        return cls._make(client, "cas", key, (expected, new), output, call, ret, **kw)

    @classmethod
    def _make(cls, client, f, key, value, output, call, ret, status=None, index=-1):
        if ret is None:
            return cls(client, f, key, value, None, call, math.inf, status or "info", index)
        return cls(client, f, key, value, output, call, ret, status or "ok", index)

    @property
    def unknown(self) -> bool:
        """True when the outcome is unknown (status "info")."""
        return self.status == "info"

    def describe(self) -> str:
        """A one-line human description, e.g. ``c3 cas(b'k', None -> b'v') -> True @[4, 9]``."""
        if self.f == "get":
            body = f"get({_short(self.key)})"
        elif self.f == "put":
            body = f"put({_short(self.key)}, {_short(self.value)})"
        elif self.f == "delete":
            body = f"delete({_short(self.key)})"
        else:
            exp, new = self.value
            body = f"cas({_short(self.key)}, {_short(exp)} -> {_short(new)})"
        if self.status == "info":
            out = " -> ?"
        elif self.status == "fail":
            out = " -> failed"
        elif self.f == "put" or (self.f == "delete" and self.output is None):
            out = ""
        else:
            out = f" -> {_short(self.output)}"
        ret = "?" if math.isinf(self.ret) else _num(self.ret)
        where = f"#{self.index} " if self.index >= 0 else ""
        return f"{where}c{self.client} {body}{out} @[{_num(self.call)}, {ret}]"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of an event log: an invocation or a completion.

    ``type`` is ``"invoke"``, ``"ok"``, ``"fail"`` or ``"info"``. On an invocation, ``value``
    is the operation's input; on ``ok`` it is the output. ``op`` links a completion to its
    invocation (when omitted, the completion matches the client's outstanding invocation,
    as in Jepsen, where a client has at most one operation in flight). ``time`` is the
    position in the log; ``wall_ns`` the monotonic clock reading when recorded.
    """

    type: str
    client: Any
    f: str | None = None
    key: Hashable = None
    value: Any = None
    op: int | None = None
    time: int = -1
    wall_ns: int = 0


def operations_from_events(events: Iterable[Event | tuple]) -> list[Operation]:
    """Pairs invocations with completions (by ``Event.op`` or else by client).

    Tuples are accepted for hand-written logs: ``("invoke", client, f, key, value)``,
    ``("ok", client, output)``, ``("fail", client)``, ``("info", client)``. An invocation
    with no completion is an unknown-outcome operation (status "info"). Event times
    default to the position in the list.
    """
    ops: list[Operation | None] = []
    open_by_op: dict[int, int] = {}
    open_by_client: dict[Any, int] = {}
    pending: dict[int, tuple] = {}
    for pos, ev in enumerate(events):
        if isinstance(ev, tuple):
            ev = _event_from_tuple(ev, pos)
        t = ev.time if ev.time >= 0 else pos
        if ev.type == "invoke":
            if ev.f not in _FUNCTIONS:
                raise ValueError(f"event {pos}: unknown operation {ev.f!r}")
            slot = len(ops)
            ops.append(None)
            pending[slot] = (ev, t)
            if ev.op is not None:
                open_by_op[ev.op] = slot
            else:
                if ev.client in open_by_client:
                    raise ValueError(f"event {pos}: client {ev.client!r} invokes while its "
                                     "previous operation is outstanding; give events an op id")
                open_by_client[ev.client] = slot
        elif ev.type in ("ok", "fail", "info"):
            if ev.op is not None:
                slot = open_by_op.pop(ev.op, None)
            else:
                slot = open_by_client.pop(ev.client, None)
            if slot is None:
                raise ValueError(f"event {pos}: {ev.type} for client {ev.client!r} "
                                 "matches no outstanding invocation")
            inv, call = pending.pop(slot)
            output = ev.value if ev.type == "ok" else None
            ret = t if ev.type != "info" else math.inf
            ops[slot] = Operation(inv.client, inv.f, inv.key, inv.value, output, call, ret,
                                  ev.type, slot)
        else:
            raise ValueError(f"event {pos}: unknown event type {ev.type!r}")
    for slot, (inv, call) in pending.items():  # never completed: outcome unknown
        ops[slot] = Operation(inv.client, inv.f, inv.key, inv.value, None, call, math.inf,
                              "info", slot)
    return [op for op in ops if op is not None]


def _event_from_tuple(t: tuple, pos: int) -> Event:
    kind = t[0]
    if kind == "invoke":
        if len(t) not in (4, 5):
            raise ValueError(f"event {pos}: expected ('invoke', client, f, key[, value]): {t!r}")
        return Event("invoke", t[1], t[2], t[3], t[4] if len(t) == 5 else None)
    if kind == "ok":
        return Event("ok", t[1], value=t[2] if len(t) > 2 else None)
    if kind in ("fail", "info"):
        return Event(kind, t[1])
    raise ValueError(f"event {pos}: unknown event type {kind!r}")


# --------------------------------------------------------------------------------------------
# The recorder
# --------------------------------------------------------------------------------------------

class History:
    """A thread-safe recorder of a concurrent history.

    Call ``invoke`` immediately before sending a request and ``ok``/``fail``/``info``
    immediately after its outcome is known. ``fail`` only when the operation certainly
    had no effect; when in doubt (timeouts, lost connections, unknown errors) use ``info``.
    Every event takes the next number of a sequence under a lock; that number is its time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._open: dict[int, Event] = {}
        self._next_op = 0

    def invoke(self, client: Hashable, f: str, key: Hashable, value: Any = None) -> int:
        """Records an invocation; returns the handle to complete it with."""
        if f not in _FUNCTIONS:
            raise ValueError(f"unknown operation {f!r}; expected one of {_FUNCTIONS}")
        if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"cas needs value=(expected, new), got {value!r}")
        with self._lock:
            handle = self._next_op
            self._next_op += 1
            ev = Event("invoke", client, f, key, value, handle, len(self._events),
                       time.monotonic_ns())
            self._events.append(ev)
            self._open[handle] = ev
        return handle

    def ok(self, handle: int, output: Any = None) -> None:
        """The operation completed; ``output`` is what a get/cas/delete returned."""
        self._complete(handle, "ok", output)

    def fail(self, handle: int) -> None:
        """The operation certainly did not take effect."""
        self._complete(handle, "fail", None)

    def info(self, handle: int) -> None:
        """The outcome is unknown: it may or may not have taken effect."""
        self._complete(handle, "info", None)

    def _complete(self, handle: int, kind: str, output) -> None:
        with self._lock:
            inv = self._open.pop(handle, None)
            if inv is None:
                raise ValueError(f"operation {handle} is not outstanding")
            self._events.append(Event(kind, inv.client, inv.f, inv.key, output, handle,
                                      len(self._events), time.monotonic_ns()))

    @contextlib.contextmanager
    def operation(self, client: Hashable, f: str, key: Hashable, value: Any = None, *,
                  fail_on: tuple[type[BaseException], ...] = ()) -> Iterator["_OpHandle"]:
        """Context manager around one operation::

            with history.operation(c, "cas", k, (old, new)) as op:
                op.ok(cl.cas(k, old, new))

        An exception leaving the block is recorded as ``fail`` when it is an instance of
        ``fail_on`` (errors that guarantee no effect), otherwise as ``info``, and re-raised.
        Leaving the block without completing the operation records ``info``.
        """
        handle = _OpHandle(self, self.invoke(client, f, key, value))
        try:
            yield handle
        except BaseException as e:
            if not handle.done:
                if fail_on and isinstance(e, fail_on):
                    handle.fail()
                else:
                    handle.info()
            raise
        if not handle.done:
            handle.info()

    def record(self, client: Hashable, f: str, key: Hashable, fn: Callable[[], Any],
               value: Any = None, *, fail_on: tuple[type[BaseException], ...] = ()) -> Any:
        """Runs ``fn()`` as one operation and records it; returns ``fn``'s result.

        The result is the output for get/cas (and delete, when it returns a bool); for put
        it is ignored. Exceptions are recorded as in ``operation`` and re-raised.
        """
        with self.operation(client, f, key, value, fail_on=fail_on) as op:
            out = fn()
            op.ok(out if f in ("get", "cas") or (f == "delete" and isinstance(out, bool))
                  else None)
            return out

    def events(self) -> list[Event]:
        """A copy of the event log, in order."""
        with self._lock:
            return list(self._events)

    def operations(self) -> list[Operation]:
        """The operations so far; invocations still outstanding count as unknown-outcome."""
        return operations_from_events(self.events())

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    # Serialization, so a failing run can be saved next to its seed and re-checked later.
    def to_json(self) -> str:
        """The event log as JSON (bytes are tagged and base64-encoded)."""
        rows = [{"type": e.type, "client": _enc(e.client), "f": e.f, "key": _enc(e.key),
                 "value": _enc(e.value), "op": e.op, "time": e.time, "wall_ns": e.wall_ns}
                for e in self.events()]
        return json.dumps(rows)

    @classmethod
    def from_json(cls, text: str) -> "History":
        """The inverse of ``to_json``."""
        h = cls()
        for r in json.loads(text):
            ev = Event(r["type"], _dec(r["client"]), r["f"], _dec(r["key"]), _dec(r["value"]),
                       r["op"], r["time"], r["wall_ns"])
            h._events.append(ev)
            if ev.type == "invoke":
                h._open[ev.op] = ev
                h._next_op = max(h._next_op, ev.op + 1)
            else:
                h._open.pop(ev.op, None)
        return h


class _OpHandle:
    """Completes one recorded operation exactly once."""

    def __init__(self, history: History, handle: int):
        self._history = history
        self.handle = handle
        self.done = False

    def ok(self, output=None) -> None:
        self._finish()
        self._history.ok(self.handle, output)

    def fail(self) -> None:
        self._finish()
        self._history.fail(self.handle)

    def info(self) -> None:
        self._finish()
        self._history.info(self.handle)

    def _finish(self) -> None:
        if self.done:
            raise ValueError(f"operation {self.handle} already completed")
        self.done = True


def _enc(v):
    if isinstance(v, bytes):
        return {"b64": base64.b64encode(v).decode()}
    if isinstance(v, tuple):
        return {"tuple": [_enc(x) for x in v]}
    return v


def _dec(v):
    if isinstance(v, dict) and "b64" in v:
        return base64.b64decode(v["b64"])
    if isinstance(v, dict) and "tuple" in v:
        return tuple(_dec(x) for x in v["tuple"])
    return v


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

class _Unobserved:
    """The value of a write that no operation ever observes (see ``KVModel.prepare``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<a value nobody observed>"


UNOBSERVED = _Unobserved()


class KVModel:
    """The sequential specification of one key: a register holding a value or nothing.

    The state is the value, or ``None`` when the key is absent. ``step(state, op)``
    returns ``(legal, next_state)``: whether ``op`` could have produced its output in
    ``state``, and the state after it. States must be hashable (they are memoized).
    An unknown-outcome operation is legal in every state (its output is not checked).
    """

    #: The checker may apply its dominance rules for unknown-outcome operations (see
    #: ``_check_key``); they hold for this register semantics. A model for which they do
    #: not hold must leave this False.
    prunes_pending = True

    def __init__(self, initial: dict | None = None):
        self._initial = dict(initial or {})

    def prepare(self, key: Hashable, ops: list[Operation]) -> tuple[list[Operation], Any]:
        """Returns the operations and initial state the search runs on.

        A state abstraction: the register's value matters only where an operation compares
        it with something, namely a get's output, a cas's expected value, and whether the
        key is present (delete's output). Every other value is indistinguishable from every
        other one, so writes of values no operation observes write one shared token
        (``UNOBSERVED``) instead. This is exact (the same histories pass) and merges
        configurations that differ only in unobserved values, which also makes
        unknown-outcome writes of such values interchangeable.
        """
        observed = set()
        for op in ops:
            if op.f == "get" and op.status == "ok" and op.output is not None:
                observed.add(op.output)
            elif op.f == "cas" and op.value[0] is not None:
                observed.add(op.value[0])

        def abstract(v):
            return v if v is None or v in observed else UNOBSERVED

        out = []
        for op in ops:
            if op.f == "put" and abstract(op.value) is not op.value:
                op = replace(op, value=UNOBSERVED)
            elif op.f == "cas" and abstract(op.value[1]) is not op.value[1]:
                op = replace(op, value=(op.value[0], UNOBSERVED))
            out.append(op)
        return out, abstract(self.init(key))

    @staticmethod
    def effect(op: Operation) -> Hashable:
        """Two unknown-outcome operations with equal effects are interchangeable."""
        return (op.f, op.value)

    @staticmethod
    def read_only(op: Operation) -> bool:
        """True when the completed ``op`` never changes the state in any state where it is
        legal: a get, a cas that returned False, a delete that reported nothing to delete."""
        return op.f == "get" or (op.f in ("cas", "delete") and op.output is False)

    @staticmethod
    def blind(op: Operation) -> bool:
        """True when ``op``, applied with an unknown outcome, sets the state regardless of
        the state before it (put, delete)."""
        return op.f in ("put", "delete")

    def init(self, key: Hashable) -> Any:
        """The key's value before the history (None: absent)."""
        return self._initial.get(key)

    @staticmethod
    def step(state, op: Operation):
        f = op.f
        known = op.status == "ok"
        if f == "get":
            return (not known or op.output == state), state
        if f == "put":
            return True, op.value
        if f == "delete":
            out = op.output
            return (not known or out is None or out == (state is not None)), None
        expected, new = op.value
        matches = state == expected
        if not known:
            return True, (new if matches else state)
        if op.output:
            return matches, new
        return not matches, state

    @staticmethod
    def describe_state(state) -> str:
        return "absent" if state is None else _short(state)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass(repr=False)
class KeyResult:
    """The verdict for one key.

    ``linearization`` is a witness order (every operation that took effect, including
    unknown-outcome ones placed where the search put them) when linearizable. When not,
    ``longest_prefix`` is the longest sequence of operations the search managed to
    linearize, ``state`` the model state after it, ``stuck`` the operation that had to be
    linearized next (the earliest response among the rest) and ``candidates`` the operations
    that could have gone next, each with the reason it could not (or "legal here, but every
    continuation fails").
    """

    key: Hashable
    status: str
    operations: int
    linearization: list[Operation] = field(default_factory=list)
    longest_prefix: list[Operation] = field(default_factory=list)
    state: Any = None
    stuck: Operation | None = None
    candidates: list[tuple[Operation, str]] = field(default_factory=list)
    configurations: int = 0
    elapsed: float = 0.0
    explanation: str = ""

    @property
    def ok(self) -> bool:
        """True when the status is ``LINEARIZABLE``."""
        return self.status == LINEARIZABLE

    def __repr__(self) -> str:  # the lists can hold thousands of operations
        return (f"KeyResult(key={self.key!r}, status={self.status!r}, "
                f"operations={self.operations}, configurations={self.configurations})")


@dataclass(repr=False)
class Result:
    """The verdict for a whole history.

    ``ok`` is True only when every key is linearizable. ``status`` is ``LINEARIZABLE``,
    ``NOT_LINEARIZABLE`` (some key has no linearization) or ``UNKNOWN`` (the search ran out
    of time before deciding; never reported as success). ``key`` is the first offending
    key, ``explanation`` a text suitable for an assertion message, ``per_key`` every key's
    ``KeyResult`` (keys not reached before a timeout are absent).
    """

    status: str
    key: Hashable = None
    explanation: str = ""
    per_key: dict = field(default_factory=dict)
    operations: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the status is ``LINEARIZABLE``."""
        return self.status == LINEARIZABLE

    def __str__(self) -> str:
        return self.explanation

    def __repr__(self) -> str:
        return (f"Result(status={self.status!r}, key={self.key!r}, "
                f"operations={self.operations}, keys={len(self.per_key)}, "
                f"elapsed={self.elapsed:.3f})")


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------

class _OutOfTime(Exception):
    pass


_NO_RUN = object()  # marks "the last linearized operation was a completed one"


def check(history: History | Sequence[Operation] | Sequence[Event | tuple], *,
          model: KVModel | None = None, timeout: float = 60.0,
          max_configurations: int | None = None, max_memory_mb: float = 1024,
          stop_at_first: bool = False) -> Result:
    """Decides whether ``history`` is linearizable with respect to ``model`` (a KV register
    per key by default).

    ``history`` is a ``History``, a list of ``Operation`` or an event list (see
    ``operations_from_events``). ``timeout`` (seconds, for the whole history),
    ``max_configurations`` (per key) and ``max_memory_mb`` (an estimate of the memo's size
    per key, so a pathological history cannot exhaust the machine's memory before the
    timeout) bound the search; hitting any gives status ``UNKNOWN``. With
    ``stop_at_first``, keys after the first offending one are not checked.
    """
    start = time.monotonic()
    model = model or KVModel()
    ops = _normalize(history)
    by_key: dict[Hashable, list[Operation]] = {}
    for op in ops:
        if op.status == "fail" or (op.status == "info" and op.f == "get"):
            continue  # no effect, nothing to check
        by_key.setdefault(op.key, []).append(op)
    deadline = start + timeout
    per_key: dict[Hashable, KeyResult] = {}
    first_bad = None
    first_unknown = None
    for key, kops in by_key.items():
        kr = _check_key(key, kops, model, deadline, max_configurations, max_memory_mb)
        per_key[key] = kr
        if kr.status == NOT_LINEARIZABLE and first_bad is None:
            first_bad = key
            if stop_at_first:
                break
        if kr.status == UNKNOWN:
            first_unknown = key if first_unknown is None else first_unknown
            if time.monotonic() >= deadline:
                break
    elapsed = time.monotonic() - start
    n = len(ops)
    if first_bad is not None:
        bad = per_key[first_bad]
        others = [k for k, r in per_key.items() if r.status == NOT_LINEARIZABLE and
                  k != first_bad]
        text = (f"history of {_plural(n, 'operation')} is NOT linearizable: key "
                f"{_short(first_bad)} ({_plural(bad.operations, 'operation')}) has no "
                "linearization")
        if others:
            text += f"; other offending keys: {', '.join(_short(k) for k in others[:10])}"
        text += "\n" + bad.explanation
        return Result(NOT_LINEARIZABLE, first_bad, text, per_key, n, elapsed)
    if first_unknown is not None:
        unchecked = len(by_key) - len(per_key)
        text = (f"linearizability of a history of {_plural(n, 'operation')} is UNKNOWN: "
                f"the search for key {_short(first_unknown)} gave up "
                f"({per_key[first_unknown].explanation})")
        if unchecked:
            text += f"; {unchecked} key(s) were not checked"
        return Result(UNKNOWN, first_unknown, text, per_key, n, elapsed)
    text = (f"history of {_plural(n, 'operation')} over {_plural(len(by_key), 'key')} is "
            "linearizable "
            f"(checked in {elapsed:.3f} s)")
    return Result(LINEARIZABLE, None, text, per_key, n, elapsed)


def assert_linearizable(history: "History | Sequence[Operation]", *,
                        save_to: str | None = None, **kwargs: Any) -> Result:
    """``check(history, **kwargs)`` for tests: returns the ``Result`` when linearizable and
    raises ``AssertionError`` with the explanation otherwise (also when the search gave up:
    an undecided history is not a pass). With ``save_to`` (a path) and a ``History``, the
    event log is written there as JSON first, so the failure can be re-checked with
    ``check(History.from_json(open(path).read()))``."""
    result = check(history, **kwargs)
    if result.ok:
        return result
    message = result.explanation
    if save_to is not None and isinstance(history, History):
        with open(save_to, "w", encoding="utf-8") as f:
            f.write(history.to_json())
        message += f"\n  history saved to {save_to}"
    raise AssertionError(message)


def _normalize(history) -> list[Operation]:
    if isinstance(history, History):
        return history.operations()
    items = list(history)
    if not items:
        return []
    if all(isinstance(x, Operation) for x in items):
        return [op if op.index >= 0 else replace(op, index=i) for i, op in enumerate(items)]
    if all(isinstance(x, (Event, tuple)) for x in items):
        return operations_from_events(items)
    raise TypeError("history must be a History, a list of Operation, or a list of events")


def _check_key(key, ops: list[Operation], model, deadline: float,
               max_configurations: int | None, max_memory_mb: float = 1024) -> KeyResult:
    """Wing & Gong's search with Lowe's memoization over one key's operations.

    Completed operations live in a doubly linked list of call/return entries sorted by
    time (calls before returns at equal times, so touching intervals count as concurrent).
    The candidates to linearize next are the calls before the first return entry in the
    list, then the unknown-outcome ("pending") operations invoked no later than that return
    (they are kept apart, sorted by call time, and never block the search since they never
    return). A configuration is (completed operations linearized, pending operations
    linearized, model state, and the state before the current run of pending operations);
    each is explored at most once.

    If the model has ``prepare`` (the KV register's state abstraction), the search runs
    on the operations and initial state it returns. For a model with ``prunes_pending``
    (the KV register), rules 1-4 keep unknown-outcome operations from multiplying the
    search, and for a model with ``read_only``, rule 5 keeps reads from doing the same.
    Each skips only configurations whose every continuation is also a continuation of one
    the search does explore, so verdicts are unchanged (the brute-force and exact-reference
    comparisons in the tests check this):

    1. a pending operation that leaves the state unchanged is not applied (leaving it
       unused is at least as good: it can always go last);
    2. a pending blind write (put, delete) is not applied directly on top of another
       pending operation (it would hide that one's effect from everybody: apply it alone);
    3. after a run of pending operations, the next completed operation must be one that
       was illegal in the state before the run: if it was legal there, the run can be moved
       after it (it did not change the state: get, failed cas) or dropped (it overwrote the
       run's effect: put, delete, or a cas that held in both states, so the run was a no-op);
    4. pending operations with equal effects (``model.effect``) are interchangeable once
       invoked, since they never expire: only the earliest unused one of each is tried;
    5. a completed operation that never changes the state (``model.read_only``: a get, a
       cas that returned False) and is legal now is linearized now, and no other candidate
       is tried in its place: in any continuation it can be moved to the front.

    And for every model, the memo is a subsumption check rather than an exact match: a
    configuration is skipped when one with the same completed operations, state and run
    base but a *subset* of its pending operations used was already explored, because
    having more pending operations still available can only help.
    """
    t0 = time.monotonic()
    prepare = getattr(model, "prepare", None)
    if prepare is not None:
        search_ops, state = prepare(key, ops)
    else:
        search_ops, state = ops, model.init(key)
    done_idx = [i for i, op in enumerate(ops) if op.status == "ok"]
    pend_idx = sorted((i for i, op in enumerate(ops) if op.status == "info"),
                      key=lambda i: ops[i].call)
    done = [search_ops[i] for i in done_idx]
    pend = [search_ops[i] for i in pend_idx]
    n, m = len(done), len(pend)
    step = model.step
    prune = bool(getattr(model, "prunes_pending", False))
    pblind = [prune and model.blind(op) for op in pend]
    read_only = getattr(model, "read_only", None)
    dro = [read_only is not None and read_only(op) for op in done]
    # Rule 4: twin[j] is the previous pending operation with the same effect, or -1.
    twin = [-1] * m
    if prune:
        last_of: dict = {}
        for j, op in enumerate(pend):
            eff = model.effect(op)
            twin[j] = last_of.get(eff, -1)
            last_of[eff] = j

    # Main list: entry 0 is the head; entries 1..2n are calls/returns. -1 terminates.
    order = sorted([(op.call, 0, i) for i, op in enumerate(done)] +
                   [(op.ret, 1, i) for i, op in enumerate(done)])
    size = 2 * n + 1
    nxt = list(range(1, size)) + [-1]
    prv = [-1] + list(range(0, size - 1))
    e_time = [0] * size
    e_ret = [False] * size
    e_op = [0] * size
    e_match = [0] * size
    call_entry = [0] * n
    for pos, (t, is_ret, i) in enumerate(order, start=1):
        e_time[pos], e_ret[pos], e_op[pos] = t, bool(is_ret), i
        if is_ret:
            e_match[call_entry[i]] = pos
        else:
            call_entry[i] = pos
    # Pending list: entry 0 is the head; entries 1..m hold pend[0..m-1].
    inxt = list(range(1, m + 1)) + [-1]
    iprv = [-1] + list(range(0, m))

    dbits = 0                          # bitset of linearized completed operations
    pbits = 0                          # bitset of linearized pending operations
    # The memo: (completed bitset, state, run base) -> pending bitsets explored with it.
    cache: dict = {}
    configurations = 0
    stack: list[tuple] = []  # (is_pending, entry, state before, bound, run before, forced)
    run = _NO_RUN                      # the state before the trailing run of pending ops
    depth = 0                          # completed operations linearized
    best_depth = -1
    best: tuple = ()
    counter = 0
    # About 150 bytes of tuple, dict and list overhead per memo entry (measured: 137 with
    # 29 operations) plus the bitset itself (measured: 218 in all with 3000 operations).
    memory_limit = int(max_memory_mb * 2**20 / (150 + (n + m) / 8))
    limit = memory_limit if max_configurations is None else min(max_configurations,
                                                                memory_limit)

    entry = nxt[0]
    in_pend = False
    ientry = 0
    bound = 0.0
    try:
        while True:
            if nxt[0] == -1:  # every completed operation is linearized: success
                lin = [done_idx[e_op[x]] if not p else pend_idx[x - 1]
                       for p, x, _, _, _, _ in stack]
                return KeyResult(key, LINEARIZABLE, len(ops),
                                 linearization=[ops[i] for i in lin],
                                 configurations=configurations, elapsed=time.monotonic() - t0,
                                 explanation="linearizable")
            counter += 1
            if counter & 0xFFF == 0:
                if time.monotonic() > deadline:
                    raise _OutOfTime("timeout")
                if configurations > limit:
                    raise _OutOfTime("configuration limit" if limit != memory_limit else
                                     f"memory limit of about {max_memory_mb:g} MB")
            if not in_pend:
                if not e_ret[entry]:
                    i = e_op[entry]
                    legal, new_state = step(state, done[i])
                    if legal and (run is _NO_RUN or not step(run, done[i])[0]):  # rule 3
                        new_dbits = dbits | (1 << i)
                        if _memo_add(cache, (new_dbits, new_state, _NO_RUN), pbits):
                            configurations += 1
                            stack.append((False, entry, state, 0, run, dro[i]))
                            state, dbits, run = new_state, new_dbits, _NO_RUN
                            # lift the call entry and its return entry out of the list
                            a, b = prv[entry], nxt[entry]
                            nxt[a] = b
                            prv[b] = a
                            r = e_match[entry]
                            a, b = prv[r], nxt[r]
                            nxt[a] = b
                            if b != -1:
                                prv[b] = a
                            depth += 1
                            if depth > best_depth:
                                best_depth = depth
                                best = tuple(stack)
                            entry = nxt[0]
                            continue
                    entry = nxt[entry]
                    continue
                # The first return entry: nothing after it can precede it. Try pending ops.
                bound = e_time[entry]
                in_pend = True
                ientry = inxt[0]
                continue
            if ientry != -1 and pend[ientry - 1].call <= bound:
                j = ientry - 1
                legal, new_state = step(state, pend[j])
                if legal and prune and (
                        new_state == state                                  # rule 1
                        or (run is not _NO_RUN and pblind[j])               # rule 2
                        or (twin[j] >= 0 and not (pbits >> twin[j]) & 1)):  # rule 4
                    legal = False
                if legal:
                    new_pbits = pbits | (1 << j)
                    new_run = (state if run is _NO_RUN else run) if prune else _NO_RUN
                    if _memo_add(cache, (dbits, new_state, new_run), new_pbits):
                        configurations += 1
                        stack.append((True, ientry, state, bound, run, False))
                        state, pbits, run = new_state, new_pbits, new_run
                        a, b = iprv[ientry], inxt[ientry]
                        inxt[a] = b
                        if b != -1:
                            iprv[b] = a
                        in_pend = False
                        entry = nxt[0]
                        continue
                ientry = inxt[ientry]
                continue
            # No candidate works here: backtrack (past forced choices: rule 5).
            if not stack:
                break
            is_pend, x, state, bound, run, forced = stack.pop()
            while forced and stack:
                _undo_main(x, e_match, nxt, prv)
                dbits &= ~(1 << e_op[x])
                depth -= 1
                is_pend, x, state, bound, run, forced = stack.pop()
                if is_pend:
                    break
            if forced:   # the root itself was forced: nothing left to try
                break
            if is_pend:
                pbits &= ~(1 << (x - 1))
                a, b = iprv[x], inxt[x]
                inxt[a] = x
                if b != -1:
                    iprv[b] = x
                in_pend = True
                ientry = inxt[x]
            else:
                dbits &= ~(1 << e_op[x])
                _undo_main(x, e_match, nxt, prv)
                depth -= 1
                in_pend = False
                entry = nxt[x]
    except _OutOfTime as why:
        elapsed = time.monotonic() - t0
        text = (f"gave up after {elapsed:.1f} s and {configurations} configurations ({why}); "
                f"{max(best_depth, 0)} of {n} completed operations linearized at best")
        return KeyResult(key, UNKNOWN, len(ops), configurations=configurations, elapsed=elapsed,
                         explanation=text)

    prefix = [ops[done_idx[e_op[x]]] if not p else ops[pend_idx[x - 1]]
              for p, x, _, _, _, _ in best]
    used = {id(op) for op in prefix}
    rest = [ops[i] for i in done_idx if id(ops[i]) not in used]
    kr = _explain(key, ops, prefix, rest, [ops[i] for i in pend_idx], model)
    kr.configurations = configurations
    kr.elapsed = time.monotonic() - t0
    return kr


def _undo_main(x: int, e_match: list, nxt: list, prv: list) -> None:
    """Puts call entry x and its return entry back into the list (the inverse of lifting)."""
    r = e_match[x]
    a, b = prv[r], nxt[r]
    nxt[a] = r
    if b != -1:
        prv[b] = r
    a, b = prv[x], nxt[x]
    prv[b] = x
    nxt[a] = x


def _memo_add(cache: dict, ck: tuple, pbits: int) -> bool:
    """Records configuration (ck, pbits) unless one with a subset of pbits was explored.
    Returns True when the configuration is new (to be explored). A key usually has a single
    pending bitset, stored as an int; a list only when there are several."""
    seen = cache.get(ck)
    if seen is None:
        cache[ck] = pbits
        return True
    if type(seen) is int:
        if seen | pbits == pbits:
            return False
        cache[ck] = [seen, pbits]
        return True
    for q in seen:
        if q | pbits == pbits:
            return False
    seen.append(pbits)
    return True


def _explain(key, ops, prefix, rest, pend, model) -> KeyResult:
    """Builds the failure report from the deepest configuration the search reached.

    The prefix is replayed on the real values (the search may have used the abstract
    ones of ``KVModel.prepare``)."""
    initial_state = state = model.init(key)
    for op in prefix:
        _, state = model.step(state, op)
    stuck = min(rest, key=lambda o: (o.ret, o.call)) if rest else None
    candidates: list[tuple[Operation, str]] = []
    if stuck is not None:
        used = {id(op) for op in prefix}
        cands = [op for op in rest if op.call <= stuck.ret]
        cands += [op for op in pend if id(op) not in used and op.call <= stuck.ret]
        cands.sort(key=lambda o: o.call)
        for op in cands:
            legal, _ = model.step(state, op)
            now = model.describe_state(state)
            if legal:
                why = "legal here, but no continuation from it linearizes the rest"
            elif op.f == "get":
                why = f"returned {_short(op.output)}, but the value is {now}"
            elif op.f == "cas" and op.output:
                why = (f"returned True, but the value is {now}, not the expected "
                       f"{model.describe_state(op.value[0])}")
            elif op.f == "cas":
                why = f"returned False, but the value is the expected one, {now}"
            else:
                why = f"returned {op.output}, but the value is {now}"
            candidates.append((op, why))

    lines = [f"  initial value: {model.describe_state(initial_state)}"]
    shown = prefix[-12:]
    lines.append(f"  longest linearizable prefix: {_plural(len(prefix), 'operation')}"
                 + (f" (last {len(shown)} shown)" if len(shown) < len(prefix) else "") + ":")
    for op in shown:
        lines.append(f"    {op.describe()}")
    lines.append(f"  value after that prefix: {model.describe_state(state)}")
    if stuck is not None:
        lines.append(f"  stuck: {stuck.describe()} has returned, so it or an operation "
                     "invoked before it must come next, and none can:")
        for op, why in candidates:
            lines.append(f"    {op.describe()}: {why}")
        hint = _hint(stuck, ops)
        if hint:
            lines.append(f"  note: {hint}")
    return KeyResult(key, NOT_LINEARIZABLE, len(ops), longest_prefix=prefix, state=state,
                     stuck=stuck, candidates=candidates, explanation="\n".join(lines))


def _hint(stuck: Operation, ops: list[Operation]) -> str:
    """A plain-words diagnosis for the commonest anomalies."""
    if stuck.f != "get" or stuck.output is None:
        return ""
    v = stuck.output
    writers = [op for op in ops if (op.f == "put" and op.value == v) or
               (op.f == "cas" and op.value[1] == v and op.output is not False)]
    if not writers:
        return f"{_short(v)} was never written to this key"
    if all(op.call > stuck.ret for op in writers):
        return f"{_short(v)} was read before any write of it was invoked"
    if len(writers) == 1 and writers[0].status == "ok":
        w = writers[0]
        for w2 in ops:
            if (w2.status == "ok" and w2.call > w.ret and w2.ret < stuck.call and
                    (w2.f in ("put", "delete") or (w2.f == "cas" and w2.output))):
                return (f"stale read: {_short(v)} was written by {w.describe()} and "
                        f"overwritten by {w2.describe()} before the read was invoked")
    return ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _short(v, limit: int = 40) -> str:
    s = repr(v)
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _num(t) -> str:
    return str(int(t)) if isinstance(t, (int, float)) and float(t).is_integer() else f"{t}"
