"""Debian's python3-etcd3 (etcd's Python client, 0.12) against TinyKV's etcd API, unchanged:
get, get_prefix, put, delete, transaction, watch and watch_prefix, leases, locks (a lease
and a compare-and-put), members and status, on a 3-node cluster."""

import threading

import pytest

from tinykv import testing

etcd3 = pytest.importorskip("etcd3", reason="python3-etcd3 (scripts/install-deps.sh)")


@pytest.fixture(scope="module")
def cluster(system_ready, tmp_path_factory):
    with testing.Cluster(n=3, data_dir=tmp_path_factory.mktemp("etcd3"), etcd=True) as c:
        c.leader()
        yield c


@pytest.fixture
def client(cluster):
    host, port = cluster.nodes[1].etcd_address.split(":")
    c = etcd3.client(host=host, port=int(port), timeout=10)
    yield c
    c.close()


def test_kv_calls(client):
    client.put("py/a", "1")
    value, meta = client.get("py/a")
    assert value == b"1" and meta.key == b"py/a" and meta.version == 1
    assert meta.mod_revision == meta.create_revision > 0
    client.put("py/b", "2")
    assert [(v, m.key) for v, m in client.get_prefix("py/")] == [(b"1", b"py/a"), (b"2", b"py/b")]
    assert client.delete("py/b") is True
    assert client.delete("py/b") is False
    assert client.get("py/b") == (None, None)
    assert [m.key for _, m in client.get_all()].count(b"py/a") == 1


def test_transaction(client):
    client.put("py/t", "1")
    ok, responses = client.transaction(
        compare=[client.transactions.value("py/t") == "1"],
        success=[client.transactions.put("py/t", "2"), client.transactions.get("py/t")],
        failure=[])
    assert ok is True
    ok, responses = client.transaction(
        compare=[client.transactions.version("py/t") > 5],
        success=[client.transactions.put("py/t", "x")],
        failure=[client.transactions.get("py/t")])
    assert ok is False and responses[0][0][0] == b"2", responses
    assert client.get("py/t")[0] == b"2"


# python3-etcd3's watcher thread raises "Channel closed!" when the client closes at the
# end of the test (the library's own thread, after its watches were cancelled).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_watch_and_watch_prefix(client):
    events, cancel = client.watch_prefix("py/w/")
    threading.Timer(0.3, lambda: (client.put("py/other", "no"), client.put("py/w/1", "x"),
                                  client.delete("py/w/1"))).start()
    got = []
    for e in events:
        got.append((type(e).__name__, e.key, e.value))
        if len(got) == 2:
            cancel()
    assert got == [("PutEvent", b"py/w/1", b"x"), ("DeleteEvent", b"py/w/1", b"")], got
    client.put("py/w1", "a")
    start = client.get("py/w1")[1].mod_revision
    client.put("py/w1", "b")
    events, cancel = client.watch("py/w1", start_revision=start)
    values = []
    for e in events:
        values.append(e.value)
        if len(values) == 2:
            cancel()
    assert values == [b"a", b"b"]


def test_leases(client):
    lease = client.lease(10)
    client.put("py/l", "v", lease=lease)
    assert 0 < lease.remaining_ttl <= 10 and lease.granted_ttl == 10
    assert lease.keys == [b"py/l"]
    lease.refresh()
    assert lease.id in [x.id for x in client.get_leases()] if hasattr(client, "get_leases") \
        else True
    lease.revoke()
    assert client.get("py/l") == (None, None)


def test_lock_holds_a_leased_key_and_releases_it(client, cluster):
    # etcd3.Lock: a txn "if /locks/NAME is absent, put it with my lease, else get it".
    # (Debian's python3-etcd3 0.12 cannot wait for a held lock: its retry loop calls
    # tenacity with an older signature and raises TypeError, so contention is shown
    # through the raw transaction the lock uses instead.)
    with client.lock("py-lock", ttl=10) as lk:
        assert lk.is_acquired()
        value, meta = client.get("/locks/py-lock")
        assert value == lk.uuid and meta.lease_id == lk.lease.id, (value, meta)
        ok, responses = client.transaction(
            compare=[client.transactions.create("/locks/py-lock") == 0],
            success=[client.transactions.put("/locks/py-lock", "rival", lease=client.lease(5))],
            failure=[client.transactions.get("/locks/py-lock")])
        assert ok is False and responses[0][0][0] == lk.uuid, responses
    assert client.get("/locks/py-lock") == (None, None)
    rival = client.lock("py-lock", ttl=10)
    assert rival.acquire(timeout=5) is True  # free again: taken at once
    rival.release()


def test_members_and_status(client, cluster):
    members = {m.id: m for m in client.members}
    assert sorted(members) == [1, 2, 3]
    assert members[2].peer_urls == [f"http://{cluster.nodes[2].peer_address}"]
    status = client.status()
    assert status.leader.id == cluster.leader() and status.raft_term >= 1
