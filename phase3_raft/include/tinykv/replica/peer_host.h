// PeerHost: one process's Raft transport, shared by every replica (Raft group)
// the process hosts. It owns one peer RPC server (the peer port) and one pool
// of peer connections, and it multiplexes groups over them: every message on
// the wire names its group, and replicas register with the host by group id.
//
//   auto host = PeerHost::Start({.node_id = 1, .listen = "127.0.0.1:2380"}).value();
//   host->SetAddress(2, "10.0.0.2:2380");
//   // Replica::Open(options, host.get(), ...) registers group options.group
//
// Node ids. A process is one member id (its node id) in every group it
// hosts, so one address book entry per node serves all groups, and a batch
// to a node carries the messages of all groups bound for it (one RPC per
// destination node at a time, as before: batching, not pipelining).
//
// Protocol (src/replica/peer_protocol.h, doc/message_format.md "Peer RPCs"):
//   raft.Batch          a batch of (group, encoded raft Message) from one
//                       node to another; the receiver checks that every
//                       message names the batch's sender and receiver and
//                       hands each group its messages. A batch holding a
//                       MsgSnap holds only that message: the receiver first
//                       fetches the snapshot's files (raft.FetchSnapshot),
//                       then answers, so the sender learns the outcome.
//   raft.FetchSnapshot  the files of one group's snapshot, in chunks.
//   raft.StateHash      one group's state hash check (hash_check.h): the
//                       receiver's GroupEndpoint answers; the sender's
//                       endpoint gets the answer (SendStateHash).
//
// Handshake. Every peer connection opens with a hello (the RPC layer's hello
// frame) carrying the cluster id and the sender's node id. The peer port
// refuses a connection whose hello is missing (within the RPC layer's
// handshake deadline, 3 s), malformed, names node 0 or this node, or names
// another cluster than `cluster_id` (when set: both sides log one line
// naming both ids). It records the node id the hello claims and refuses a
// raft.Batch whose `from` differs. Connections that have not completed the
// hello are capped (kMaxUnauthenticatedPeerConnections, oldest closed first)
// so that strangers can never take the slots members need; members'
// connections do not count. The claimed id is trusted as claimed; with
// mutual TLS (server_tls.verify_peer) only holders of a certificate from the
// peer CA get as far as a hello, but the certificate does not name the id.
//
// Thread safety: every method is thread-safe. Registered endpoints are
// called on the host's io threads; Unregister waits for calls in progress.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/env.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/tls.h"
#include "tinykv/raft/message.h"
#include "tinykv/replica/hash_check.h"

namespace tinykv::replica {

// What one group exposes to the host. Implemented by the replica; every call
// comes from a host io thread.
class GroupEndpoint {
 public:
  virtual ~GroupEndpoint() = default;
  // Messages from node `from` (never a MsgSnap): queue them for the core.
  virtual void OnMessages(uint64_t from, std::vector<raft::Message> msgs) = 0;
  // A MsgSnap: fetch the snapshot's files from the sender (FetchSnapshot
  // below), then step it. Completes when the snapshot is on disk and queued
  // for the core, or failed; the sender learns which.
  virtual net::awaitable<Status> OnSnapshotMessage(raft::Message msg) = 0;
  // The directory holding the files of this group's snapshot at (index,
  // term), for a peer fetching it. NotFound if it is gone.
  virtual Result<std::filesystem::path> SnapshotFiles(uint64_t index, uint64_t term) = 0;
  // The Env the group's files live in (the host reads snapshot files with it).
  virtual Env* env() = 0;
  // Delivery to `to` failed (the whole batch, or the snapshot).
  virtual void OnUnreachable(uint64_t to) = 0;
  virtual void OnSnapshotSent(uint64_t to, bool failed) = 0;
  // A raft.StateHash request of this group from node `from` (hash_check.h).
  // Must not block: answers an ask from the hashes kept, and only queues a
  // verdict or a check request for the driver.
  virtual Result<StateHashResponse> OnStateHash(uint64_t from, const StateHashRequest& req) = 0;
  // What node `to` answered to SendStateHash(to, req), or why the call failed.
  virtual void OnStateHashAnswer(uint64_t to, const StateHashRequest& req,
                                 Result<StateHashResponse> answer) = 0;
};

// Peer connections that have not completed their hello, at most (the RPC
// layer closes the oldest to make room for a newcomer).
inline constexpr size_t kMaxUnauthenticatedPeerConnections = 16;

struct PeerHostOptions {
  uint64_t node_id = 0;                // this process's member id in every group
  std::string listen = "127.0.0.1:0";  // the peer port ("host:0" = OS-assigned)
  int io_threads = 2;
  // The cluster's id, sent in every hello and required of every peer's.
  // 0 = not configured: hellos of any cluster id are accepted (a hello is
  // still required).
  uint64_t cluster_id = 0;
  // TLS (net/tls.h), passed to the RPC layer as is: server_tls for the peer
  // port (verify_peer: peers must present a certificate), client_tls for
  // dialling peers. Off by default.
  net::TlsOptions server_tls;
  net::TlsOptions client_tls;
};

struct PeerHostStats {
  uint64_t batches_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t batches_failed = 0;
  uint64_t messages_received = 0;
  // Inbound messages dropped before any replica saw them: undecodable, naming
  // another sender or receiver than their batch (or the batch naming another
  // sender than its connection's hello), or for a group not hosted here.
  uint64_t messages_refused = 0;
  // Peer connections refused at the handshake (no hello, a malformed one, or
  // another cluster's), and closed for not completing it in time.
  uint64_t hellos_refused = 0;
  uint64_t handshake_timeouts = 0;
};

class PeerHost {
 public:
  // Binds the peer port and starts the io threads.
  [[nodiscard]] static Result<std::unique_ptr<PeerHost>> Start(const PeerHostOptions& options);
  virtual ~PeerHost() = default;

  virtual uint64_t node_id() const = 0;
  virtual uint16_t port() const = 0;
  // The bound listen address ("127.0.0.1:<port>").
  virtual std::string address() const = 0;

  // Where node `id` is reached ("host:port"); replaces an earlier address.
  virtual void SetAddress(uint64_t id, std::string address) = 0;
  // Sets the address only if none is known yet.
  virtual void AddAddressIfUnknown(uint64_t id, std::string address) = 0;
  virtual std::string AddressOf(uint64_t id) const = 0;

  // Routes inbound messages of `group` to `ep` (which must stay valid until
  // Unregister returns). AlreadyExists if the group is registered.
  virtual Status Register(uint64_t group, GroupEndpoint* ep) = 0;
  // Stops routing to the group and waits for endpoint calls in progress.
  virtual void Unregister(uint64_t group) = 0;

  // Queues messages of `group` for their destinations (m.to); a MsgSnap is
  // sent in a batch of its own. Never blocks; a destination whose queue holds
  // more than a bound of bytes drops new messages (Raft retransmits).
  virtual void Send(uint64_t group, std::vector<raft::Message> msgs) = 0;

  // Copies the files of `group`'s snapshot (index, term) from node `from`
  // into the new directory `into` of `env`, each file fsynced (the directory
  // is not). Chunks must arrive in order and every file must end with its
  // last chunk (Corruption otherwise). Stops early with Cancelled when
  // `cancelled()` turns true.
  virtual net::awaitable<Status> FetchSnapshot(uint64_t group, uint64_t from, uint64_t index,
                                               uint64_t term, std::filesystem::path into, Env* env,
                                               std::function<bool()> cancelled) = 0;
  // Sends a raft.StateHash request of group `req.group` to node `to`; the
  // answer (or the failure) goes to that group's endpoint (OnStateHashAnswer)
  // on a host io thread, unless the group unregistered meanwhile. Never blocks.
  virtual void SendStateHash(uint64_t to, StateHashRequest req) = 0;
  virtual PeerHostStats stats() const = 0;

  // Stops the server and the client; calls in progress end with Cancelled.
  // Every group must have unregistered. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tinykv::replica
