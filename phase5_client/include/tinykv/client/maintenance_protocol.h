// The maintenance methods of the client protocol (protocol.h;
// doc/protocol.md "Compaction and defragmentation"): etcd's KV.Compact and
// Maintenance.Defragment over TxnNode (phase4_txn txn_node.h
// "Compaction").
//
//   Compact     the leader's: drops the history a read at `revision` or
//               later does not see, through Raft, on every member. Then a
//               Get/Scan below `revision` fails with InvalidArgument
//               "required revision R has been compacted (compact revision
//               C; ...)", and a Watch from `revision` or below with the
//               watch's compacted error; both carry the WatchError detail
//               kCompacted{C} (phase4_txn watch_error.h). `revision` 0, one
//               in the future or one at or below the compacted revision is
//               InvalidArgument (the last with the same detail). The answer
//               comes once the compaction has applied on the leader, so it
//               is always etcd's "physical" compaction; `physical` is
//               accepted for etcdctl's flag and changes nothing.
//   Defragment  the member's own, not replicated: flushes and compacts its
//               engine so the space of dropped versions and deleted keys is
//               given back (etcd's defrag). Any member answers, for itself;
//               the client sends it to one endpoint. Unavailable while one
//               runs on that member.
//   MoveLeader  the leader's (a follower answers NotLeader with the hint):
//               hands leadership to the voter `target` (etcd's
//               Maintenance.MoveLeader) and answers once it leads, with the
//               leader before (`from`) and after (`to`). A target that
//               already leads is OK at once (from == to); an unknown member
//               is NotFound("member T not found"); a learner is
//               InvalidArgument("member T is a learner ..."); Timeout when
//               leadership did not move within timeout_ms.
//   HashKv      the member's own, not replicated (etcd's Maintenance.HashKV):
//               a CRC32C over its MVCC key space as of `revision` (0: every
//               version applied here), from one engine snapshot
//               (phase4_txn/include/tinykv/txn/mvcc_hash.h has the bytes
//               hashed). Members that applied the same log answer the same
//               hash. The answer names the compact revision and the
//               revision hashed at. A revision below the compact revision is
//               the read's compacted error (InvalidArgument, kCompacted
//               detail); one above the oracle's reservation applied here is
//               InvalidArgument "... is in the future".
//
// A server without MVCC does not register either (NotSupported).
// Method ids 516..519 (net/method_ids.h).
#pragma once

#include <cstdint>

#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/net/serialization.h"

namespace tinykv::client {

struct CompactRequest {
  uint64_t revision = 0;
  bool physical = false;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(revision, physical, timeout_ms);
  }
};
struct CompactResponse {
  uint64_t compact_revision = 0;  // in force on the leader after this compaction
  uint64_t removed = 0;           // version and rollback records dropped
  template <class A>
  void serialize(A& a) {
    a(compact_revision, removed);
  }
};

struct DefragmentRequest {
  uint8_t unused = 0;  // cereal messages need at least one byte (serialization.h)
  template <class A>
  void serialize(A& a) {
    a(unused);
  }
};
struct DefragmentResponse {
  uint64_t member_id = 0;
  uint64_t bytes_before = 0;  // the engine's live SSTable bytes, after the memtable's flush
  uint64_t bytes_after = 0;
  template <class A>
  void serialize(A& a) {
    a(member_id, bytes_before, bytes_after);
  }
};

// A retried Compact of a revision that applied is refused as compacted
// already: the client treats that answer, to its own retry, as success.
struct MoveLeaderRequest {
  uint64_t target = 0;  // the member to lead (a voter)
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(target, timeout_ms);
  }
};
struct MoveLeaderResponse {
  uint64_t from = 0;  // the leader that handed over
  uint64_t to = 0;    // the leader now (the target)
  template <class A>
  void serialize(A& a) {
    a(from, to);
  }
};

struct HashKvRequest {
  uint64_t revision = 0;  // 0: every version applied on the member
  template <class A>
  void serialize(A& a) {
    a(revision);
  }
};
struct HashKvResponse {
  uint64_t member_id = 0;
  uint32_t hash = 0;              // CRC32C (mvcc_hash.h)
  uint64_t compact_revision = 0;  // the member's compacted revision (0: never)
  uint64_t hash_revision = 0;     // the revision hashed at (see mvcc_hash.h for 0)
  template <class A>
  void serialize(A& a) {
    a(member_id, hash, compact_revision, hash_revision);
  }
};

using CompactMethod = net::UnaryMethod<net::method_id::kCompact, "tinykv.Compact", CompactRequest,
                                       CompactResponse, net::kIdempotent>;
using DefragmentMethod =
    net::UnaryMethod<net::method_id::kDefragment, "tinykv.Defragment", DefragmentRequest,
                     DefragmentResponse, net::kIdempotent>;
// A resent MoveLeader whose first attempt moved leadership reaches the new
// leader, which is its target: OK, from == to.
using MoveLeaderMethod =
    net::UnaryMethod<net::method_id::kMoveLeader, "tinykv.MoveLeader", MoveLeaderRequest,
                     MoveLeaderResponse, net::kIdempotent>;
using HashKvMethod = net::UnaryMethod<net::method_id::kHashKv, "tinykv.HashKv", HashKvRequest,
                                      HashKvResponse, net::kIdempotent>;

}  // namespace tinykv::client
