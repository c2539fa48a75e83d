"""tinykv-storage, the engine's command-line tool (shipped in the package's bin/)."""

import subprocess
from pathlib import Path

import pytest

import tinykv
from tinykv import storage

TOOL = Path(tinykv.__file__).resolve().parent / "bin" / "tinykv-storage"


def run(*args, check_rc=0):
    p = subprocess.run([str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=60)
    if check_rc is not None:
        assert p.returncode == check_rc, (args, p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture(autouse=True)
def _tool_exists():
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is missing: is tinykv-storage in TINYKV_PACKAGE_BINARIES?")


def test_help_lists_every_subcommand():
    out = run("--help").stdout
    for sub in ("put", "get", "del", "scan", "dump", "stats", "compact", "check"):
        assert sub in out


def test_put_get_del_scan_round_trip(tmp_path):
    db = tmp_path / "db"
    run("--db", db, "--create_if_missing", "put", "a", "1")
    run("--db", db, "put", "b", "2", "--sync")
    run("--db", db, "put", "c", "3")
    assert run("--db", db, "get", "b").stdout == "2\n"
    run("--db", db, "del", "b")
    p = run("--db", db, "get", "b", check_rc=3)
    assert "NotFound" in p.stderr
    assert run("--db", db, "scan").stdout == "a ==> 1\nc ==> 3\n"
    assert run("--db", db, "scan", "--start", "b").stdout == "c ==> 3\n"
    assert run("--db", db, "scan", "--end", "c").stdout == "a ==> 1\n"
    assert run("--db", db, "scan", "--limit", "1").stdout == "a ==> 1\n"


def test_hex_keys_and_values(tmp_path):
    db = tmp_path / "db"
    run("--db", db, "--create_if_missing", "--hex", "put", "00ff", "0x0a00")
    assert run("--db", db, "--hex", "get", "0x00ff").stdout == "0x0a00\n"
    with storage.DB.open(str(db)) as d:
        assert d.get(b"\x00\xff") == b"\n\x00"
    run("--db", db, "--hex", "get", "zz", check_rc=2)


def test_missing_db_is_a_one_line_error(tmp_path):
    p = run("--db", tmp_path / "absent", "get", "k", check_rc=1)
    assert p.stderr.startswith("tinykv-storage: ") and p.stderr.count("\n") == 1


def test_bad_usage_exits_2(tmp_path):
    run("frobnicate", check_rc=2)
    run("--db", tmp_path, "put", "only-key", check_rc=2)
    run("dump", tmp_path / "no-such-file", check_rc=2)


def _populated(tmp_path):
    path = tmp_path / "db"
    with storage.DB.open(str(path)) as d:
        for i in range(500):
            d.put(b"key%04d" % i, b"value%d" % i)
        d.flush()
        d.put(b"in-wal", b"\x00\xffbinary")
        d.delete(b"key0001")
    return path


def test_stats_and_compact(tmp_path):
    db = _populated(tmp_path)
    out = run("--db", db, "stats").stdout
    assert "flushes" in out
    run("--db", db, "compact")
    run("--db", db, "compact", "--start", "key0100", "--end", "key0200")
    assert run("--db", db, "get", "key0042").stdout == "value42\n"


def test_dump_wal_and_sstable(tmp_path):
    db = _populated(tmp_path)
    ssts = sorted(db.glob("*.sst"))
    wals = [p for p in sorted(db.glob("*.log")) if p.stat().st_size > 0]
    assert ssts and wals
    out = run("dump", ssts[0]).stdout
    assert "'key0042'" in out and "value42" in out and "records" in out
    out = run("dump", wals[-1]).stdout
    assert "put 'in-wal'" in out and "\\x00\\xffbinary" in out and "del 'key0001'" in out
    manifests = sorted(db.glob("MANIFEST-*"))
    assert run("dump", manifests[-1]).returncode == 0


def test_check_passes_on_a_healthy_db_and_names_the_corrupt_file(tmp_path):
    db = _populated(tmp_path)
    out = run("--db", db, "check").stdout
    assert "all checksums OK" in out
    sst = max(db.glob("*.sst"), key=lambda p: p.stat().st_size)
    data = bytearray(sst.read_bytes())
    data[len(data) // 3] ^= 0x01
    sst.write_bytes(bytes(data))
    p = run("--db", db, "check", check_rc=4)
    assert sst.name in p.stderr and "Corruption" in p.stderr
    assert sst.name in p.stdout  # the per-file report names it too
    p = run("dump", sst, check_rc=4)
    assert sst.name in p.stderr
