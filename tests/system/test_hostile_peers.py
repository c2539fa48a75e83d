"""A real 3-node cluster against forged Raft traffic on its peer ports.

A raw socket to a follower's peer port says hello (phase3_raft/doc/replica_protocol.md,
"Peer handshake": anyone who knows the cluster id can claim any node id until mutual TLS)
and then sends raft.Batch requests (method 300) holding messages no honest member sends:
terms at and above the ceiling (2^64-1, 2^63; kMaxTerm = 2^62), a heartbeat of the real
leader committing 10^9, a heartbeat and an append (a real KV put) from a node that is no
member (99), an append from the real leader's id one term ahead carrying entries that do not
decode, and messages the transport must refuse before the core sees them. Every byte is
written here from the documented formats (frame_format.md, replica_protocol.md,
message_format.md), so the first test pins those documents' examples.

What is asserted, for every attack: no server exits; the cluster keeps serving linearizable
writes and reads through ``tinykv.Client``; no node's term reaches a forged value; no key the
attacker wrote is ever visible on any node (linearizable and serializable reads, and a
serializable scan of each node's whole key space); the refusal is counted by the layer the
design names (admin status ``rejected_messages``: the Raft core, message_check.h;
``peer_messages_refused``: the peer transport, peer_host.cc) and by that layer only; and the
node's RSS stays within RSS_BOUND_MIB of what it was before (a flood of FLOOD_MESSAGES
forged heartbeats included: a node that kept 168 bytes or more of each refused message would
fail; measured +0-1 MiB).

Bounds (tick 25 ms, elections after 250-500 ms): every wait is on an observable event
(counters, status, log lines) with a generous timeout for a loaded 2-core machine; terms may
grow by a few honest elections in that time (TERM_SLACK), never to a forged value. A failing
check prints the statuses and the attack's bytes (hex) needed to replay it.

Only 127.0.0.1 and OS-assigned ports; sockets and servers are closed by the fixtures.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tinykv import common, net, raft, testing

# ---- constants from the docs -----------------------------------------------------------------
RAFT_BATCH_METHOD = 300      # phase2_net/doc/method_ids.md, replica_protocol.md "Peer RPCs"
PEER_HELLO_VERSION = 1       # replica_protocol.md "Peer handshake"
MESSAGE_VERSION = 1          # message_format.md
MSG_APP, MSG_HEARTBEAT = 3, 8
ENTRY_NORMAL = 0
KV_COMMAND_VERSION, KV_OP_PUT = 1, 1  # replica_protocol.md "KV command"
MAX_TERM = 1 << 62           # message_format.md "Limits"
GROUP = 1                    # tinykv-server hosts one group, id 1
NON_MEMBER = 99

# ---- bounds ----------------------------------------------------------------------------------
RSS_BOUND_MIB = 16           # per node, after vs before an attack (measured +0-1 MiB)
FLOOD_MESSAGES = 100_000     # forged heartbeats in the flood (100 batches of 1,000)
TERM_SLACK = 3               # honest elections a loaded machine may add while a test runs
WAIT_S = 20.0                # any observable event an attack should cause


# ---- encoders, written from the docs ---------------------------------------------------------
def uvarint(n: int) -> bytes:
    return common.encode_varint(n)  # LEB128 (message_format.md)


def raft_bytes(b: bytes) -> bytes:
    """`bytes` in message_format.md / replica_protocol.md: varint length + bytes."""
    return uvarint(len(b)) + b


def raft_entry(term: int, index: int, data: bytes, entry_type: int = ENTRY_NORMAL) -> bytes:
    return bytes([entry_type]) + uvarint(term) + uvarint(index) + raft_bytes(data)


def raft_message(msg_type: int, to: int, frm: int, term: int, log_term: int = 0,
                 index: int = 0, commit: int = 0, entries: tuple[bytes, ...] = ()) -> bytes:
    """message := version type to from term log_term index commit flags reject_hint context
    n_entries entry* (no snapshot: flags 0)."""
    fields = b"".join(uvarint(x) for x in (to, frm, term, log_term, index, commit))
    return (bytes([MESSAGE_VERSION, msg_type]) + fields + b"\x00" + uvarint(0) + raft_bytes(b"")
            + uvarint(len(entries)) + b"".join(entries))


def cereal_string(b: bytes) -> bytes:
    """A string in a cereal payload (frame_format.md): u64 length + bytes."""
    return struct.pack("<Q", len(b)) + b


def raft_batch(frm: int, to: int, messages: list[bytes], group: int = GROUP) -> bytes:
    """request := from:u64 to:u64 count:u64 count*(group:u64 message:string)."""
    return struct.pack("<QQQ", frm, to, len(messages)) + b"".join(
        struct.pack("<Q", group) + cereal_string(m) for m in messages)


def peer_hello(cluster_id: int, node_id: int) -> bytes:
    """peer-hello := version:u8 cluster_id:u64 node_id:u64."""
    return struct.pack("<BQQ", PEER_HELLO_VERSION, cluster_id, node_id)


def kv_command(key: bytes, value: bytes, op: int = KV_OP_PUT) -> bytes:
    """kv_command := version op key:bytes value:bytes has_expected client_id request_seq."""
    return (bytes([KV_COMMAND_VERSION, op]) + raft_bytes(key) + raft_bytes(value) + b"\x00"
            + uvarint(0) + uvarint(0))


def proposal(command: bytes, proposal_id: int = 0xF0F0F0F0_00000001) -> bytes:
    """normal entry data := proposal_id:fixed64 command (replica_protocol.md)."""
    return struct.pack("<Q", proposal_id) + command


# ---- a forged peer ---------------------------------------------------------------------------
class Peer:
    """One raw connection to a peer port, opened with a hello claiming `node_id`."""

    def __init__(self, port: int, cluster_id: int, node_id: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
        self.node_id = node_id
        self.sent: list[bytes] = []  # every frame, for the failure message
        self._next_id = 1
        self._buf = b""
        self._send(net.encode_frame(net.HELLO, 0, 0, peer_hello(cluster_id, node_id)))

    def _send(self, frame: bytes) -> None:
        self.sent.append(frame)
        self.sock.sendall(frame)

    def send_batch(self, payload: bytes) -> int:
        rid = self._next_id
        self._next_id += 1
        self._send(net.encode_frame(net.REQUEST, rid, RAFT_BATCH_METHOD, payload))
        return rid

    def answer(self, timeout: float = 10.0) -> dict:
        """The next frame the host sends (a raft.Batch answer or an error)."""
        deadline = time.monotonic() + timeout
        while True:
            frames = net.decode_frames(self._buf)
            if frames:
                self._buf = self._buf[net.FRAME_HEADER_SIZE + len(frames[0]["payload"]):]
                return frames[0]
            left = deadline - time.monotonic()
            assert left > 0, f"no answer within {timeout}s; sent {self.replay()}"
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            assert chunk, f"peer port closed the connection; sent {self.replay()}"
            self._buf += chunk

    def call(self, payload: bytes) -> dict:
        rid = self.send_batch(payload)
        f = self.answer()
        assert f["request_id"] == rid, f
        return f

    def replay(self) -> str:
        return " ".join(fr.hex() for fr in self.sent)

    def close(self) -> None:
        self.sock.close()


def accepted(f: dict) -> bool:
    """raft.Batch answered: response := accepted:u8 (=1)."""
    return f["kind"] == "response" and f["payload"] == b"\x01"


# ---- observing the cluster -------------------------------------------------------------------
class Watch:
    """What the checks compare against: the state before an attack and every key the test
    itself wrote."""

    def __init__(self, c: testing.Cluster):
        self.c = c
        self.client = c.client(timeout=10.0)
        self.written: dict[bytes, bytes] = {}
        self.put(b"baseline", b"0")
        self.before = self.settle()
        self.rss = {i: testing.rss_mib(n.proc.pid) for i, n in c.nodes.items()}
        self.cluster_id = self.client.status(c.nodes[1].endpoint)["cluster_id"]
        assert self.cluster_id != 0
        self.peers: list[Peer] = []

    def connect(self, i: int, node_id: int, cluster_id: int | None = None) -> Peer:
        """A forged peer connection to node i's peer port, claiming node_id (in this
        cluster, unless cluster_id says otherwise)."""
        p = Peer(self.c.nodes[i].peer_port,
                 self.cluster_id if cluster_id is None else cluster_id, node_id)
        self.peers.append(p)
        return p

    def close(self) -> None:
        for p in self.peers:
            p.close()

    def put(self, k: bytes, v: bytes) -> None:
        self.client.put(k, v)
        self.written[k] = v

    def settle(self) -> dict[int, dict]:
        """Statuses once every node has applied the leader's whole log in one term: the log's
        last entry is then at that term (a put went through in it)."""
        def settled():
            sts = self.c.statuses()
            if len(sts) != len(self.c.nodes):
                return None
            lead = [s for s in sts.values() if s["role"] == "leader"]
            if len(lead) != 1:
                return None
            last = lead[0]["last_index"]
            if all(s["term"] == lead[0]["term"] and s["applied_index"] == last
                   and s["last_index"] == last and s["leader"] == lead[0]["id"]
                   for s in sts.values()):
                return sts
            return None
        return testing.wait_until(settled, timeout=WAIT_S, what="every node applied the log")

    @property
    def leader(self) -> int:
        return next(i for i, s in self.before.items() if s["role"] == "leader")

    @property
    def followers(self) -> list[int]:
        return sorted(i for i in self.before if i != self.leader)

    @property
    def term(self) -> int:
        return self.before[self.leader]["term"]

    def counters(self) -> dict[int, tuple[int, int]]:
        return {i: (s["rejected_messages"], s["peer_messages_refused"])
                for i, s in self.c.statuses().items()}

    def wait_counters(self, want: dict[int, tuple[int, int]], what: str) -> None:
        """Waits until the counters reach `want`, then requires them to be exactly that (the
        attack's refusals, counted once, by the layer that refused them)."""
        testing.wait_until(
            lambda: all(all(a >= b for a, b in zip(got, want[i]))
                        for i, got in self.counters().items() if i in want),
            timeout=WAIT_S, what=f"{what}: counters {want} (now {self.counters()})")
        assert {i: v for i, v in self.counters().items() if i in want} == want, \
            f"{what}: (rejected_messages, peer_messages_refused) by node"

    def expect_core_refuses(self, p: Peer, i: int, messages: list[bytes], reason: str,
                            what: str) -> None:
        """Sends `messages` to node i in one batch from p's node: the transport passes them on
        (accepted, peer_messages_refused unchanged) and node i's Raft core refuses each one,
        counted once (rejected_messages) and logged with `reason` (message_check.h)."""
        before = self.counters()
        assert accepted(p.call(raft_batch(p.node_id, i, messages))), p.replay()
        want = dict(before)
        want[i] = (before[i][0] + len(messages), before[i][1])
        self.wait_counters(want, f"{what}; replay: {p.replay()}")
        testing.wait_until(lambda: refusals_logged(self.c.nodes[i], reason) >= len(messages),
                           timeout=WAIT_S, what=f"node {i} logs the {reason} refusals")

    def check_unharmed(self, forged_keys: list[bytes], max_term: int, what: str) -> None:
        c = self.c
        sts = c.statuses()
        why = f"{what}; statuses: {sts}"
        for i, n in c.nodes.items():
            assert n.proc.poll() is None, f"node {i} exited ({n.proc.returncode}): {why}\n" \
                                          f"{n.log_tail()}"
        # Linearizable writes and reads go through, on whichever node leads now.
        k = b"after/%d" % len(self.written)
        self.put(k, b"ok")
        assert self.client.get(k) == b"ok", why
        assert self.client.cas(k, b"ok", b"ok2"), why
        self.written[k] = b"ok2"
        assert self.client.get(b"baseline") == b"0", why
        sts = c.statuses()
        why = f"{what}; statuses: {sts}"
        for i, s in sts.items():
            assert s["term"] <= max_term < MAX_TERM, f"node {i}'s term: {why}"
            assert s["commit_index"] <= s["last_index"], f"node {i} commits beyond its log: {why}"
        # No forged key anywhere; every node holds exactly what the test wrote once it
        # applied the last write.
        last = max(s["commit_index"] for s in sts.values())
        c.wait_applied(last, timeout=WAIT_S)
        for k in forged_keys:
            assert self.client.get(k) is None, f"forged key {k!r} readable (linearizable): {why}"
        for i, n in c.nodes.items():
            local = c.client(endpoints=[n.endpoint])
            for k in forged_keys:
                assert local.get(k, serializable=True) is None, \
                    f"forged key {k!r} on node {i} (serializable): {why}"
            keys = dict(local.scan(b"", None, serializable=True))
            assert keys == self.written, f"node {i}'s keys differ from those written: {why}"
        for i, n in c.nodes.items():
            rss = testing.rss_mib(n.proc.pid)
            assert rss < self.rss[i] + RSS_BOUND_MIB, \
                f"node {i} RSS {rss:.0f} MiB, before {self.rss[i]:.0f} MiB: {why}"
            print(f"{what}: node {i} RSS {self.rss[i]:.1f} -> {rss:.1f} MiB")


@pytest.fixture
def watch(system_ready, tmp_path):
    with testing.Cluster(n=3, data_dir=tmp_path / "cluster") as c:
        w = Watch(c)
        try:
            yield w
        finally:
            w.close()


def refusals_logged(node: testing.Node, reason: str) -> int:
    return node.log_path.read_text(errors="replace").count(f"({reason})")


# ---- the documents' examples -----------------------------------------------------------------
def test_the_encoders_reproduce_the_documented_examples():
    # message_format.md, "Worked example": MsgApp 1 -> 2, term 5, one entry "hi".
    app = raft_message(MSG_APP, to=2, frm=1, term=5, log_term=5, index=7, commit=7,
                       entries=(raft_entry(5, 8, b"hi"),))
    assert app == bytes.fromhex("01 03 02 01 05 05 07 07 00 00 00 01 00 05 08 02 68 69")
    assert len(app) == raft.encode_message_size("MsgApp", 1, 2) == 18
    assert len(raft_message(MSG_HEARTBEAT, 2, 1, 5)) == 12  # "an empty heartbeat ... 12 bytes"
    # replica_protocol.md, "Peer handshake": cluster 42, node 2; and frame_format.md's frame.
    hello = peer_hello(42, 2)
    assert hello == bytes.fromhex("01 2a 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00")
    assert net.encode_frame(net.HELLO, 0, 0, hello) == bytes.fromhex(
        "54 4b 01 07 00 00 00 00 00 00 00 00 00 00 00 00 11 00 00 00 22 91 cb 58") + hello
    # replica_protocol.md, "KV command": put("k", "v") with proposal id 0x0000000500000002.
    assert proposal(kv_command(b"k", b"v"), 0x0000000500000002) == bytes.fromhex(
        "02 00 00 00 05 00 00 00 01 01 01 6b 01 76 00 00 00")
    # The term ceiling and beyond still encode (varints up to 2^64-1): the node must refuse
    # them, the codec cannot.
    assert uvarint((1 << 64) - 1) == b"\xff" * 9 + b"\x01"


# ---- attacks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("forged_term", [(1 << 64) - 1, 1 << 63], ids=["2^64-1", "2^63"])
def test_a_heartbeat_above_the_term_ceiling_is_refused_by_the_core(watch, forged_term):
    w = watch
    f = w.followers[0]
    # From the real leader's id: the most convincing sender there is.
    p = w.connect(f, w.leader)
    hb = raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=forged_term,
                      commit=w.before[f]["commit_index"])
    w.expect_core_refuses(p, f, [hb], "bad_term", f"heartbeat at term {forged_term}")
    w.check_unharmed([], w.term + TERM_SLACK, f"term {forged_term}; replay: {p.replay()}")


def test_a_flood_of_forged_terms_is_counted_without_growing_memory_or_the_log(watch):
    w, c = watch, watch.c
    f = w.followers[1]
    before = w.counters()
    p = w.connect(f, w.leader)
    hb = raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=(1 << 64) - 1)
    batch = raft_batch(w.leader, f, [hb] * 1000)
    t0 = time.monotonic()
    for _ in range(FLOOD_MESSAGES // 1000):
        assert accepted(p.call(batch))
    want = dict(before)
    want[f] = (before[f][0] + FLOOD_MESSAGES, before[f][1])
    w.wait_counters(want, "flood of forged heartbeats")
    took = time.monotonic() - t0
    # The log gets the first 10 refusals and then one line per 1,000 (replica.cc NoteRejected).
    lines = refusals_logged(c.nodes[f], "bad_term")
    print(f"{FLOOD_MESSAGES} forged heartbeats refused in {took:.2f}s; {lines} log lines")
    assert lines <= 10 + FLOOD_MESSAGES // 1000
    w.check_unharmed([], w.term + TERM_SLACK, "flood of forged heartbeats")


def test_a_leaders_heartbeat_committing_beyond_the_log_is_refused(watch):
    w, c = watch, watch.c
    f = w.followers[0]
    p = w.connect(f, w.leader)
    # The real leader's id, the current term: only the commit index is impossible.
    hb = raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=w.term, commit=10**9)
    w.expect_core_refuses(p, f, [hb], "bad_index", "heartbeat committing 10^9")
    st = c.status(f)
    assert st["commit_index"] <= st["last_index"] < 10**9, st
    w.check_unharmed([], w.term + TERM_SLACK, f"commit 10^9; replay: {p.replay()}")


def test_a_non_members_heartbeat_and_put_are_refused_by_the_core(watch):
    w, c = watch, watch.c
    f = w.followers[0]
    st = w.before[f]
    last, term = st["last_index"], st["term"]  # settled: the last entry is at `term`
    forged = b"forged/by-99"
    # Cluster id 0: what a member that joined an existing cluster says; the handshake takes it.
    p = w.connect(f, NON_MEMBER, cluster_id=0)
    hb = raft_message(MSG_HEARTBEAT, to=f, frm=NON_MEMBER, term=term + 1, commit=last)
    # A well-formed append one term ahead that would commit a real put at once. With the
    # membership rule switched off (message_check.h), f accepts it: the key is readable on f
    # (serializable), whose log then conflicts with the cluster's and f stops applying.
    put = raft_entry(term + 1, last + 1, proposal(kv_command(forged, b"x")))
    app = raft_message(MSG_APP, to=f, frm=NON_MEMBER, term=term + 1, log_term=term, index=last,
                       commit=last + 1, entries=(put,))
    w.expect_core_refuses(p, f, [hb, app], "not_member", "non-member heartbeat + append")
    after = c.status(f)
    assert after["leader"] != NON_MEMBER and after["last_index"] >= last, after
    w.check_unharmed([forged], term + TERM_SLACK, f"non-member append; replay: {p.replay()}")


def test_a_members_append_one_term_ahead_with_undecodable_entries_applies_them_as_noops(watch):
    """The real leader's id, term + 1, to both followers: a member's claim is trusted (until
    mutual TLS), so they follow it, the real leader steps down on their answers, and the two
    entries end up committed by whichever follower wins the next election. Neither decodes:
    one is too short for the proposal envelope, the other is a put with a trailing byte. Every
    node applies both as failed no-ops: no key, no crash, and the same on every replica."""
    w, c = watch, watch.c
    lead, (f1, f2) = w.leader, w.followers
    last, term = w.before[lead]["last_index"], w.term
    forged = b"forged/by-leader-id"
    short = b"\x01\x02\x03"                                   # < 8 bytes: no envelope
    bad_put = proposal(kv_command(forged, b"x") + b"\x00")    # trailing byte: does not decode
    entries = (raft_entry(term + 1, last + 1, short), raft_entry(term + 1, last + 2, bad_put))
    before = w.counters()
    peers = {f: w.connect(f, lead) for f in (f1, f2)}
    for f, p in peers.items():  # back to back, well inside one election timeout
        p.send_batch(raft_batch(lead, f, [raft_message(
            MSG_APP, to=f, frm=lead, term=term + 1, log_term=term, index=last, commit=last,
            entries=entries)]))
    replay = " | ".join(f"to node {f}: {p.replay()}" for f, p in peers.items())
    for p in peers.values():
        assert accepted(p.answer()), replay
    # A new leader of a later term commits past both entries on every node.
    def committed():
        sts = c.statuses()
        leaders = [s for s in sts.values() if s["role"] == "leader" and s["term"] >= term + 2]
        return len(sts) == 3 and leaders and all(
            s["applied_index"] >= last + 3 for s in sts.values())
    testing.wait_until(committed, timeout=WAIT_S,
                       what=f"a leader of term >= {term + 2} and index {last + 3} applied "
                            f"everywhere ({c.statuses()}); replay: {replay}")
    new_leader = c.leader()
    assert new_leader in (f1, f2), "the old leader's log lacks the entries: it cannot win"
    for i, n in c.nodes.items():
        testing.wait_until(
            lambda: (f"entry {last + 1} (term {term + 1}) is not a proposal envelope"
                     in n.log_path.read_text(errors="replace")
                     and f"entry {last + 2} rejected by the state machine: Corruption"
                     in n.log_path.read_text(errors="replace")),
            timeout=WAIT_S, what=f"node {i} logs both entries applied as no-ops")
    # Accepted, not refused: no counter moved.
    assert w.counters() == before, replay
    w.check_unharmed([forged], term + 2 + TERM_SLACK, f"member append at term + 1; {replay}")


def test_the_transport_refuses_what_does_not_match_its_batch_or_connection(watch):
    w, c = watch, watch.c
    f = w.followers[1]
    before = w.counters()
    p = w.connect(f, w.leader)
    wrong_sender = raft_message(MSG_HEARTBEAT, to=f, frm=NON_MEMBER, term=w.term)
    bad_version = b"\x02" + raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=w.term)[1:]
    trailing = raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=w.term) + b"\x00"
    # Would move the term if it reached group 1.
    other_group = raft_message(MSG_HEARTBEAT, to=f, frm=w.leader, term=w.term + 100)
    # Three refused messages in an accepted batch.
    assert accepted(p.call(raft_batch(w.leader, f, [wrong_sender, bad_version, trailing]))), \
        p.replay()
    assert accepted(p.call(raft_batch(w.leader, f, [other_group], group=77))), p.replay()
    # A batch claiming another sender than the hello: refused whole, with the reason.
    err = p.call(raft_batch(NON_MEMBER, f, [wrong_sender, wrong_sender]))
    assert err["kind"] == "error" and "InvalidArgument" in err["error"] \
        and "another node than the connection's hello" in err["error"], err
    want = dict(before)
    want[f] = (before[f][0], before[f][1] + 3 + 1 + 2)
    w.wait_counters(want, f"transport refusals; replay: {p.replay()}")
    w.check_unharmed([], w.term + TERM_SLACK, f"transport refusals; replay: {p.replay()}")
