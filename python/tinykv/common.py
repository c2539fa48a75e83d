"""Shared primitives of TinyKV's C++ core: CRC32C and varint encoding.

These are the exact functions the storage engine and the RPC layer use, so
tests and notebooks can check on-disk and wire bytes by hand.
"""

from tinykv._core import common as _c

crc32c = _c.crc32c
crc32c_mask = _c.crc32c_mask
crc32c_unmask = _c.crc32c_unmask
crc32c_hardware = _c.crc32c_hardware
encode_varint = _c.encode_varint
decode_varint = _c.decode_varint

__all__ = ["crc32c", "crc32c_mask", "crc32c_unmask", "crc32c_hardware", "encode_varint",
           "decode_varint"]
