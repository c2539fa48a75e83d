// The RPC methods Raft peers use to talk to each other (phase 2 transport);
// PeerHost (peer_host.h) serves and calls them. doc/message_format.md
// "Peer RPCs" has the grammar.
//
//   raft.Batch (unary): encoded raft Messages (raft/codec.h), each tagged
//     with its group, from one node to another. The receiver hands them to
//     the groups' replicas and answers at once -- except for a batch holding
//     a MsgSnap (alone), which is answered once the snapshot's files arrived.
//   raft.FetchSnapshot (server streaming): the files of one group's
//     snapshot, in chunks of at most kSnapshotChunkBytes (well below the
//     frame limit).
//   raft.StateHash (unary): the state hash check of one group
//     (hash_check.h): a leader asks a member for its hash at a check entry's
//     index or tells it the verdict; a started member asks the leader for a
//     check. The payloads are public (hash_check.h).
//
// Every peer connection opens with a PeerHello in the RPC layer's hello
// frame (frame kind 7, not a method): the sender's cluster id and node id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/replica/hash_check.h"

namespace tinykv::replica::internal {

inline constexpr size_t kSnapshotChunkBytes = 1u << 20;
inline constexpr size_t kMaxBatchBytes = 2u << 20;

inline constexpr uint8_t kPeerHelloVersion = 1;
// How long a raft.StateHash ask for a hash not computed yet is held by the
// receiver before it answers "pending" (well inside the caller's 3 s).
inline constexpr int kStateHashHoldMs = 1000;

// The identity a peer connection claims (doc/replica_protocol.md "Peer
// handshake"). Trusted as claimed until mutual TLS proves it.
struct PeerHello {
  uint8_t version = kPeerHelloVersion;
  uint64_t cluster_id = 0;  // 0: the sender has none configured
  uint64_t node_id = 0;     // the sender's member id
  template <class A>
  void serialize(A& a) {
    a(version, cluster_id, node_id);
  }
};

struct GroupMessage {
  uint64_t group = 0;
  std::string message;  // raft::EncodeMessage
  template <class A>
  void serialize(A& a) {
    a(group, message);
  }
};

struct RaftBatchRequest {
  uint64_t from = 0;  // sending node; every message's `from` must equal it
  uint64_t to = 0;    // receiving node; every message's `to` must equal it
  std::vector<GroupMessage> messages;
  template <class A>
  void serialize(A& a) {
    a(from, to, messages);
  }
};

struct RaftBatchResponse {
  uint8_t accepted = 1;
  template <class A>
  void serialize(A& a) {
    a(accepted);
  }
};

using RaftBatchMethod = net::UnaryMethod<net::method_id::kRaftBatch, "raft.Batch",
                                         RaftBatchRequest, RaftBatchResponse, net::kNotIdempotent>;

struct FetchSnapshotRequest {
  uint64_t group = 0;
  uint64_t index = 0;
  uint64_t term = 0;
  template <class A>
  void serialize(A& a) {
    a(group, index, term);
  }
};

struct SnapshotChunk {
  std::string file;     // relative name inside the snapshot directory
  uint64_t offset = 0;  // of data within the file
  std::string data;
  uint8_t last = 0;     // 1: the final chunk of this file
  template <class A>
  void serialize(A& a) {
    a(file, offset, data, last);
  }
};

using FetchSnapshotMethod =
    net::StreamMethod<net::method_id::kRaftFetchSnapshot, "raft.FetchSnapshot",
                      FetchSnapshotRequest, SnapshotChunk, net::kIdempotent>;

// Asking twice gets the same answer; a verdict or a check request repeated
// changes nothing more than the first.
using StateHashMethod = net::UnaryMethod<net::method_id::kRaftStateHash, "raft.StateHash",
                                         StateHashRequest, StateHashResponse, net::kIdempotent>;

}  // namespace tinykv::replica::internal
