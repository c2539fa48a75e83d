"""TinyKV: a distributed, strongly consistent key-value store, built phase by phase.

Submodules, one per phase of the learner's path:

- ``tinykv.common``  — CRC32C and varints, shared by every format
- ``tinykv.net``     — phase 2: the RPC layer's demo KV server and client
- ``tinykv.errors``  — the exception hierarchy (also re-exported here)
- ``tinykv.raft``    — Raft: the deterministic cluster simulator ``SimCluster``

Every call into C++ goes through the single extension module ``tinykv._core``.
"""

from tinykv.errors import *  # noqa: F401,F403
from tinykv.errors import __all__ as _errors_all
from tinykv import common
from tinykv import net
from tinykv import raft

__version__ = "0.1.0"
__all__ = ["common", "net", "raft", "__version__"] + list(_errors_all)
