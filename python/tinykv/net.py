"""Phase 2: TinyKV's RPC layer, seen through its milestone demo.

``DemoServer`` runs the single-node KV server (``kv.Get/Put/Delete/Scan/Echo``)
inside this process on its own C++ I/O threads; ``Client`` talks to any demo
server over the framed, multiplexed RPC protocol (phase2_net/doc/frame_format.md).
Blocking calls release the GIL. Errors are ``tinykv`` exceptions:
``TimeoutError`` when a deadline passes, ``UnavailableError`` when the server
cannot be reached, ``CancelledError`` on shutdown.

    from tinykv import net
    with net.DemoServer(port=0) as server:          # port 0: the OS picks one
        c = net.Client(server.address, timeout=2.0)
        c.put(b"k", b"v"); c.get(b"k"); c.scan(b"a", b"z"); c.scan(b"a")   # end None: open

Keys and values are bytes-like or str (``tinykv.common.BytesLike``), else ``TypeError``.

``start_server_process`` runs the ``tinykv-demo-server`` executable shipped in
the package instead, for tests that kill the server.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tinykv._core import net as _c

FRAME_HEADER_SIZE = _c.FRAME_HEADER_SIZE
DEFAULT_MAX_FRAME_BYTES = _c.DEFAULT_MAX_FRAME_BYTES
STORAGE_BACKEND_AVAILABLE = _c.STORAGE_BACKEND_AVAILABLE
encode_frame = _c.encode_frame
decode_frames = _c.decode_frames

# Frame kinds (frame.h).
REQUEST, RESPONSE, STREAM_ITEM, STREAM_END, ERROR, CANCEL, HELLO = 1, 2, 3, 4, 5, 6, 7


class DemoServer(_c.DemoServer):
    """The demo KV server in this process. Also a context manager (shuts down on exit)."""

    def __enter__(self) -> "DemoServer":
        return self

    def __exit__(self, *exc: object) -> bool:
        self.shutdown()
        return False


class Client(_c.Client):
    """A demo KV client. Also a context manager (closes on exit).

    Keys and values are bytes-like or str (``tinykv.common.BytesLike``), else TypeError;
    ``scan(start, end=None)``: end None (or b"") is the last key."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> bool:
        self.close()
        return False


def binary_path(name: str) -> Path:
    """Path of an executable shipped inside the package (e.g. ``tinykv-demo-server``)."""
    path = Path(__file__).resolve().parent / "bin" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not shipped in this tinykv build ({path})")
    return path


def start_server_process(port: int = 0, *args: str,
                         timeout: float = 10.0) -> tuple[subprocess.Popen, str]:
    """Starts ``tinykv-demo-server`` on 127.0.0.1 as a child process.

    Returns ``(process, address)`` once the server listens. The caller owns the
    process (terminate or kill it, then ``wait()``).
    """
    proc = subprocess.Popen(
        [str(binary_path("tinykv-demo-server")), "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # "listening on HOST:PORT backend=..."
    if not line.startswith("listening on "):
        proc.kill()
        proc.wait(timeout)
        raise RuntimeError(f"tinykv-demo-server did not start: {line!r} {proc.stderr.read()!r}")
    return proc, line.split()[2]


__all__ = ["DemoServer", "Client", "encode_frame", "decode_frames", "binary_path",
           "start_server_process", "FRAME_HEADER_SIZE", "DEFAULT_MAX_FRAME_BYTES",
           "STORAGE_BACKEND_AVAILABLE", "REQUEST", "RESPONSE", "STREAM_ITEM", "STREAM_END",
           "ERROR", "CANCEL", "HELLO"]
