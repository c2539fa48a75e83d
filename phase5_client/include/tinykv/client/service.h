// The client-facing KV service: the server side of protocol.h.
//
// RegisterKvService registers every method of the client protocol (Get, Put,
// Delete, DeleteRange, Scan, Cas, Status, MemberList, ...) on a phase 2
// RpcServer, backed by one replicated node: a txn::TxnNode (MVCC:
// revisions, reads at a revision, and the Tso and Txn methods of
// transactions; what tinykv-server and LocalCluster run), or a plain
// replica::KvNode (one version per key, no revisions, no transactions: the
// phase 3 node and test doubles).
//
// Semantics:
//   * Writes become KvCommands carrying the request's (client_id,
//     request_seq) and are proposed through KvNode::Propose; the handler
//     answers once the command has applied on this node. A follower answers
//     NotLeader("leader=N addr=HOST:PORT") at once (addr when known).
//   * Reads are linearizable by default: KvNode::ReadBarrier (ReadIndex), then
//     a local read -- on MVCC at the request's revision or a fresh one from
//     the oracle, once the writes below it in flight are done
//     (TxnNode::WaitForWrites). With `serializable` the node reads its own
//     state machine at once (any node, possibly stale; the newest state
//     unless a revision is given).
//   * Timeouts: the request's timeout_ms, or ServiceOptions::default_timeout_ms
//     when it carries none. A write that times out has an unknown outcome;
//     the client's retry with the same WriteId is applied at most once.
//
//   * Watch (TxnNode only; protocol.h, watch_stream.h): a server stream fed
//     by the node's watch hub, on the leader (NotLeader with the hint
//     elsewhere). It ends with the hub's status: NotLeader at a leader
//     change, the compacted or resume errors of watch_error.h, or the
//     hub's Close status -- a server that shuts down calls
//     node.watch_hub().Close() before server.Shutdown, since a watch never
//     ends by itself and would hold the drain to its deadline.
//
// Threading: handlers run on the RpcServer's io threads and never block on
// Raft: KvNode's callbacks (which run on the node's own threads) are posted
// back to the handler's executor and resumed as coroutines (service.cc,
// AwaitNode). Local reads (KvNode::Get/Scan) are synchronous engine reads
// and run inline; a Scan page is bounded (protocol.h) so that stays short.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "tinykv/common/status.h"
#include "tinykv/net/server.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::client {

struct ServiceOptions {
  // This server's client endpoint, reported by Status. Empty: the server's
  // bound address (RpcServer::address(), known after Start).
  std::string advertise_client_address;
  int default_timeout_ms = 5000;  // when a request carries none
  // Client addresses of the other members (id -> "host:port"), when known
  // (e.g. from tinykv-server's --initial-cluster-client flag). Used for the
  // leader hint of NotLeader errors and for MemberList/Status. Optional:
  // without it clients find the leader by asking each endpoint's Status.
  std::map<uint64_t, std::string> member_client_addresses;
  // Optional resolver consulted for members missing from the map above
  // (e.g. an in-process cluster whose ports are known only after Start).
  // Called from io threads; must be thread-safe; "" = unknown.
  std::function<std::string(uint64_t id)> resolve_client_address;
  // Optional observer of every request the service handled (monitoring:
  // tinykv-server's request metrics), called once per request when its
  // handler returns, with the method's name ("tinykv.Put"), the answer's
  // status and the handler's wall time. Requests refused before a handler
  // ran (undecodable payload, unknown method, draining) are not seen. Called
  // from io threads: must be thread-safe and quick.
  std::function<void(std::string_view method, const Status& status,
                     std::chrono::nanoseconds elapsed)>
      on_request_done;
};

// Registers every client-facing method on `server`, backed by `node`.
// REQUIRES: before server.Start(); node outlives server (shut the server
// down before stopping the node).
void RegisterKvService(net::RpcServer& server, replica::KvNode& node, const ServiceOptions& options);
void RegisterKvService(net::RpcServer& server, txn::TxnNode& node, const ServiceOptions& options);

}  // namespace tinykv::client
