"""tinykv-server's admin RPC (phase 6): node status and test-only fault injection.

``admin_status(endpoint, timeout=2.0) -> dict`` (id, leader, term, role, commit_index,
applied_index, first_index, last_index, members, client_address, peer_address,
fault_injection, pid, snapshot_index, log_fsyncs, log_entries_written, and the peer messages
refused since start: ``rejected_messages`` by the Raft core, ``peer_messages_refused`` by the
peer transport before the core saw them) and
``admin_set_faults(endpoint, dropped_peers, drop_probability=0.0, timeout=2.0)``, which
needs a server started with ``--enable-fault-injection``. Both take ``cacert=``, ``cert=``
and ``key=`` (PEM paths) for a server with TLS on its client port.
``tinykv.testing.Cluster`` is built on these.
"""

from tinykv._core.prod import admin_set_faults, admin_status

__all__ = ["admin_status", "admin_set_faults"]
