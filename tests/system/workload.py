"""Client workloads for the system tests: writers that remember what was acknowledged."""

from __future__ import annotations

import threading
import time

import tinykv


class Writers:
    """``n`` threads, each with its own client, writing unique keys ``w<t>-<seq>`` until
    stopped. ``acked`` holds every (key, value) whose put returned; ``unknown`` every key
    whose put raised (it may or may not have been applied)."""

    def __init__(self, cluster, n: int = 4, timeout: float = 5.0, prefix: str = "w"):
        self.cluster = cluster
        self.acked: dict[bytes, bytes] = {}
        self.unknown: set[bytes] = set()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(t, timeout, prefix),
                                          name=f"writer-{t}", daemon=True) for t in range(n)]

    def __enter__(self) -> "Writers":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

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


def read_back(client, pairs: dict[bytes, bytes]) -> list[str]:
    """Every pair read back with a linearizable get; returns the mismatches."""
    bad = []
    for k, v in sorted(pairs.items()):
        got = client.get(k)
        if got != v:
            bad.append(f"{k!r}: want {v!r}, got {got!r}")
    return bad
