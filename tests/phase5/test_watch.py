"""Watch streams (``tinykv.Client.watch``, ``tinykv watch``) on real 3-node clusters of
tinykv-server processes (tinykv.testing.Cluster: loopback, OS-assigned ports): events in
revision order at the revisions the writes answered, replays from the past, a leader
killed mid-stream (no gap, no duplicate), a watcher too slow for the server's bound
(dropped, resumed, nothing lost), progress, close from another thread, Ctrl-C, the CLI.
Compaction, which only an in-process cluster can trigger yet, is tested on an
EmbeddedCluster."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

import tinykv
from tinykv import testing
from tinykv.testing import find_cli_binary
from tinykv.client import EmbeddedCluster, WatchEvent


def _servers_or_skip():
    try:
        testing.find_server_binary()
    except FileNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    _servers_or_skip()
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("watch")) as c:
        c.leader()
        yield c


@pytest.fixture
def cl(cluster):
    return cluster.client(timeout=10.0)


def leader_status(cluster, cl) -> dict:
    return cl.status(cluster.endpoint(cluster.leader()))


def collect(w, until, timeout: float = 30.0) -> list[WatchEvent]:
    """Events of ``w`` until ``until(events)`` holds; fails after ``timeout`` seconds."""
    events: list[WatchEvent] = []
    deadline = time.monotonic() + timeout
    while not until(events):
        assert time.monotonic() < deadline, f"after {timeout}s the watch gave {events!r}"
        ev = w.next(timeout=0.2)
        if ev is not None:
            events.append(ev)
    return events


def test_a_prefix_watch_sees_puts_and_deletes_in_order_at_their_revisions(cl, ns):
    cl.put(ns + b"before", b"not an event of the watch")
    with cl.watch(prefix=ns) as w:
        revs = [cl.put(ns + b"k%d" % i, b"v%d" % i) for i in range(5)]
        cl.put(b"elsewhere/" + ns, b"outside the prefix")
        cl.delete(ns + b"k0")
        assert cl.delete_range(ns + b"k3", ns + b"k5") == 2
        events = collect(w, lambda evs: len(evs) >= 8)
    assert [(e.type, e.key, e.value, e.revision) for e in events[:5]] == [
        ("PUT", ns + b"k%d" % i, b"v%d" % i, revs[i]) for i in range(5)]
    assert (events[5].type, events[5].key, events[5].value) == ("DELETE", ns + b"k0", b"")
    # One delete-range, one revision for both keys, after the delete before it.
    assert [e.key for e in events[6:]] == [ns + b"k3", ns + b"k4"]
    assert events[6].revision == events[7].revision > events[5].revision
    assert all(e.prev_value is None for e in events)
    assert len(events) == 8


def test_a_start_revision_in_the_past_replays_then_goes_live(cl, ns):
    first = cl.put(ns + b"k", b"1")
    cl.put(ns + b"k", b"2")
    cl.delete(ns + b"k")
    with cl.watch(ns + b"k", start_revision=first, prev_kv=True) as w:
        live = cl.put(ns + b"k", b"3")
        events = collect(w, lambda evs: len(evs) >= 4)
    assert [(e.type, e.value, e.prev_value) for e in events] == [
        ("PUT", b"1", None), ("PUT", b"2", b"1"), ("DELETE", b"", b"2"), ("PUT", b"3", None)]
    assert events[0].revision == first
    assert events[-1].revision == live
    assert [e.revision for e in events] == sorted({e.revision for e in events})


def test_key_and_range_end_choose_what_is_watched(cl, ns):
    with cl.watch(ns + b"b", ns + b"d") as ranged, cl.watch(ns + b"a") as one:
        for k in (b"a", b"ab", b"b", b"c", b"d"):
            cl.put(ns + k, b"x")
        in_range = collect(ranged, lambda evs: len(evs) >= 2)
        just_a = collect(one, lambda evs: len(evs) >= 1)
        assert ranged.next(timeout=0.5) is None and one.next(timeout=0.5) is None
    assert [e.key for e in in_range] == [ns + b"b", ns + b"c"]
    assert [e.key for e in just_a] == [ns + b"a"]


def test_bad_arguments_are_refused(cl, ns):
    with pytest.raises(TypeError):
        cl.watch(ns + b"k", prefix=ns)
    with pytest.raises(TypeError):
        cl.watch()
    with pytest.raises(tinykv.InvalidArgumentError):
        cl.watch(b"")  # an empty key needs prefix= (b"" then means every key)
    with pytest.raises(tinykv.InvalidArgumentError):
        cl.watch(ns + b"z", ns + b"a")
    with pytest.raises(TypeError):
        cl.watch(5)


def test_progress_events_tell_the_revision_when_nothing_happens(cl, ns):
    with cl.watch(ns + b"quiet", progress_notify=True, progress_interval=0.2) as w:
        rev = cl.put(ns + b"other", b"x")  # not watched: no event, but the revision moves
        events = collect(w, lambda evs: sum(e.type == "PROGRESS" for e in evs) >= 2
                         and evs[-1].revision >= rev)
    assert all(e.type == "PROGRESS" and e.key is None for e in events)
    assert [e.revision for e in events] == sorted(e.revision for e in events)


def test_request_progress_answers_with_a_revision_past_every_acknowledged_write(cl, ns):
    # No progress_notify: the only PROGRESS event is the one asked for.
    with cl.watch(ns + b"quiet") as w:
        rev = cl.put(ns + b"elsewhere", b"x")
        w.request_progress()
        ev = w.next(timeout=20.0)
        assert ev is not None, "no answer to request_progress within 20 s"
        assert ev.type == "PROGRESS"
        assert ev.revision >= rev


def test_close_from_another_thread_stops_the_iteration_and_the_server_forgets_it(
        cluster, cl, ns):
    w = cl.watch(prefix=ns)
    assert leader_status(cluster, cl)["watchers"] >= 1
    got = []
    reader = threading.Thread(target=lambda: got.extend(w))  # no timeout: waits for ever
    reader.start()
    cl.put(ns + b"k", b"v")
    testing.wait_until(lambda: got, timeout=20, what="the event in the thread")
    w.close()
    reader.join(20)
    assert not reader.is_alive()
    assert [e.key for e in got] == [ns + b"k"]
    assert w.next(timeout=0.1) is None
    testing.wait_until(lambda: leader_status(cluster, cl)["watchers"] == 0, timeout=20,
                       what="the server to forget the watcher")


def test_ctrl_c_interrupts_an_iteration_that_waits_for_ever(cluster, ns):
    script = (
        "import sys, tinykv\n"
        "cl = tinykv.Client(sys.argv[1].split(','), timeout=10.0)\n"
        "w = cl.watch(prefix=sys.argv[2].encode())\n"
        "try:\n"
        "    print('watching', flush=True)\n"
        "    for ev in w:\n"
        "        pass\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "    w.close()\n")
    p = subprocess.Popen([sys.executable, "-c", script, ",".join(cluster.endpoints),
                          ns.decode()], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "watching"
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=20)
    finally:
        p.kill()
    assert out.strip() == "interrupted"
    assert p.returncode == 0


def test_a_leader_killed_mid_stream_loses_and_repeats_nothing(tmp_path):
    _servers_or_skip()
    with testing.Cluster(n=3, data_dir=tmp_path) as c:
        c.leader()
        cl = c.client(timeout=20.0)
        w = cl.watch(prefix=b"w/")
        acked: dict[int, bytes] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(t: int) -> None:
            i = 0
            while not stop.is_set():
                key = b"w/%d/%d" % (t, i)
                i += 1
                try:
                    rev = cl.put(key, b"v")
                except tinykv.Error:
                    continue  # unknown outcome: may or may not be an event
                with lock:
                    acked[rev] = key

        writers = [threading.Thread(target=writer, args=(t,)) for t in range(3)]
        for t in writers:
            t.start()
        try:
            testing.wait_until(lambda: len(acked) >= 30, timeout=30, what="writes before")
            c.kill(c.leader())  # SIGKILL, mid-stream
            at_kill = len(acked)
            testing.wait_until(lambda: len(acked) >= at_kill + 30, timeout=60,
                               what="writes on the new leader")
        finally:
            stop.set()
            for t in writers:
                t.join()
        last = max(acked)
        events = collect(w, lambda evs: w.revision >= last, timeout=60)
        while (ev := w.next(timeout=0.5)) is not None:  # what is already delivered
            events.append(ev)
        keys = [e.key for e in events]
        assert len(keys) == len(set(keys)), "an event delivered twice"
        assert set(acked.values()) <= set(keys), "an acknowledged write is missing"
        revs = [e.revision for e in events]
        assert revs == sorted(revs) and len(set(revs)) == len(revs)
        assert w.stats()["resumes"] >= 1
        w.close()


def test_a_slow_watcher_is_dropped_within_the_servers_bound_and_resumes_with_every_event(
        tmp_path):
    _servers_or_skip()
    bound = 1 << 20
    with testing.Cluster(n=3, data_dir=tmp_path,
                         extra_args=["--watch-buffer-bytes", str(bound),
                                     "--unsafe-no-fsync"]) as c:
        c.leader()
        cl = c.client(timeout=20.0)
        w = cl.watch(prefix=b"s/", buffer_bytes=256 << 10)  # and nobody reads it for now
        value = b"x" * (256 << 10)
        n = 160  # 40 MiB: past the client's, the sockets' and the server's buffers
        revs: list[int] = []
        lock = threading.Lock()
        todo = iter(range(n))

        def writer() -> None:
            for i in todo:
                rev = cl.put(b"s/%03d" % i, value)
                with lock:
                    revs.append(rev)

        writers = [threading.Thread(target=writer) for _ in range(4)]
        for t in writers:
            t.start()
        queued = []
        while any(t.is_alive() for t in writers):
            queued.append(leader_status(c, cl)["watch_queued_bytes"])
        for t in writers:
            t.join()
        assert len(revs) == n
        assert max(queued) <= bound, "the server's buffer for the watcher stays bounded"
        events = collect(w, lambda evs: len(evs) >= n, timeout=120)
        assert [e.revision for e in events] == sorted(revs)
        assert all(e.value == value for e in events)
        st = w.stats()
        assert st["resumes"] >= 1
        assert "fell behind" in st["last_resume_error"]
        w.close()


def test_a_start_revision_below_the_compaction_point_raises_compacted_error(tmp_path):
    with EmbeddedCluster(3, tmp_path, sync=False) as ec, ec.client(timeout=10.0) as cl:
        first = cl.put(b"c", b"1")
        second = cl.put(b"c", b"2")
        ec.compact(second)
        with pytest.raises(tinykv.CompactedError) as e:
            cl.watch(b"c", start_revision=first)
        assert e.value.compact_revision == second
        assert isinstance(e.value, tinykv.InvalidArgumentError)
        with cl.watch(b"c", start_revision=second + 1) as w:
            rev = cl.put(b"c", b"3")
            assert [x.revision for x in collect(w, lambda evs: evs)] == [rev]


# ---- the CLI ----

def cli_binary() -> str:
    return find_cli_binary()


def test_cli_watch_prints_events_and_exits_0_on_ctrl_c(cluster, cl, ns):
    first = cl.put(ns + b"a", b"1")
    p = subprocess.Popen(
        [cli_binary(), "--endpoints", ",".join(cluster.endpoints), "-w", "json", "watch",
         ns.decode(), "--prefix", "--rev", str(first), "--prev-kv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [json.loads(p.stdout.readline())]  # the history first: the watch is on
        second = cl.put(ns + b"a", b"2")
        cl.delete(ns + b"a")
        lines += [json.loads(p.stdout.readline()) for _ in range(2)]
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
    finally:
        p.kill()
    assert p.returncode == 0, err
    key = (ns + b"a").decode()
    assert lines == [
        {"type": "PUT", "key": key, "value": "1", "revision": first},
        {"type": "PUT", "key": key, "value": "2", "prev_value": "1", "revision": second},
        {"type": "DELETE", "key": key, "prev_value": "2", "revision": lines[2]["revision"]},
    ]
    assert lines[2]["revision"] > second


def test_cli_watch_simple_output_is_etcdctls(cluster, cl, ns):
    first = cl.put(ns + b"k", b"v1")
    cl.delete(ns + b"k")
    p = subprocess.Popen([cli_binary(), "--endpoints", ",".join(cluster.endpoints), "watch",
                          (ns + b"k").decode(), "--rev", str(first)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = [p.stdout.readline() for _ in range(5)]
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=20)
    finally:
        p.kill()
    k = (ns + b"k").decode()
    assert out == ["PUT\n", f"{k}\n", "v1\n", "DELETE\n", f"{k}\n"]
    assert p.returncode == 0


def test_cli_watch_runs_a_command_per_event_with_etcdctls_variables(cluster, cl, ns, tmp_path):
    # The history replay makes the events, so nothing waits for the watch to start.
    first = cl.put(ns + b"x", b"1")
    second = cl.put(ns + b"y", b"2")
    cl.delete(ns + b"x")
    log = tmp_path / "events.txt"
    script = ('printf "%s %s %s %s\\n" "$ETCD_WATCH_EVENT_TYPE" "$ETCD_WATCH_KEY" '
              '"$ETCD_WATCH_VALUE" "$ETCD_WATCH_REVISION" >> "$0"')
    p = subprocess.Popen(
        [cli_binary(), "--endpoints", ",".join(cluster.endpoints), "watch", ns.decode(),
         "--prefix", "--rev", str(first), "--", "sh", "-c", script, str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
                not log.exists() or len(log.read_text().splitlines()) < 3):
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
    finally:
        p.kill()
    assert p.returncode == 0, err
    lines = log.read_text().splitlines()
    x, y = (ns + b"x").decode(), (ns + b"y").decode()
    assert lines[:2] == [f"PUT {x} 1 {first}", f"PUT {y} 2 {second}"], lines
    kind, key, *rest = lines[2].split(" ")
    assert (kind, key) == ("DELETE", x) and int(rest[-1]) > second, lines
    assert "PUT\n" in out  # each event is printed too, before its command runs


def test_cli_watch_ends_when_its_command_fails(cluster, cl, ns):
    first = cl.put(ns + b"k", b"v")
    r = subprocess.run(
        [cli_binary(), "--endpoints", ",".join(cluster.endpoints), "watch", (ns + b"k").decode(),
         "--rev", str(first), "--", "false"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 4, r.stderr
    assert r.stderr == 'Error: command "false" exited with status 1\n'
    r = subprocess.run([cli_binary(), "--endpoints", ",".join(cluster.endpoints), "watch", "k",
                        "--"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "followed by a command" in r.stderr, r.stderr


def test_cli_watch_bad_usage_exits_2_with_a_message(cluster):
    base = [cli_binary(), "--endpoints", ",".join(cluster.endpoints)]
    for args, says in ((["watch"], "key"), (["watch", ""], "key must not be empty"),
                       (["watch", "b", "a"], "range end"),
                       (["-w", "table", "watch", "k"], "not a table")):
        r = subprocess.run(base + args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("Error: ") and says in r.stderr, (args, r.stderr)


def test_cli_watch_of_an_unreachable_cluster_fails_unavailable():
    port = testing.free_port()
    r = subprocess.run([cli_binary(), "--endpoints", f"127.0.0.1:{port}", "--command-timeout",
                        "1s", "watch", "k"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("Error: ")
