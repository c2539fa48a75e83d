"""Client workloads for the system tests: writers that remember what was acknowledged,
the bank of transfer transactions (also run by tests/phase4), and the nemesis that
kills, pauses and partitions nodes under them."""

from __future__ import annotations

import random
import threading
import time

import tinykv


class _Threads:
    """Worker threads that run until ``stop()``: started when the ``with`` block begins,
    stopped and joined when it ends."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)


class Writers(_Threads):
    """``n`` threads, each with its own client, writing unique keys ``w<t>-<seq>`` until
    stopped. ``acked`` holds every (key, value) whose put returned; ``unknown`` every key
    whose put raised (it may or may not have been applied)."""

    def __init__(self, cluster, n: int = 4, timeout: float = 5.0, prefix: str = "w"):
        super().__init__()
        self.cluster = cluster
        self.acked: dict[bytes, bytes] = {}
        self.unknown: set[bytes] = set()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t, timeout, prefix),
                                          name=f"writer-{t}", daemon=True) for t in range(n)]

    def count(self) -> int:
        with self._lock:
            return len(self.acked)

    def wait_for(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.count()} of {n} writes acknowledged in {timeout}s;"
                                   f" errors: {self.errors[-5:]}")
            time.sleep(0.01)

    def _run(self, t: int, timeout: float, prefix: str) -> None:
        cl = self.cluster.client(timeout=timeout)
        seq = 0
        while not self._stop.is_set():
            key = f"{prefix}{t}-{seq:06d}".encode()
            value = f"v{t}-{seq}".encode() * 4
            try:
                cl.put(key, value)
                with self._lock:
                    self.acked[key] = value
            except tinykv.Error as e:
                with self._lock:
                    self.unknown.add(key)
                    self.errors.append(f"{type(e).__name__}: {e}")
            seq += 1


def nemesis_loop(cluster, rng, stop, log):
    """Until ``stop`` is set, every 0.2-0.8 s one of: SIGKILL a node, SIGSTOP one (at most
    one node down or paused at a time), partition the nodes in two random groups, heal,
    or recover (resume the paused, restart the killed). Each action goes to ``log``
    with its time. At the end everything is resumed, restarted and healed."""
    down: set[int] = set()
    paused: set[int] = set()
    ids = sorted(cluster.nodes)
    while not stop.is_set():
        time.sleep(rng.uniform(0.2, 0.8))
        action = rng.choice(["kill", "pause", "partition", "heal", "recover"])
        if action == "kill" and len(down | paused) < 1:
            i = rng.choice(ids)
            cluster.kill(i)
            down.add(i)
        elif action == "pause" and len(down | paused) < 1:
            i = rng.choice(ids)
            cluster.pause(i)
            paused.add(i)
        elif action == "partition":
            shuffled = ids[:]
            rng.shuffle(shuffled)
            cut = rng.randint(1, len(ids) - 1)
            groups = [shuffled[:cut], shuffled[cut:]]
            cluster.partition(groups)
            action = f"partition {groups}"
        elif action == "heal":
            cluster.heal()
        elif action == "recover":
            for i in sorted(paused):
                cluster.resume(i)
            for i in sorted(down):
                cluster.restart(i)
            action = f"recover paused={sorted(paused)} down={sorted(down)}"
            down.clear()
            paused.clear()
        else:
            continue
        log.append(f"{time.monotonic():.2f} {action}" +
                   (f" {i}" if action in ("kill", "pause") else ""))
    for i in sorted(paused):
        cluster.resume(i)
    for i in sorted(down):
        cluster.restart(i)
    cluster.heal()


def read_back(client, pairs: dict[bytes, bytes]) -> list[str]:
    """Every pair read back with a linearizable get; returns the mismatches."""
    bad = []
    for k, v in sorted(pairs.items()):
        got = client.get(k)
        if got != v:
            bad.append(f"{k!r}: want {v!r}, got {got!r}")
    return bad


class Bank(_Threads):
    """Jepsen's bank workload over transactions: ``accounts`` keys ``<prefix><i>`` holding
    balances (decimal bytes), ``initial`` each. ``transferers`` threads move a random
    amount (1-20) from one random account to another in one transaction -- read both,
    skip when the source holds less, write both -- and start a new transaction on
    ``TxnConflictError``; ``readers`` threads read every account in one transaction (a
    scan) and record the snapshot. Each thread has its own client.

    What must hold (``violations()``): every snapshot has every account, no balance
    below zero, and the sum ``accounts * initial``. Any other error (a timeout under
    faults) leaves the transfer's outcome unknown, which changes neither: a transfer is
    applied whole or not at all.
    """

    def __init__(self, cluster, prefix: bytes = b"bank/", accounts: int = 5,
                 initial: int = 100, transferers: int = 3, readers: int = 2, seed: int = 1,
                 timeout: float = 5.0, lock_ttl: float = 3.0):
        super().__init__()
        self.cluster = cluster
        self.keys = [prefix + b"%03d" % i for i in range(accounts)]
        self.prefix = prefix
        self.total = accounts * initial
        self.initial = initial
        self.timeout = timeout
        self.lock_ttl = lock_ttl
        self.snapshots: list[tuple[int, list[tuple[bytes, bytes]]]] = []  # (start_ts, pairs)
        self.counts = {"transfers": 0, "skipped": 0, "conflicts": 0, "reads": 0,
                       "errors": 0}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = (
            [threading.Thread(target=self._transfer, args=(random.Random(seed * 1000 + t),),
                              name=f"transfer-{t}", daemon=True) for t in range(transferers)] +
            [threading.Thread(target=self._read, name=f"reader-{r}", daemon=True)
             for r in range(readers)])

    def __enter__(self) -> "Bank":
        """Opens the accounts (one transaction), then starts the threads."""
        cl = self.cluster.client(timeout=self.timeout * 4)
        with cl.txn(timeout=self.timeout * 4) as t:
            for k in self.keys:
                t.put(k, b"%d" % self.initial)
        return super().__enter__()

    def count(self, what: str) -> int:
        with self._lock:
            return self.counts[what]

    def wait_for(self, transfers: int, reads: int, timeout: float) -> None:
        """Waits until at least ``transfers`` transfers committed and ``reads`` snapshots
        were read (in all, since the start)."""
        deadline = time.monotonic() + timeout
        while self.count("transfers") < transfers or self.count("reads") < reads:
            if time.monotonic() > deadline:
                raise TimeoutError(f"bank: {self.counts} after {timeout}s (wanted "
                                   f"{transfers} transfers, {reads} reads); "
                                   f"errors: {self.errors[-5:]}")
            time.sleep(0.05)

    def check(self, pairs: list[tuple[bytes, bytes]]) -> list[str]:
        """What is wrong with one snapshot of the accounts ([] when nothing)."""
        bad = []
        if [k for k, _ in pairs] != self.keys:
            bad.append(f"accounts {[k for k, _ in pairs]}")
        balances = [int(v) for _, v in pairs]
        if sum(balances) != self.total:
            bad.append(f"sum {sum(balances)} != {self.total}")
        if any(b < 0 for b in balances):
            bad.append("a negative balance")
        return [f"{b}: {balances}" for b in bad]

    def violations(self) -> list[str]:
        """Every snapshot that breaks an invariant, with its start_ts."""
        with self._lock:
            snapshots = list(self.snapshots)
        return [f"start_ts {ts}: {b}" for ts, pairs in snapshots for b in self.check(pairs)]

    def _count(self, what: str, error: BaseException | None = None) -> None:
        with self._lock:
            self.counts[what] += 1
            if error is not None:
                self.errors.append(f"{type(error).__name__}: {error}")

    def _transfer(self, rng: random.Random) -> None:
        cl = self.cluster.client(timeout=self.timeout)
        while not self._stop.is_set():
            src, dst = rng.sample(self.keys, 2)
            amount = rng.randint(1, 20)
            try:
                t = cl.txn(timeout=self.timeout, lock_ttl=self.lock_ttl)
                a, b = int(t.get(src)), int(t.get(dst))
                if a < amount:
                    t.rollback()
                    self._count("skipped")
                    continue
                t.put(src, b"%d" % (a - amount))
                t.put(dst, b"%d" % (b + amount))
                t.commit()
                self._count("transfers")
            except tinykv.TxnConflictError:
                self._count("conflicts")
            except tinykv.Error as e:
                self._count("errors", e)
                time.sleep(0.02)

    def _read(self) -> None:
        cl = self.cluster.client(timeout=self.timeout)
        end = tinykv.client.prefix_end(self.prefix)
        while not self._stop.is_set():
            try:
                t = cl.txn(timeout=self.timeout)
                pairs = t.scan(self.prefix, end)
                t.commit()
                with self._lock:
                    self.snapshots.append((t.start_ts, pairs))
                    self.counts["reads"] += 1
            except tinykv.Error as e:
                self._count("errors", e)
                time.sleep(0.02)
