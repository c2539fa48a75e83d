"""Shared primitives of TinyKV's C++ core: CRC32C, varint encoding, logging.

These are the exact functions the storage engine and the RPC layer use, so
tests and notebooks can check on-disk and wire bytes by hand.

``configure_logging(level="info", format="text", file=None)`` decides where the
C++ core's log lines go (stderr by default). A notebook sends them to a file (or
raises the level) so that they do not land in its cells; call it before starting
nodes or servers.

``BytesLike`` is what every key and value parameter of the package accepts:
bytes, bytearray, memoryview (any C-contiguous buffer, taken as its raw bytes) and
str (encoded as UTF-8). Anything else raises ``TypeError``; in particular an int
is never taken as a length and a list of ints is never taken as bytes.
"""

from typing import Union

from tinykv._core import common as _c

BytesLike = Union[bytes, bytearray, memoryview, str]

crc32c = _c.crc32c
crc32c_mask = _c.crc32c_mask
crc32c_unmask = _c.crc32c_unmask
crc32c_hardware = _c.crc32c_hardware
encode_varint = _c.encode_varint
decode_varint = _c.decode_varint
configure_logging = _c.configure_logging

__all__ = ["BytesLike", "crc32c", "crc32c_mask", "crc32c_unmask", "crc32c_hardware",
           "encode_varint", "decode_varint", "configure_logging"]
