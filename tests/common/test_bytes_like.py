"""Keys and values are bytes-like or str everywhere in the package (tinykv.common.BytesLike):
bytes, bytearray and memoryview are taken as their bytes, str as UTF-8; anything else is a
TypeError -- never bytes(x), which makes five zero bytes of 5 and b"\\x01\\x02" of [1, 2].
The client's side of the rule is in tests/phase5/test_client.py. Range ends are None (open)
or bytes-like, and b"" as an end means open too."""

import pytest

from tinykv import net, storage

NOT_BYTES = [5, [1, 2], 1.5, object()]


@pytest.fixture
def db(tmp_path):
    with storage.DB.open(str(tmp_path / "db")) as d:
        yield d


def test_storage_takes_bytes_like_and_str(db):
    db.put(bytearray(b"ba"), memoryview(b"mv"))
    db.put("text", "värde")
    assert db.get(b"ba") == b"mv"
    assert db.get(memoryview(b"text")) == "värde".encode()
    b = storage.WriteBatch()
    b.put("w", bytearray(b"\x00\xff"))
    b.delete(memoryview(b"ba"))
    db.write(b)
    assert db.get("w") == b"\x00\xff" and db.get(b"ba") is None


@pytest.mark.parametrize("bad", NOT_BYTES)
def test_storage_rejects_non_bytes_with_type_error(db, bad):
    for call in (lambda: db.put(b"k", bad), lambda: db.put(bad, b"v"), lambda: db.get(bad),
                 lambda: db.delete(bad), lambda: db.scan(bad), lambda: db.scan(b"", bad),
                 lambda: storage.WriteBatch().put(b"k", bad)):
        with pytest.raises(TypeError):
            call()
    assert list(db.scan()) == []


def test_storage_scan_end_none_and_empty_are_open(db):
    for k in (b"a", b"b", b"c"):
        db.put(k, b"x")
    want = [(b"b", b"x"), (b"c", b"x")]
    assert list(db.scan(b"b")) == list(db.scan(b"b", None)) == list(db.scan(b"b", b"")) == want
    assert list(db.scan(b"a", b"b")) == [(b"a", b"x")]


@pytest.fixture
def demo():
    with net.DemoServer(port=0, io_threads=1) as server, \
            net.Client(server.address, timeout=5.0) as client:
        yield client


def test_net_demo_takes_bytes_like_and_str(demo):
    demo.put(bytearray(b"ba"), memoryview(b"mv"))
    demo.put("text", "värde")
    assert demo.get(b"ba") == b"mv"
    assert demo.get("text") == "värde".encode()
    assert demo.echo(memoryview(b"hi")) == b"hi"
    assert demo.scan(b"b") == demo.scan(b"b", None) == demo.scan(b"b", b"") == \
        [(b"ba", b"mv"), (b"text", "värde".encode())]


@pytest.mark.parametrize("bad", NOT_BYTES)
def test_net_demo_rejects_non_bytes_with_type_error(demo, bad):
    for call in (lambda: demo.put(b"k", bad), lambda: demo.put(bad, b"v"),
                 lambda: demo.get(bad), lambda: demo.delete(bad), lambda: demo.scan(bad),
                 lambda: demo.echo(bad)):
        with pytest.raises(TypeError):
            call()
    assert demo.scan() == []
