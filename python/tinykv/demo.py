"""`python -m tinykv.demo`: the most advanced working demo (scripts/run.sh).

Until tinykv-server exists (phase 6) this runs the newest finished phase's
demo. Today that is the foundation: it shows the C++ core answering from
Python, checks it against a pure-Python reference, and says what comes next.
"""

import sys

import tinykv
from tinykv import common


def main() -> int:
    print(f"TinyKV {tinykv.__version__} — foundation demo (no server yet: phases 1-6 are not built)")
    data = b"123456789"
    crc = common.crc32c(data)
    print(f"crc32c({data!r}) = {crc:#010x} computed in C++ "
          f"({'SSE4.2' if common.crc32c_hardware() else 'portable'}); standard check value 0xe3069283")
    enc = common.encode_varint(300)
    print(f"varint(300) = {enc.hex()} -> {common.decode_varint(enc)[0]}")
    return 0 if crc == 0xE3069283 else 1


if __name__ == "__main__":
    sys.exit(main())
