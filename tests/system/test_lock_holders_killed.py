"""`tinykv lock NAME -- CMD` processes contending for one lock on a live 3-node cluster,
one holder killed with SIGKILL while it holds: the lock passes on only after the dead
holder's lease TTL, and it is never held by two at once.

Each holder is a small Python command run by `tinykv lock` once the lock is held; it
appends a record (its ETCD_LOCK_REV fencing revision, and CLOCK_MONOTONIC times at which
it started and stopped holding) to a file. The killed holder's interval ends when the
test has seen its process group die. The check: sorted by start, each interval ends
before the next starts, and the fencing revisions strictly increase.

Reproduce: .venv/bin/python -m pytest tests/system/test_lock_holders_killed.py -q
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tinykv import testing

from test_cli import cli_binary  # same folder (the rootdir conftest puts it on the path)

TTL = 2  # seconds: the session lease of every `tinykv lock` here
HOLDER = textwrap.dedent("""
    import json, os, sys, time
    records, name, release = sys.argv[1], sys.argv[2], sys.argv[3]
    start = time.monotonic()
    rev = int(os.environ["ETCD_LOCK_REV"])
    assert os.environ["TINYKV_LOCK_REV"] == str(rev)
    assert os.environ["ETCD_LOCK_KEY"] == os.environ["TINYKV_LOCK_KEY"]
    with open(os.path.join(records, name + ".start"), "w") as f:
        json.dump({"name": name, "rev": rev, "key": os.environ["ETCD_LOCK_KEY"],
                   "start": start}, f)
    # Hold until the release file exists ("-": a fixed short critical section).
    if release == "-":
        time.sleep(0.2)
    else:
        while not os.path.exists(release):
            time.sleep(0.02)
    with open(os.path.join(records, name + ".end"), "w") as f:
        json.dump({"end": time.monotonic()}, f)
""")


@pytest.fixture
def lock_env(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster") as c:
        c.leader()
        records = tmp_path / "records"
        records.mkdir()
        holder = tmp_path / "holder.py"
        holder.write_text(HOLDER)
        yield c, records, holder


def test_a_killed_holder_releases_after_its_ttl_and_holders_never_overlap(lock_env, tmp_path):
    cluster, records, holder = lock_env
    binary = cli_binary()
    endpoints = ",".join(cluster.endpoints)
    procs: dict[str, subprocess.Popen] = {}
    logs: dict[str, Path] = {}

    def start(name: str, release: str = "-") -> None:
        log = tmp_path / f"{name}.log"
        logs[name] = log
        # A session (process group) of its own: the kill takes the command with it.
        with open(log, "wb") as out:
            procs[name] = subprocess.Popen(
                [binary, "--endpoints", endpoints, "lock", "--ttl", str(TTL), "the-lock", "--",
                 sys.executable, str(holder), str(records), name, release],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def queued() -> list[str]:
        p = subprocess.run([binary, "--endpoints", endpoints, "get", "the-lock/", "--prefix",
                            "--keys-only"], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return [k for k in p.stdout.decode().split("\n") if k]

    def history() -> str:
        out = []
        for n in sorted(procs):
            text = logs[n].read_text(errors="replace")
            out.append(f"{n}: rc={procs[n].poll()} log={text!r}")
        for f in sorted(os.listdir(records)):
            out.append(f"{f}: {(records / f).read_text()}")
        return "\n".join(out)

    try:
        # The victim holds (until a release file that never comes), the others queue.
        start("victim", release=str(tmp_path / "never"))
        testing.wait_until(lambda: (records / "victim.start").exists(), timeout=60,
                           what="the first holder to hold the lock")
        for n in ("b", "c"):
            start(n)
        testing.wait_until(lambda: len(queued()) == 3, timeout=60,
                           what="three contenders queued under the-lock/")
        assert not (records / "b.start").exists() and not (records / "c.start").exists(), \
            history()

        # SIGKILL: no code of the victim runs after the kill, so its holding ends here.
        killed_at = time.monotonic()
        os.killpg(procs["victim"].pid, signal.SIGKILL)
        procs["victim"].wait(timeout=30)

        def group_gone() -> bool:  # the holder command died with it (its process group)
            try:
                os.killpg(procs["victim"].pid, 0)
                return False
            except ProcessLookupError:
                return True
        testing.wait_until(group_gone, timeout=30, what="the victim's process group to die")

        for n in ("b", "c"):
            assert procs[n].wait(timeout=120) == 0, history()
        # Then a round of three more contending at once, all ending normally.
        for n in ("d", "e", "f"):
            start(n)
        for n in ("d", "e", "f"):
            assert procs[n].wait(timeout=120) == 0, history()
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    intervals = []
    for n in procs:
        s = json.loads((records / f"{n}.start").read_text())
        end = killed_at if n == "victim" else json.loads((records / f"{n}.end").read_text())["end"]
        intervals.append((s["start"], end, s["rev"], n))
    intervals.sort()
    assert intervals[0][3] == "victim", history()
    for (s0, e0, r0, n0), (s1, e1, r1, n1) in zip(intervals, intervals[1:]):
        assert e0 < s1, f"{n0} held until {e0}, {n1} from {s1}: overlap\n{history()}"
        assert r0 < r1, f"fencing revisions {n0}={r0}, {n1}={r1} do not increase\n{history()}"
    # The dead holder's lease outlived it by at least the part of the TTL left after its
    # last renewal (renewals come every TTL/3): no taker before that.
    takeover = intervals[1][0] - killed_at
    assert takeover >= TTL * 2 / 3 - 0.1, f"taken {takeover:.2f}s after the kill\n{history()}"
    assert queued() == [], history()
