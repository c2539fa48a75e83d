"""tinykv.storage: every method of the Python surface, against a dict model.

Randomized tests print their seed; replay one with TINYKV_SEED=<seed>.
"""

import os
import random
import threading

import pytest

import tinykv
from tinykv import storage


def _seed():
    seed = int(os.environ.get("TINYKV_SEED", random.randrange(1 << 32)))
    print(f"seed={seed} (replay with TINYKV_SEED={seed})")
    return seed


@pytest.fixture
def db(tmp_path):
    d = storage.DB.open(str(tmp_path / "db"))
    yield d
    d.close()


def test_put_then_get_returns_value(db):
    db.put(b"k", b"v")
    assert db.get(b"k") == b"v"


def test_get_of_absent_key_returns_none(db):
    assert db.get(b"nope") is None


def test_get_after_delete_returns_none(db):
    db.put(b"k", b"v")
    db.delete(b"k")
    assert db.get(b"k") is None
    db.delete(b"never-existed")  # deleting an absent key is not an error


def test_overwrite_returns_newest_value(db):
    for i in range(10):
        db.put(b"k", b"v%d" % i, sync=(i % 2 == 0))
    assert db.get(b"k") == b"v9"


def test_keys_and_values_hold_any_byte(db):
    pairs = {b"\x00": b"\xff", b"\xff": b"\x00", b"a\x00b": b"\x00\x00", b"\xff\xff\x00": b"",
             bytes(range(256)): bytes(reversed(range(256))), b"": b"empty key"}
    for k, v in pairs.items():
        db.put(k, v)
    for k, v in pairs.items():
        assert db.get(k) == v
    db.flush()
    for k, v in pairs.items():
        assert db.get(k) == v
    assert list(db.scan()) == sorted(pairs.items())


def test_large_value_round_trips(db):
    big = bytes(random.Random(7).getrandbits(8) for _ in range(300_000))
    db.put(b"big", big, sync=True)
    assert db.get(b"big") == big
    db.flush()
    assert db.get(b"big") == big


def test_non_bytes_keys_are_rejected(db):
    # Bytes-like objects and str (UTF-8) are keys; numbers and lists are not
    # (tests/common/test_bytes_like.py has the whole rule).
    with pytest.raises(TypeError):
        db.put(5, b"v")
    with pytest.raises(TypeError):
        db.get(1)


def test_scan_orders_keys_as_unsigned_bytes(db):
    keys = [b"\xff", b"\x7f", b"\x80", b"\x00", b"a", b"ab", b"b"]
    for k in keys:
        db.put(k, k)
    assert [k for k, _ in db.scan()] == sorted(keys)
    assert sorted(keys)[0] == b"\x00" and sorted(keys)[-1] == b"\xff"


def test_scan_is_half_open_start_inclusive_end_exclusive(db):
    for i in range(10):
        db.put(b"k%d" % i, b"v%d" % i)
    assert [k for k, _ in db.scan(start=b"k3", end=b"k6")] == [b"k3", b"k4", b"k5"]
    assert [k for k, _ in db.scan(start=b"k3")] == [b"k%d" % i for i in range(3, 10)]
    assert [k for k, _ in db.scan(end=b"k2")] == [b"k0", b"k1"]
    assert [k for k, _ in db.scan(start=b"k35", end=b"k5")] == [b"k4"]
    assert list(db.scan(start=b"k6", end=b"k6")) == []
    assert list(db.scan(start=b"z")) == []


def test_scan_behaves_like_a_python_iterator(db):
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    it = db.scan()
    assert iter(it) is it
    assert next(it) == (b"a", b"1")
    assert next(it) == (b"b", b"2")
    with pytest.raises(StopIteration):
        next(it)
    with pytest.raises(StopIteration):
        next(it)
    assert dict(db.scan()) == {b"a": b"1", b"b": b"2"}


def test_scan_sees_a_consistent_view_while_writes_continue(db):
    for i in range(1000):
        db.put(b"k%04d" % i, b"old")
    it = db.scan()
    first = next(it)
    for i in range(1000):
        db.put(b"k%04d" % i, b"new")
    db.put(b"k9999", b"new key")
    rest = list(it)
    assert first == (b"k0000", b"old")
    assert len(rest) == 999 and all(v == b"old" for _, v in rest)


def test_random_operations_match_a_dict_model(tmp_path):
    seed = _seed()
    rng = random.Random(seed)
    model = {}
    path = str(tmp_path / "db")
    db = storage.DB.open(path, write_buffer_size=16 << 10, target_file_size=16 << 10)
    try:
        for step in range(4000):
            op = rng.random()
            key = b"k" + bytes([rng.randrange(256)]) + bytes([rng.choice([0, 0xFF, 0x61])])
            if op < 0.55:
                value = rng.randbytes(rng.randrange(0, 200))
                db.put(key, value)
                model[key] = value
            elif op < 0.75:
                db.delete(key)
                model.pop(key, None)
            elif op < 0.95:
                assert db.get(key) == model.get(key), (step, key)
            elif op < 0.98:
                lo, hi = sorted([rng.randbytes(2), rng.randbytes(2)])
                want = sorted((k, v) for k, v in model.items() if lo <= k < hi)
                assert list(db.scan(start=lo, end=hi)) == want, step
            elif op < 0.99:
                db.flush()
            elif op < 0.995:
                db.compact_range()
            else:
                db.close()
                db = storage.DB.open(path, write_buffer_size=16 << 10,
                                     target_file_size=16 << 10)
        assert list(db.scan()) == sorted(model.items())
        assert db.stats()["flushes"] > 0  # the small memtable really did spill to SSTables
    finally:
        db.close()


def test_snapshot_reads_see_the_past(db):
    db.put(b"a", b"1")
    db.put(b"b", b"1")
    s = db.snapshot()
    db.put(b"a", b"2")
    db.delete(b"b")
    db.put(b"c", b"2")
    assert db.get(b"a", snapshot=s) == b"1"
    assert db.get(b"b", snapshot=s) == b"1"
    assert db.get(b"c", snapshot=s) is None
    assert list(db.scan(snapshot=s)) == [(b"a", b"1"), (b"b", b"1")]
    assert list(db.scan()) == [(b"a", b"2"), (b"c", b"2")]
    s.release()


def test_snapshot_survives_flush_and_compaction(db):
    for i in range(500):
        db.put(b"k%03d" % i, b"old")
    with db.snapshot() as s:
        for i in range(500):
            if i % 2:
                db.delete(b"k%03d" % i)
            else:
                db.put(b"k%03d" % i, b"new")
        db.flush()
        db.compact_range()
        assert all(v == b"old" for _, v in db.scan(snapshot=s))
        assert len(list(db.scan(snapshot=s))) == 500
        assert db.get(b"k001", snapshot=s) == b"old"
    assert db.get(b"k001") is None
    assert db.get(b"k002") == b"new"
    assert len(list(db.scan())) == 250


def test_released_snapshot_cannot_be_used(db):
    s = db.snapshot()
    s.release()
    s.release()  # idempotent
    with pytest.raises(tinykv.Error):
        db.get(b"k", snapshot=s)
    with pytest.raises(tinykv.Error):
        db.scan(snapshot=s)


def test_snapshot_of_another_db_is_rejected(tmp_path):
    with storage.DB.open(str(tmp_path / "a")) as a, storage.DB.open(str(tmp_path / "b")) as b:
        with a.snapshot() as s:
            with pytest.raises(tinykv.Error):
                b.get(b"k", snapshot=s)


def test_write_batch_applies_puts_and_deletes(db):
    db.put(b"gone", b"x")
    b = storage.WriteBatch()
    b.put(b"a", b"1")
    b.put(b"b", b"2")
    b.delete(b"gone")
    b.put(b"a", b"3")  # later operations in a batch win
    assert len(b) == 4
    db.write(b, sync=True)
    assert db.get(b"a") == b"3"
    assert db.get(b"b") == b"2"
    assert db.get(b"gone") is None
    b.clear()
    assert len(b) == 0
    db.write(b)  # an empty batch is fine


def test_write_batch_is_atomic_for_concurrent_readers(db):
    keys = [b"acct%02d" % i for i in range(20)]
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            with db.snapshot() as s:
                seen = {db.get(k, snapshot=s) for k in keys}
                scanned = {v for _, v in db.scan(snapshot=s)}
            if len(seen) != 1 or len(scanned) > 1:
                errors.append((seen, scanned))

    first = storage.WriteBatch()
    for k in keys:
        first.put(k, b"0")
    db.write(first)
    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for gen in range(1, 300):
            b = storage.WriteBatch()
            for k in keys:
                b.put(k, b"%d" % gen)
            db.write(b)
            if gen % 100 == 0:
                db.flush()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []


def test_data_persists_across_reopen(tmp_path):
    path = str(tmp_path / "db")
    with storage.DB.open(path) as db:
        db.put(b"flushed", b"1")
        db.flush()
        db.put(b"only-in-wal", b"2")
        db.put(b"deleted", b"3")
        db.delete(b"deleted")
    with storage.DB.open(path, create_if_missing=False) as db:
        assert db.get(b"flushed") == b"1"
        assert db.get(b"only-in-wal") == b"2"
        assert db.get(b"deleted") is None
        db.put(b"second", b"4")
    with storage.DB.open(path) as db:
        assert list(db.scan()) == [(b"flushed", b"1"), (b"only-in-wal", b"2"), (b"second", b"4")]


def test_open_missing_db_without_create_fails(tmp_path):
    with pytest.raises(tinykv.Error):
        storage.DB.open(str(tmp_path / "absent"), create_if_missing=False)


def test_open_accepts_path_objects_and_error_if_exists(tmp_path):
    with storage.DB.open(tmp_path / "db") as db:
        db.put(b"k", b"v")
    with pytest.raises(tinykv.Error):
        storage.DB.open(tmp_path / "db", error_if_exists=True)


def test_unknown_option_is_rejected(tmp_path):
    with pytest.raises(tinykv.InvalidArgumentError, match="no_such_option"):
        storage.DB.open(str(tmp_path / "db"), no_such_option=1)
    with pytest.raises(tinykv.InvalidArgumentError):
        storage.DB.open(str(tmp_path / "db"), wal_recovery_mode="sometimes")


def test_small_write_buffer_causes_flushes_and_compactions(tmp_path):
    with storage.DB.open(str(tmp_path / "db"), write_buffer_size=32 << 10,
                         target_file_size=32 << 10, max_bytes_for_level_base=128 << 10) as db:
        for i in range(5000):
            db.put(b"key%06d" % ((i * 7919) % 5000), b"v" * 100)
        db.wait_for_background_work()
        st = db.stats()
        assert st["flushes"] >= 5
        assert st["compactions"] >= 1
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in st.items())
        assert "level" in db.stats_string().lower() or "l0" in db.stats_string().lower()
        assert sum(1 for _ in db.scan()) == 5000


def test_compact_range_drops_deleted_data(db):
    for i in range(2000):
        db.put(b"k%05d" % i, b"x" * 100)
    db.flush()
    for i in range(2000):
        db.delete(b"k%05d" % i)
    db.compact_range()
    assert list(db.scan()) == []
    db.compact_range(start=b"k", end=b"l")  # bounded form
    st = db.stats()
    live = sum(v for k, v in st.items() if k.startswith("bytes-at-level"))
    assert live < 2000 * 100 // 4  # tombstones and values are gone, not just hidden


def test_checkpoint_is_an_openable_copy(tmp_path, db):
    for i in range(100):
        db.put(b"k%03d" % i, b"v%d" % i)
    db.flush()
    db.put(b"in-wal", b"yes")
    db.checkpoint(str(tmp_path / "ckpt"))
    db.put(b"after", b"no")
    with storage.DB.open(str(tmp_path / "ckpt"), create_if_missing=False) as copy:
        assert copy.get(b"k042") == b"v42"
        assert copy.get(b"in-wal") == b"yes"
        assert copy.get(b"after") is None


def test_concurrent_writers_from_threads_all_land(db):
    def writer(t):
        for i in range(500):
            db.put(b"t%d-%04d" % (t, i), b"v", sync=(i % 50 == 0))

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for _ in db.scan()) == 2000


def test_use_after_close_raises_tinykv_error(tmp_path):
    db = storage.DB.open(str(tmp_path / "db"))
    db.put(b"a", b"1")
    db.put(b"b", b"2")
    it = db.scan()
    assert next(it) == (b"a", b"1")
    s = db.snapshot()
    db.close()
    db.close()  # idempotent
    assert db.closed
    for call in (lambda: db.put(b"k", b"v"), lambda: db.get(b"k"), lambda: db.delete(b"k"),
                 lambda: db.write(storage.WriteBatch()), lambda: db.scan(), db.snapshot,
                 db.flush, db.compact_range, db.stats, lambda: next(it)):
        with pytest.raises(tinykv.Error):
            call()
    s.release()  # releasing after close is harmless


def test_context_manager_closes_db(tmp_path):
    with storage.DB.open(str(tmp_path / "db")) as db:
        db.put(b"k", b"v")
    assert db.closed
    with pytest.raises(tinykv.Error):
        db.get(b"k")
    # The directory lock (if any) was released: it opens again.
    with storage.DB.open(str(tmp_path / "db")) as db2:
        assert db2.get(b"k") == b"v"


def test_destroy_removes_the_database(tmp_path):
    path = str(tmp_path / "db")
    with storage.DB.open(path) as db:
        db.put(b"k", b"v")
    storage.destroy(path)
    with pytest.raises(tinykv.Error):
        storage.DB.open(path, create_if_missing=False)
