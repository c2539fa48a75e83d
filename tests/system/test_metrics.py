"""tinykv-server's monitoring port (--listen-metrics) on a real 3-node cluster: /metrics in
the Prometheus text format with counters that move after writes, the watch, lease and
compaction gauges following a watch, a lease and a compaction, /health true with a leader
and false with the reason once two of three nodes are gone, /readyz, /version, /debug/raft;
and, when Debian's ``prometheus`` is installed, a real Prometheus scraping the three nodes."""

import json
import math
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tinykv import testing

pytestmark = pytest.mark.system

# One sample line of the text format 0.0.4: name, optional {labels}, value (no timestamps:
# tinykv-server writes none).
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?'
                     r' (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_prometheus_text(text: str) -> dict[tuple[str, frozenset], float]:
    """Samples of a text exposition as {(name, frozenset(labels)): value}; raises ValueError
    on any line that is not a comment, a HELP/TYPE line or a sample, on a sample whose
    family has no TYPE, and on a TYPE given twice."""
    samples: dict[tuple[str, frozenset], float] = {}
    types: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if kind not in _TYPES or name in types:
                raise ValueError(f"line {n}: bad TYPE line {line!r}")
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {n}: not a sample: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in types and family not in types:
            raise ValueError(f"line {n}: {name} has no TYPE")
        samples[(name, frozenset(_LABEL.findall(labels)))] = float(value)
    return samples


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str, str]:
    """(status, content type, body); HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def scrape(c, i: int) -> dict[tuple[str, frozenset], float]:
    status, ctype, body = http_get(c.metrics_url(i) + "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    return parse_prometheus_text(body)


def value(samples, name: str, **labels) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def wait_for_metric(c, nodes, name: str, ok, what: str, timeout: float = 20.0) -> None:
    """Polls `name` on each of `nodes` until ``ok(value)`` holds on all of them; on timeout
    the failure names the last value each node showed."""
    seen: dict[int, float] = {}

    def check():
        for i in nodes:
            seen[i] = value(scrape(c, i), name)
        return all(ok(v) for v in seen.values())

    try:
        testing.wait_until(check, timeout, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last {name} by node: {seen}") from None


def as_exposed(revision: int) -> float:
    """A revision as the text format carries it: a double written to 16 significant digits
    (prometheus-cpp's precision). Revisions are commit timestamps near 2^59, beyond a
    double's 53 bits, so the exact number is not in /metrics."""
    return float(f"{float(revision):.16g}")


@pytest.fixture
def mcluster(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster", metrics=True) as c:
        yield c


def test_parser_rejects_what_is_not_the_text_format():
    # The negative control of the parser the other tests rely on.
    assert parse_prometheus_text("# TYPE a counter\na 1\n") == {("a", frozenset()): 1.0}
    for bad in ["a 1\n", "# TYPE a counter\na{x=1} 1\n", "# TYPE a counter\na one two\n",
                "\x00\x01binary\n"]:
        with pytest.raises(ValueError):
            parse_prometheus_text(bad)


def test_metrics_endpoints_and_counters_after_writes(mcluster):
    c = mcluster
    leader = c.leader()
    # Leader changes are sampled once per tick (25 ms): wait for every node's sample.
    testing.wait_until(lambda: all(
        value(scrape(c, i), "tinykv_server_leader_changes_seen_total") >= 1 for i in c.nodes),
        10, "every node to count the first leader")
    before = {i: scrape(c, i) for i in c.nodes}
    for i, s in before.items():
        assert value(s, "tinykv_build_info") == 1
        assert value(s, "tinykv_server_has_leader") == 1, i
    assert sum(value(s, "tinykv_server_is_leader") for s in before.values()) == 1
    assert value(before[leader], "tinykv_server_is_leader") == 1
    puts_before = sum(value(s, "tinykv_grpc_server_handled_total", grpc_method="Put",
                            grpc_code="OK") for s in before.values())
    assert puts_before == 0

    writes = 20
    cl = c.client()
    for k in range(writes):
        cl.put(b"metrics-%d" % k, b"v")
    after = {i: scrape(c, i) for i in c.nodes}
    puts = sum(value(s, "tinykv_grpc_server_handled_total", grpc_method="Put", grpc_code="OK")
               for s in after.values())
    assert puts >= writes
    assert sum(value(s, "tinykv_grpc_server_handling_seconds_count", grpc_method="Put")
               for s in after.values()) >= writes
    la, lb = after[leader], before[leader]
    assert (value(la, "tinykv_server_proposals_applied_total")
            - value(lb, "tinykv_server_proposals_applied_total")) >= writes
    assert (value(la, "tinykv_server_proposals_committed_total")
            - value(lb, "tinykv_server_proposals_committed_total")) >= writes
    assert value(la, "tinykv_disk_wal_fsync_total") > value(lb, "tinykv_disk_wal_fsync_total")
    assert value(la, "tinykv_server_proposals_pending") == 0
    # The disk latency histograms (etcd's buckets): every fsync and every apply counted.
    assert (value(la, "tinykv_wal_fsync_duration_seconds_count")
            - value(lb, "tinykv_wal_fsync_duration_seconds_count")) >= 1
    assert (value(la, "tinykv_wal_fsync_duration_seconds_bucket", le="+Inf")
            == value(la, "tinykv_wal_fsync_duration_seconds_count"))
    assert value(la, "tinykv_wal_fsync_duration_seconds_bucket", le="8.192") <= value(
        la, "tinykv_wal_fsync_duration_seconds_count")
    # Every member applies every write (followers once they learn the commit index),
    # timing each engine write: one per run of entries applied together, so at least one.
    for i in c.nodes:
        testing.wait_until(lambda: (
            value(scrape(c, i), "tinykv_server_proposals_applied_total")
            - value(before[i], "tinykv_server_proposals_applied_total")) >= writes,
            10, f"node {i} to apply {writes} writes")
        after = scrape(c, i)
        assert 1 <= (value(after, "tinykv_backend_commit_duration_seconds_count")
                     - value(before[i], "tinykv_backend_commit_duration_seconds_count")) <= (
            value(after, "tinykv_server_proposals_applied_total")
            - value(before[i], "tinykv_server_proposals_applied_total")), i

    # The JSON endpoints.
    for i in c.nodes:
        status, ctype, body = http_get(c.metrics_url(i) + "/debug/raft")
        assert status == 200 and ctype == "application/json"
        raft = json.loads(body)
        assert raft["id"] == i and raft["leader"] == leader
        assert raft["commit_index"] >= writes and raft["error"] == ""
        assert sorted(m["id"] for m in raft["members"]) == [1, 2, 3]
        assert http_get(c.metrics_url(i) + "/livez")[0] == 200
        assert http_get(c.metrics_url(i) + "/readyz")[0] == 200
        version = json.loads(http_get(c.metrics_url(i) + "/version")[2])
        assert version["server"] == subprocess.run(
            [c.server_bin, "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert http_get(c.metrics_url(1) + "/nope")[0] == 404
    req = urllib.request.Request(c.metrics_url(1) + "/metrics", data=b"x", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("POST /metrics was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 405


def test_health_true_with_a_leader_false_with_the_reason_without_quorum(mcluster):
    c = mcluster
    leader = c.leader()
    for i in c.nodes:
        status, ctype, body = http_get(c.metrics_url(i) + "/health")
        assert (status, json.loads(body)) == (200, {"health": "true", "reason": ""}), i
    survivor = next(i for i in c.nodes if i != leader)
    for i in c.nodes:
        if i != survivor:
            c.kill(i)
    # The survivor's election timer fires, it (pre-)campaigns and forgets the leader.
    bound = 20 * c.election_timeout + 5

    def unhealthy():
        status, _, body = http_get(c.metrics_url(survivor) + "/health")
        return (status, json.loads(body)) if status != 200 else None

    status, health = testing.wait_until(unhealthy, bound, "/health to turn false")
    assert status == 503 and health == {"health": "false", "reason": "no leader"}
    assert value(scrape(c, survivor), "tinykv_server_has_leader") == 0
    status, _, body = http_get(c.metrics_url(survivor) + "/readyz")
    assert status == 503 and "no leader" in body
    assert http_get(c.metrics_url(survivor) + "/livez")[0] == 200


def test_watchers_gauge_follows_a_watch_on_the_leader(mcluster):
    c = mcluster
    leader = c.leader()
    cl = c.client()
    for i in c.nodes:
        s = scrape(c, i)
        assert value(s, "tinykv_watchers") == 0, f"node {i} reports watchers before any watch"
        assert value(s, "tinykv_slow_watchers_dropped_total") == 0, i
    w = cl.watch(prefix=b"metrics-watch/", timeout=10.0)
    try:
        wait_for_metric(c, [leader], "tinykv_watchers", lambda v: v >= 1,
                        f"tinykv_watchers >= 1 on the leader (node {leader}) with a watch open")
        cl.put(b"metrics-watch/k", b"v")
        ev = next(iter(w))
        assert ev.key == b"metrics-watch/k", ev
        # Queued bytes are those the stream has not taken yet: a gauge, never negative.
        assert value(scrape(c, leader), "tinykv_watch_queued_bytes") >= 0
    finally:
        w.close()
    wait_for_metric(c, [leader], "tinykv_watchers", lambda v: v == 0,
                    f"tinykv_watchers back to 0 on the leader (node {leader}) after the watch closed")


def test_leases_gauge_on_every_member_follows_grant_and_revoke(mcluster):
    c = mcluster
    c.leader()
    cl = c.client()
    for i in c.nodes:
        assert value(scrape(c, i), "tinykv_leases") == 0, f"node {i} reports leases before a grant"
    lease = cl.lease_grant(60)
    cl.put(b"metrics-lease/k", b"v", lease=lease)
    wait_for_metric(c, c.nodes, "tinykv_leases", lambda v: v >= 1,
                    "tinykv_leases >= 1 on every member after a grant")
    lease.revoke()
    wait_for_metric(c, c.nodes, "tinykv_leases", lambda v: v == 0,
                    "tinykv_leases back to 0 on every member after the revoke")


def test_compact_revision_gauge_on_every_member_after_compact(mcluster):
    c = mcluster
    c.leader()
    cl = c.client()
    for i in c.nodes:
        s = scrape(c, i)
        assert value(s, "tinykv_compact_revision") == 0, f"node {i}: compacted before any compact"
        assert value(s, "tinykv_auto_compactions_total") == 0, i  # auto-compaction is off
    rev = cl.put(b"metrics-compact/k", b"v1")
    cl.put(b"metrics-compact/k", b"v2")
    assert cl.compact(rev) == rev
    wait_for_metric(c, c.nodes, "tinykv_compact_revision", lambda v: v == as_exposed(rev),
                    f"tinykv_compact_revision == {rev} on every member after compact({rev})")
    # A manual compaction is a client request, counted as one; the auto-compactor's stays 0.
    assert sum(value(scrape(c, i), "tinykv_grpc_server_handled_total", grpc_method="Compact",
                     grpc_code="OK") for i in c.nodes) == 1
    assert all(value(scrape(c, i), "tinykv_auto_compactions_total") == 0 for i in c.nodes)


def test_auto_compactions_counted_on_the_leader(system_ready, tmp_path):
    with testing.Cluster(n=1, data_dir=tmp_path / "one", metrics=True,
                         extra_args=["--auto-compaction-retention", "1s"]) as c:
        leader = c.leader()
        c.client().put(b"metrics-auto/k", b"v")
        wait_for_metric(c, [leader], "tinykv_auto_compactions_total", lambda v: v >= 1,
                        "the auto-compactor (retention 1s) to count a compaction", timeout=40.0)
        assert value(scrape(c, leader), "tinykv_compact_revision") > 0


PROMETHEUS = shutil.which("prometheus")


@pytest.mark.skipif(PROMETHEUS is None,
                    reason="Debian's prometheus server is not installed (apt-get install prometheus)")
def test_a_real_prometheus_scrapes_the_cluster(mcluster, tmp_path):
    c = mcluster
    c.leader()
    cl = c.client()
    writes = 10
    for k in range(writes):
        cl.put(b"prom-%d" % k, b"v")
    targets = ", ".join(f"'{c.nodes[i].metrics_address}'" for i in sorted(c.nodes))
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                      "scrape_configs:\n  - job_name: tinykv\n"
                      f"    static_configs:\n      - targets: [{targets}]\n")
    web = f"127.0.0.1:{testing.free_port()}"
    log = open(tmp_path / "prometheus.log", "w")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address={web}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        query = urllib.parse.quote(
            'sum(tinykv_grpc_server_handled_total{grpc_method="Put",grpc_code="OK"})')

        def scraped():
            if proc.poll() is not None:
                raise AssertionError(f"prometheus exited: {(tmp_path / 'prometheus.log').read_text()}")
            try:
                status, _, body = http_get(f"http://{web}/api/v1/query?query={query}", timeout=2)
            except (urllib.error.URLError, ConnectionError, OSError):
                return None
            result = json.loads(body)["data"]["result"] if status == 200 else []
            return float(result[0]["value"][1]) if result else None

        got = testing.wait_until(scraped, 60, "Prometheus to scrape the Put counter", 0.2)
        assert got >= writes and not math.isnan(got)
        up = urllib.parse.quote("sum(up{job='tinykv'})")
        testing.wait_until(lambda: http_get(f"http://{web}/api/v1/query?query={up}")[2]
                           .count('"3"') == 1, 30, "all 3 targets up", 0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
