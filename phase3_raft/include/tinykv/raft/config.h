// raft::Config: the knobs of one Raft node (etcd-io/raft's Config).
#pragma once

#include <cstdint>

#include "tinykv/common/status.h"
#include "tinykv/raft/storage.h"

namespace tinykv::raft {

enum class ReadOnlyOption : uint8_t {
  // ReadIndex (§6.4 of Ongaro's dissertation): the leader confirms with a
  // round of heartbeats that it is still leader. Always linearizable.
  kSafe = 0,
  // Lease reads (§6.4.1): the leader answers from its commit index, with no
  // heartbeat round, while a quorum acknowledged messages it sent within the
  // last lease_ticks (src/leader_lease.h; otherwise a round as kSafe, which
  // renews the lease). Depends on the members' clocks advancing at nearly the
  // same rate: no member's election timeout may elapse in less real time than
  // the leader's lease_ticks. REQUIRES check_quorum.
  kLeaseBased = 1,
};

struct Config {
  uint64_t id = 0;  // this node; never kNone
  // A follower that hears nothing for a randomized timeout in
  // [election_tick, 2*election_tick) ticks starts an election (§5.2).
  int election_tick = 10;
  int heartbeat_tick = 1;      // leader heartbeat interval; REQUIRES < election_tick
  Storage* storage = nullptr;  // not owned; must outlive the node
  // The last applied index, when restarting (entries <= applied are not re-applied).
  uint64_t applied = 0;
  // Flow control per follower: bytes of entries per MsgApp (at least one entry is sent) ...
  uint64_t max_msg_bytes = 1 << 20;
  // ... and at most this many MsgApp in flight (unacknowledged) in Replicate state ...
  int max_inflight_msgs = 256;
  // ... and at most this many bytes in flight (0: no byte limit).
  uint64_t max_inflight_bytes = 0;
  // The leader refuses proposals (ResourceExhausted) once its uncommitted tail
  // would exceed this many payload bytes (0: no limit). Rejected, not queued.
  uint64_t max_uncommitted_bytes = 0;
  // Upper bound on payload bytes of committed entries in one Ready.
  uint64_t max_committed_bytes_per_ready = 0;  // 0: no limit
  bool check_quorum = true;                    // a leader without contact to a quorum steps down
  bool pre_vote = true;  // §9.6: run a pre-election before incrementing the term
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  // kLeaseBased: the lease's length in ticks after the messages a quorum
  // acknowledged were sent; 0 = election_tick - 1 (one tick of margin for
  // clock drift). A value >= election_tick is unsafe (a partitioned old
  // leader may answer after a new one was elected): for tests only.
  int lease_ticks = 0;
  // Seed of the injected PRNG that randomizes election timeouts.
  uint64_t random_seed = 0;
  // Log role/term transitions at info level (stable lines, e.g.
  // "node=2 term=5 became leader"). The simulator turns this off and records
  // the same lines in its trace instead.
  bool log_transitions = true;
  // The leader's parallel append (thesis §10.2.1): a leader's Ready may be
  // sent before it is persisted (Ready::messages_before_persist), so the
  // followers write their logs while the leader writes its own, and the
  // leader counts itself toward the commit quorum only for entries it has
  // durably stored, which the application reports by Advance. Off: the
  // leader counts each entry as soon as it appends it, and every Ready is
  // persisted before its messages are sent (the classic contract).
  bool parallel_leader_append = false;

  // InvalidArgument describing the first problem, or OK.
  Status Validate() const;
};

}  // namespace tinykv::raft
