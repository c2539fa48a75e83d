// The admin RPC of tinykv-server: node status for operators and tests, and
// test-only fault injection at the Raft transport.
//
// Methods (served on the client address, next to the KV service):
//   prod.AdminStatus      always on. The node's Raft view: id, leader, term,
//                         role, commit/applied/first/last index, members,
//                         the counters of refused peer messages and the
//                         CORRUPT alarm of the state hash check.
//   prod.AdminSetFaults   only with --enable-fault-injection (otherwise the
//                         RPC layer answers NotSupported: the method is not
//                         registered). Replaces the set of peers whose
//                         traffic this node drops, both directions, and the
//                         random drop probability. tinykv.testing.Cluster
//                         builds partition()/heal() from it: a partition into
//                         groups is "every node drops every node outside its
//                         group".
//
// Method ids 0x6000.. belong to phase 6 (the KV service uses lower ids).
// Payloads are cereal structs, as everywhere in phase 2.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/net/serialization.h"
#include "tinykv/replica/replica_status.h"

namespace tinykv::prod {

struct AdminMember {
  uint64_t id = 0;
  std::string peer_address;
  bool learner = false;
  template <class A>
  void serialize(A& a) {
    a(id, peer_address, learner);
  }
};

struct AdminStatusRequest {
  uint8_t unused = 0;  // cereal messages need at least one byte (serialization.h)
  template <class A>
  void serialize(A& a) {
    a(unused);
  }
};

// Starts with the replica's position (replica_status.h), serialized first.
struct AdminStatusResponse : replica::ReplicaPosition {
  std::vector<AdminMember> members;
  std::string client_address;
  std::string peer_address;
  bool fault_injection = false;  // whether prod.AdminSetFaults is served
  uint64_t pid = 0;
  uint64_t snapshot_index = 0;       // latest state machine snapshot (0: none)
  uint64_t log_fsyncs = 0;           // fdatasync calls of the Raft log since start
  uint64_t log_entries_written = 0;  // entries appended to the Raft log since start
  // Peer messages refused since start, by the layer that refused them
  // (phase3_raft/doc/replica_protocol.md "Peer RPCs"): the Raft core
  // (ReplicaStatus::rejected_messages: above the term ceiling, from a
  // non-member, a heartbeat committing beyond the log, ...) and the peer
  // transport before any replica saw them (PeerHostStats::messages_refused:
  // undecodable, misaddressed, for a group not hosted here).
  uint64_t rejected_messages = 0;
  uint64_t peer_messages_refused = 0;
  // Non-empty while the node is CORRUPT (replica/hash_check.h); and the index
  // of the last state hash check that found its state right (0: none since
  // it started).
  std::string alarm;
  uint64_t hash_verified_index = 0;
  template <class A>
  void serialize(A& a) {
    ReplicaPosition::serialize(a);
    a(members, client_address, peer_address, fault_injection, pid, snapshot_index, log_fsyncs,
      log_entries_written);
    // Added later: absent from an older server's answer (net::TrailingField).
    net::TrailingField(a, rejected_messages);
    net::TrailingField(a, peer_messages_refused);
    net::TrailingField(a, alarm);
    net::TrailingField(a, hash_verified_index);
  }
};

struct AdminSetFaultsRequest {
  std::vector<uint64_t> dropped_peers;  // replaces the previous set; empty = heal
  double drop_probability = 0.0;        // each message dropped with this probability
  template <class A>
  void serialize(A& a) {
    a(dropped_peers, drop_probability);
  }
};

struct AdminSetFaultsResponse {
  uint8_t unused = 0;
  template <class A>
  void serialize(A& a) {
    a(unused);
  }
};

using AdminStatusMethod = net::UnaryMethod<net::method_id::kAdminStatus, "prod.AdminStatus",
                                           AdminStatusRequest, AdminStatusResponse,
                                           net::kIdempotent>;
// Replaces the fault state: safe to repeat.
using AdminSetFaultsMethod =
    net::UnaryMethod<net::method_id::kAdminSetFaults, "prod.AdminSetFaults", AdminSetFaultsRequest,
                     AdminSetFaultsResponse, net::kIdempotent>;

}  // namespace tinykv::prod
