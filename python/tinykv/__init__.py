"""TinyKV: a distributed, strongly consistent key-value store, built phase by phase.

Submodules, in the order of the learner's path:

- ``tinykv.common``  — CRC32C and varints, shared by every format; ``configure_logging``
- ``tinykv.storage`` — phase 1: the LSM-tree storage engine
- ``tinykv.net``     — phase 2: the RPC layer's demo KV server and client
- ``tinykv.raft``    — phase 3: the simulator ``SimCluster``, real nodes ``KvNode``/``LocalCluster``
- ``tinykv.client``  — phase 5: ``Client`` (also ``tinykv.Client``; reads at revisions,
  transactions with ``txn()``) and ``EmbeddedCluster``, members serving the client protocol
  inside this process
- ``tinykv.prod``    — phase 6: tinykv-server's admin RPC (status, fault injection)
- ``tinykv.testing`` — phase 6: ``Cluster``, real tinykv-server processes for tests
- ``tinykv.linearizability`` — a checker for recorded histories (Wing & Gong, Porcupine)
- ``tinykv.errors``  — the exception hierarchy (also re-exported here)

Every call into C++ goes through the single extension module ``tinykv._core`` (typed by the
stubs in ``tinykv/_core/*.pyi``). Keys and values are bytes-like or str everywhere
(``tinykv.common.BytesLike``; anything else is a TypeError), and an open range end is None.
The three cluster harnesses -- ``testing.Cluster`` (processes), ``client.EmbeddedCluster``
and ``raft.LocalCluster`` (in-process) -- share the verbs ``leader()``, ``wait_leader()``,
``kill(i)``, ``restart(i)``, ``partition(groups)``, ``heal()``, ``stop()``.

The package's console scripts ``tinykv``, ``tinykv-server`` and ``tinykv-bench`` run the
executables shipped in ``tinykv/bin/``.
"""

from tinykv.errors import *  # noqa: F401,F403
from tinykv.errors import __all__ as _errors_all
from tinykv import common
from tinykv import storage
from tinykv import net
from tinykv import raft
from tinykv import client
from tinykv.client import Client
from tinykv import prod

__version__ = "0.1.0"
__all__ = ["common", "storage", "net", "raft", "client", "Client", "prod",
           "__version__"] + list(_errors_all)
