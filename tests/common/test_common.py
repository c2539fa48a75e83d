"""tinykv.common: the binding computes exactly what the C++ core does."""

import zlib

import pytest

import tinykv
from tinykv import common


# RFC 3720 §B.4 vectors and the standard check value.
@pytest.mark.parametrize("data,want", [
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(reversed(range(32))), 0x113FDB5C),
    (b"123456789", 0xE3069283),
    (b"", 0),
])
def test_crc32c_matches_standard_vectors(data, want):
    assert common.crc32c(data) == want


def _crc32c_reference(data: bytes) -> int:
    """Bit-at-a-time CRC32C in pure Python: slow but obviously right."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_equals_reference_on_varied_inputs():
    for n in range(0, 70):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert common.crc32c(data) == _crc32c_reference(data), n


def test_crc32c_is_not_zlib_crc32():
    # Guards against accidentally binding the wrong polynomial.
    assert common.crc32c(b"123456789") != zlib.crc32(b"123456789")


def test_crc32c_extend_equals_whole():
    data = b"the quick brown fox jumps over the lazy dog"
    for split in range(len(data) + 1):
        assert common.crc32c(data[split:], common.crc32c(data[:split])) == common.crc32c(data)


def test_mask_round_trips():
    crc = common.crc32c(b"foo")
    assert common.crc32c_mask(crc) != crc
    assert common.crc32c_unmask(common.crc32c_mask(crc)) == crc


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**32 - 1, 2**32, 2**63, 2**64 - 1])
def test_varint_round_trip(value):
    enc = common.encode_varint(value)
    assert common.decode_varint(enc + b"tail") == (value, len(enc))


def test_varint_known_encoding():
    assert common.encode_varint(300) == b"\xac\x02"


def test_truncated_varint_raises_corruption_error():
    with pytest.raises(tinykv.CorruptionError, match="truncated"):
        common.decode_varint(b"\x80\x80")
    # The hierarchy: every TinyKV error is a tinykv.Error.
    with pytest.raises(tinykv.Error):
        common.decode_varint(b"")


def test_varint_rejects_negative_and_oversized_values():
    with pytest.raises(TypeError):
        common.encode_varint(-1)
    with pytest.raises(TypeError):
        common.encode_varint(2**64)
