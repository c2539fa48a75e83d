"""Trace ids: one request's path through a 3-node cluster, read off the servers' logs.

The client gives every call a trace id (or the one the caller names), the request frame
carries it, and a write carries it in its Raft entry to every member. At ``--log-level
debug`` each server names it in the field ``trace`` (16 hex digits) of the lines on the
request's path: the leader receives the request, proposes it, applies it and answers;
each follower applies it. With ``--log-format json`` every such line is a JSON object
with the fields named here."""

import json

from tinykv import testing
from tinykv.testing import wait_until


def traced_lines(node, trace_hex):
    """The JSON log lines of `node` that name `trace_hex`, in log order."""
    out = []
    with open(node.log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if trace_hex not in line:
                continue
            rec = json.loads(line)  # a line that names a trace must be JSON
            if rec.get("trace") == trace_hex:
                out.append(rec)
    return out


def test_a_put_is_traced_on_the_leader_and_on_both_followers(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster", log_level="debug",
                         extra_args=["--log-format", "json"]) as c:
        lead = c.leader()
        cl = c.client(endpoints=[c.endpoint(lead)], timeout=10.0)
        cl.put(b"warm", b"up")
        trace = 0x5eed00c0ffee0001
        trace_hex = f"{trace:016x}"
        revision = cl.put(b"traced", b"v", trace_id=trace)

        def applied(i):
            return [r for r in traced_lines(c.nodes[i], trace_hex)
                    if r["msg"] == "txn: applied traced write"]
        for i in (1, 2, 3):
            wait_until(lambda i=i: applied(i), 20,
                       f"node {i} to log applying trace {trace_hex}")
            (line,) = applied(i)
            assert line["node"] == i and line["revision"] == revision, line
            assert line["ok"] is True and line["level"] == "debug", line
            assert line["index"] > 0 and line["term"] >= 1, line

        # The leader's part of the path, in order.
        msgs = [r["msg"] for r in traced_lines(c.nodes[lead], trace_hex)]
        path = ["net: request received", "txn: proposing traced write",
                "txn: applied traced write", "kv: request done"]
        assert [m for m in msgs if m in path] == path, msgs
        done = [r for r in traced_lines(c.nodes[lead], trace_hex) if r["msg"] == "kv: request done"]
        assert done[0]["method"] == "tinykv.Put" and done[0]["code"] == "OK", done
        received = [r for r in traced_lines(c.nodes[lead], trace_hex)
                    if r["msg"] == "net: request received"]
        assert received[0]["method"] == "tinykv.Put", received
        # A follower only applies it: the request never reached it.
        for i in (1, 2, 3):
            if i != lead:
                assert [r["msg"] for r in traced_lines(c.nodes[i], trace_hex)] == \
                    ["txn: applied traced write"]


def test_at_info_level_no_line_names_a_trace(system_ready, tmp_path):
    # The control: the same put on servers at the default level leaves no trace in the
    # logs, and its entry carries none (the leader adds it only when it logs debug).
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster",
                         extra_args=["--log-format", "json"]) as c:
        lead = c.leader()
        cl = c.client(endpoints=[c.endpoint(lead)], timeout=10.0)
        trace_hex = f"{0x5eed00c0ffee0002:016x}"
        cl.put(b"traced", b"v", trace_id=0x5eed00c0ffee0002)
        for i in (1, 2, 3):
            ci = c.client(endpoints=[c.endpoint(i)])
            wait_until(lambda ci=ci: ci.get(b"traced", serializable=True) == b"v", 20,
                       f"node {i} to apply the put")
            assert traced_lines(c.nodes[i], trace_hex) == []
