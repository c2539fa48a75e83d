"""Corruption test: flipped bytes in the WAL, an SSTable or the MANIFEST are reported as
tinykv.CorruptionError naming the file, never as a crash and never as wrong data.

Random cases copy a freshly built database, flip one byte of one file, then open it and
read every key and scan everything. The rule checked: each read either returns the
right value or raises CorruptionError whose message names the damaged file, and the
damage is detected somewhere (open, a get or the scan). Offsets are drawn from a printed
seed; replay with TINYKV_SEED=<seed>.

Exhaustive cases, one per log of the engine (WAL, MANIFEST; doc/wal_format.md, "Recovery
rules"): every bit of a small file flipped, and the file cut at every offset. Open then
gives exactly the data written, or a CorruptionError naming the file and the offset --
never fewer keys, never other values. A cut may fall back to the state before the torn
record only when that state is complete.
"""

import os
import random
import shutil
from pathlib import Path

import pytest

import tinykv
from tinykv import common, storage

N_SST_KEYS = 3000
N_WAL_KEYS = 400


def _value(i):
    return b"value-%06d-" % i + b"v" * (i % 50)


@pytest.fixture(scope="module")
def seed():
    s = int(os.environ.get("TINYKV_SEED", random.randrange(1 << 32)))
    print(f"seed={s} (replay with TINYKV_SEED={s})")
    return s


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A closed database: most keys in SSTables below L0, the rest only in the WAL."""
    path = tmp_path_factory.mktemp("pristine") / "db"
    with storage.DB.open(str(path), target_file_size=64 << 10) as db:
        for i in range(N_SST_KEYS):
            db.put(b"sst%06d" % i, _value(i))
        db.flush()
        db.compact_range()
        for i in range(N_WAL_KEYS):
            db.put(b"wal%06d" % i, _value(i), sync=(i % 100 == 0))
    return path


def _expected():
    exp = {b"sst%06d" % i: _value(i) for i in range(N_SST_KEYS)}
    exp.update({b"wal%06d" % i: _value(i) for i in range(N_WAL_KEYS)})
    return exp


def _log_records(data):
    """Records of a file in the WAL framing (LevelDB's log format, doc/wal_format.md):
    32 KiB blocks of crc32c(4) | length(2) | type(1) | payload fragments."""
    out, pending, pos = [], b"", 0
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:
            pos += 32768 - pos % 32768  # block trailer padding
            continue
        length, kind = data[pos + 4] | (data[pos + 5] << 8), data[pos + 6]
        frag = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            out.append(frag)
        elif kind == 2:
            pending = frag
        elif kind == 3:
            pending += frag
        elif kind == 4:
            out.append(pending + frag)
        else:
            break
    return out


def _live_tables(db_path):
    """File numbers of the SSTables the current MANIFEST references (version edit
    encoding from version_edit.h: varint tags; 6 = deleted file, 7 = new file)."""
    manifest = (db_path / "CURRENT").read_text().strip()
    live = set()
    for rec in _log_records((db_path / manifest).read_bytes()):
        pos = 0

        def varint():
            nonlocal pos
            v, n = common.decode_varint(rec[pos:pos + 10])
            pos += n
            return v

        def varstring():
            nonlocal pos
            n = varint()
            pos += n

        while pos < len(rec):
            tag = varint()
            if tag == 1:
                varstring()
            elif tag in (2, 3, 4):
                varint()
            elif tag == 5:
                varint()
                varstring()
            elif tag == 6:
                varint()
                live.discard(varint())
            elif tag == 7:
                varint()
                live.add(varint())
                varint()
                varstring()
                varstring()
            else:
                raise AssertionError(f"unknown version edit tag {tag} in {manifest}")
    return live


def _files(path, kind):
    names = sorted(p for p in path.iterdir() if p.is_file())
    if kind == "wal":
        return [p for p in names if p.suffix == ".log" and p.stat().st_size > 0]
    if kind == "sst":
        # Only live tables: obsolete ones may linger until the engine deletes them.
        live = _live_tables(path)
        return [p for p in names if p.suffix in (".sst", ".ldb") and int(p.stem) in live]
    if kind == "manifest":
        return [p for p in names if p.name.startswith("MANIFEST")]
    raise ValueError(kind)


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def _check_detects(db_path, damaged, *, must_detect=True, **open_kw):
    """Opens and reads everything; every answer is right or a CorruptionError naming
    `damaged`. Returns how many reads raised (open counts as one)."""
    exp = _expected()
    errors = 0

    def check_error(e):
        assert damaged.name in str(e), f"CorruptionError does not name {damaged.name}: {e}"

    try:
        db = storage.DB.open(str(db_path), create_if_missing=False, **open_kw)
    except tinykv.CorruptionError as e:
        check_error(e)
        return 1
    try:
        for k, v in exp.items():
            try:
                got = db.get(k)
            except tinykv.CorruptionError as e:
                check_error(e)
                errors += 1
                continue
            assert got == v, f"wrong data for {k!r}: {got!r}"
        try:
            for k, v in db.scan():
                assert exp.get(k) == v, f"scan returned wrong data for {k!r}: {v!r}"
        except tinykv.CorruptionError as e:
            check_error(e)
            errors += 1
    finally:
        db.close()
    if must_detect:
        assert errors > 0, f"flipped byte in {damaged.name} went unnoticed"
    return errors


def _copy(pristine, tmp_path):
    dst = tmp_path / "db"
    shutil.copytree(pristine, dst)
    return dst


@pytest.mark.parametrize("case", range(4))
def test_flipped_byte_in_wal_refuses_open_naming_the_file(pristine, tmp_path, seed, case):
    db = _copy(pristine, tmp_path)
    wals = _files(db, "wal")
    assert wals, "expected a non-empty WAL"
    wal = wals[-1]
    size = wal.stat().st_size
    # The first half of the first 32 KiB block: a record header or payload with valid
    # records after it, so this is corruption and not a torn tail.
    offset = random.Random(seed + case).randrange(0, min(size // 2, 32000))
    print(f"flipping {wal.name} at offset {offset} of {size}")
    _flip(wal, offset)
    with pytest.raises(tinykv.CorruptionError) as e:
        storage.DB.open(str(db), create_if_missing=False)
    assert wal.name in str(e.value)


def test_point_in_time_recovery_keeps_a_consistent_prefix(pristine, tmp_path, seed):
    db = _copy(pristine, tmp_path)
    wal = _files(db, "wal")[-1]
    size = wal.stat().st_size
    offset = random.Random(seed + 99).randrange(size // 4, size // 2)
    print(f"flipping {wal.name} at offset {offset} of {size}")
    _flip(wal, offset)
    with storage.DB.open(str(db), create_if_missing=False,
                         wal_recovery_mode="point_in_time") as d:
        got = dict(d.scan())
    exp = _expected()
    for k, v in got.items():
        assert exp[k] == v, f"wrong data for {k!r}"
    assert all(got.get(b"sst%06d" % i) == _value(i) for i in range(N_SST_KEYS))
    wal_keys = sorted(k for k in got if k.startswith(b"wal"))
    # A prefix of the log: wal000000 .. walN with no holes, and not all of it.
    assert wal_keys == [b"wal%06d" % i for i in range(len(wal_keys))]
    assert len(wal_keys) < N_WAL_KEYS


@pytest.mark.parametrize("case", range(4))
def test_flipped_byte_in_sstable_data_is_detected_on_read(pristine, tmp_path, seed, case):
    db = _copy(pristine, tmp_path)
    sst = max(_files(db, "sst"), key=lambda p: p.stat().st_size)
    size = sst.stat().st_size
    # Data blocks come first and make up most of the file.
    offset = random.Random(seed + 10 + case).randrange(0, size // 2)
    print(f"flipping {sst.name} at offset {offset} of {size}")
    _flip(sst, offset)
    _check_detects(db, sst)


def test_flipped_byte_in_sstable_footer_is_detected(pristine, tmp_path):
    db = _copy(pristine, tmp_path)
    sst = max(_files(db, "sst"), key=lambda p: p.stat().st_size)
    _flip(sst, sst.stat().st_size - 1)  # the magic number
    _check_detects(db, sst)


def test_flipped_bytes_anywhere_in_sstable_never_return_wrong_data(pristine, tmp_path, seed):
    """Index, filter and metaindex blocks included: detection is not required there
    (a damaged filter may be ignored), but wrong data never comes back."""
    rng = random.Random(seed + 20)
    for case in range(6):
        db = tmp_path / f"c{case}"
        shutil.copytree(pristine, db)
        sst = max(_files(db, "sst"), key=lambda p: p.stat().st_size)
        size = sst.stat().st_size
        offset = rng.randrange(size // 2, size)
        print(f"flipping {sst.name} at offset {offset} of {size}")
        _flip(sst, offset)
        _check_detects(db, sst, must_detect=False)


def _first_record_payload(manifest):
    data = manifest.read_bytes()
    length = data[4] | (data[5] << 8)  # LevelDB log format: crc32c(4) length(2) type(1)
    return 7, min(7 + length, len(data))


@pytest.mark.parametrize("where", ["checksum", "payload"])
def test_flipped_byte_in_manifest_refuses_open_naming_the_file(pristine, tmp_path, seed, where):
    db = _copy(pristine, tmp_path)
    manifests = _files(db, "manifest")
    assert manifests
    manifest = manifests[-1]
    if where == "checksum":
        offset = 1
    else:
        lo, hi = _first_record_payload(manifest)
        offset = random.Random(seed + 30).randrange(lo, hi) if hi > lo else lo
    print(f"flipping {manifest.name} at offset {offset} of {manifest.stat().st_size}")
    _flip(manifest, offset)
    with pytest.raises(tinykv.CorruptionError) as e:
        storage.DB.open(str(db), create_if_missing=False)
    assert manifest.name in str(e.value)


def test_truncated_wal_tail_is_a_clean_end(pristine, tmp_path):
    """A torn write (the last record cut short) is not corruption: open succeeds and
    everything before the tear is intact."""
    db = _copy(pristine, tmp_path)
    wal = _files(db, "wal")[-1]
    data = wal.read_bytes()
    wal.write_bytes(data[:-5])
    with storage.DB.open(str(db), create_if_missing=False) as d:
        got = dict(d.scan())
    exp = _expected()
    assert all(exp[k] == v for k, v in got.items())
    assert got.get(b"wal%06d" % (N_WAL_KEYS - 2)) == _value(N_WAL_KEYS - 2)
    assert b"wal%06d" % (N_WAL_KEYS - 1) not in got


def test_missing_sstable_is_reported(pristine, tmp_path):
    db = _copy(pristine, tmp_path)
    sst = max(_files(db, "sst"), key=lambda p: p.stat().st_size)
    sst.unlink()
    with pytest.raises(tinykv.Error) as e:
        d = storage.DB.open(str(db), create_if_missing=False)
        try:
            dict(d.scan())
        finally:
            d.close()
    assert sst.name in str(e.value)


# ----------------------------------------------------------------- exhaustive: WAL, MANIFEST


def _image(path):
    """The files of a database directory (LOCK aside) as {name: bytes}."""
    return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and p.name != "LOCK"}


def _restore(image, path):
    """Makes `path` hold exactly `image`, rewriting only what differs (in place when the
    size is unchanged: creating and truncating files is most of the cost of a trial)."""
    path.mkdir(exist_ok=True)
    for p in path.iterdir():
        if p.name != "LOCK" and p.name not in image:
            p.unlink()
    for name, data in image.items():
        p = path / name
        if p.exists():
            now = p.read_bytes()
            if now == data:
                continue
            if len(now) == len(data):
                with open(p, "r+b") as f:
                    f.write(data)
                continue
        p.write_bytes(data)


def _record_spans(data):
    """(begin, end) of every record of a small log (one block, FULL records only)."""
    spans, pos = [], 0
    while pos + 7 <= len(data):
        length, kind = data[pos + 4] | (data[pos + 5] << 8), data[pos + 6]
        assert kind == 1, "the exhaustive tests use small single-block logs"
        spans.append((pos, pos + 7 + length))
        pos += 7 + length
    assert pos == len(data)
    return spans


def _keys(n):
    return {b"key%04d" % i: b"value-%d" % i for i in range(n)}


def _open_and_read(path, **kw):
    with storage.DB.open(str(path), create_if_missing=False, **kw) as d:
        return dict(d.scan()), d.stats()


def _right_data_or_corruption(path, expect, damaged, where):
    """Open gives exactly `expect`, or CorruptionError naming `damaged` and an offset.
    Returns whether it opened."""
    try:
        got, _ = _open_and_read(path)
    except tinykv.CorruptionError as e:
        assert damaged in str(e) and "offset " in str(e), f"{where}: {e}"
        return False
    assert got == expect, f"{where}: opened with {len(got)} keys, expected {len(expect)}"
    return True


def _flip_every_bit(path, image, name, expect):
    """Flips every bit of file `name` in turn; each time the database must open with
    exactly `expect` or raise CorruptionError naming the file. Returns how many opened."""
    data = image[name]
    opened = 0
    for pos in range(len(data)):
        for bit in range(8):
            damaged = dict(image)
            damaged[name] = data[:pos] + bytes([data[pos] ^ (1 << bit)]) + data[pos + 1:]
            _restore(damaged, path)
            opened += _right_data_or_corruption(path, expect, name, f"{name} byte {pos} bit {bit}")
    return opened


def _one_file(image, suffix):
    names = [n for n in image if n.endswith(suffix) and image[n]]
    assert len(names) == 1, names
    return names[0]


@pytest.fixture(params=[False, True], ids=["old-wal-deleted", "old-wal-kept"])
def flushed_db(request, tmp_path):
    """50 keys written, flushed and closed: the MANIFEST ends with the flush's edit (the
    new table and the new log number). With old-wal-kept, the WAL that held the keys is
    put back, as if the process died after the edit was synced but before that WAL was
    deleted. Returns (path, image, MANIFEST name)."""
    path = tmp_path / "db"
    with storage.DB.open(str(path)) as d:
        for k, v in _keys(50).items():
            d.put(k, v)
        before = _image(path)
        d.flush()
    image = _image(path)
    if request.param:
        old = _one_file(before, ".log")
        assert old not in image
        image[old] = before[old]
    manifest = next(n for n in image if n.startswith("MANIFEST-"))
    return path, image, manifest, request.param


def test_every_bit_flip_in_the_manifest_is_corruption_or_the_full_database(flushed_db):
    path, image, manifest, _ = flushed_db
    data = image[manifest]
    assert len(_record_spans(data)) == 3 and len(data) < 256
    opened = _flip_every_bit(path, image, manifest, _keys(50))
    assert opened == 0, "every byte of a record is checksummed: no flip goes unnoticed"


def test_manifest_cut_at_every_offset_opens_only_a_complete_state(flushed_db):
    path, image, manifest, old_wal_kept = flushed_db
    data = image[manifest]
    last_begin = _record_spans(data)[2][0]
    for cut in range(len(data) + 1):
        damaged = dict(image)
        damaged[manifest] = data[:cut]
        _restore(damaged, path)
        where = f"{manifest} cut at {cut} of {len(data)}"
        if cut == len(data) or (old_wal_kept and cut >= last_begin):
            # The whole file, or the flush's edit cut while the old WAL (which the state
            # before the edit names) is still there: every key.
            got, _ = _open_and_read(path)
            assert got == _keys(50), where
        else:
            # The state before the cut names a deleted WAL (or no WAL at all): refused.
            with pytest.raises(tinykv.CorruptionError):
                _open_and_read(path)


@pytest.fixture
def small_wal(tmp_path):
    path = tmp_path / "db"
    with storage.DB.open(str(path)) as d:
        for k, v in _keys(4).items():
            d.put(k, v)
    image = _image(path)
    return path, image, _one_file(image, ".log")


def test_every_bit_flip_in_the_wal_is_corruption_or_the_full_database(small_wal):
    path, image, wal = small_wal
    data = image[wal]
    assert len(_record_spans(data)) == 4
    assert _flip_every_bit(path, image, wal, _keys(4)) == 0


def test_wal_cut_at_every_offset_keeps_every_complete_record(small_wal):
    path, image, wal = small_wal
    data = image[wal]
    spans = _record_spans(data)
    for cut in range(len(data) + 1):
        damaged = dict(image)
        damaged[wal] = data[:cut]
        _restore(damaged, path)
        complete = sum(1 for _, end in spans if end <= cut)
        got, stats = _open_and_read(path)
        assert got == _keys(complete), f"{wal} cut at {cut}"
        torn = cut not in (0,) + tuple(end for _, end in spans)
        assert stats["recovery-torn-tails"] == int(torn), f"{wal} cut at {cut}"
