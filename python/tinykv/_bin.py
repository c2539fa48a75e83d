"""Console entry points: ``tinykv``, ``tinykv-server`` and ``tinykv-bench`` on the venv's
PATH run the executables shipped in the package (``tinykv/bin/``), replacing this Python
process (``os.execv``), so exit codes, signals and stdin/stdout are the binary's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BIN_DIR = Path(__file__).resolve().parent / "bin"


def _exec(name: str) -> None:
    path = BIN_DIR / name
    if not path.exists():
        sys.exit(f"{name}: not shipped in this tinykv build ({path})")
    os.execv(str(path), [str(path), *sys.argv[1:]])


def tinykv() -> None:
    """The ``tinykv`` CLI (etcdctl-like client)."""
    _exec("tinykv")


def tinykv_server() -> None:
    """``tinykv-server``, one cluster member."""
    _exec("tinykv-server")


def tinykv_bench() -> None:
    """``tinykv-bench``, the load generator (TinyKV or etcd)."""
    _exec("tinykv-bench")
