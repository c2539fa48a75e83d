// ReplicaStatus: one replica's view of its Raft group -- the one status
// struct of the replication layer. The client protocol's Status answer and
// tinykv-server's admin status start with the same ReplicaPosition (they
// derive from it and serialize it first), and the Python bindings turn it
// into dict entries in one place (common/bindings/replica_status_py.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/common/latency_histogram.h"
#include "tinykv/replica/membership.h"

namespace tinykv::replica {

// Where a replica stands in its group's log.
struct ReplicaPosition {
  uint64_t id = 0;
  uint64_t leader = 0;  // 0 = unknown
  uint64_t term = 0;
  std::string role;     // "follower", "pre_candidate", "candidate", "leader"
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t first_index = 0;  // the Raft log range this replica holds
  uint64_t last_index = 0;
  template <class A>
  void serialize(A& a) {
    a(id, leader, term, role, commit_index, applied_index, first_index, last_index);
  }
};

struct ReplicaStatus : ReplicaPosition {
  uint64_t group = 0;
  uint64_t vote = 0;                // the persisted vote of `term` (0: none)
  std::vector<MemberInfo> members;  // the applied configuration
  // Durable log counters (benchmarks): fdatasync calls and entries written.
  uint64_t log_fsyncs = 0;
  uint64_t log_entries_written = 0;
  uint64_t snapshot_index = 0;  // latest snapshot (0: none)
  uint64_t ticks = 0;           // Raft ticks since start (tests on a manual clock)
  // Non-empty when the replica stopped on a disk error: it acknowledges
  // nothing until restarted (fail-safe), but still serves local reads.
  std::string error;
  // Non-empty while the replica is CORRUPT (hash_check.h): a state hash check
  // found its state machine different from the majority's (the text names
  // the index and both hashes). It refuses proposals and reads, but keeps
  // taking part in Raft. Persisted until a later check finds it right again.
  std::string alarm;
  // The NOSPACE alarm (replica.h, "Failing safe"): this member's disk
  // filled; it refuses writes until the alarm is disarmed.
  bool nospace = false;
  // The index of the last state hash check that found this replica's state
  // equal to the majority's (0: none since it started).
  uint64_t hash_verified_index = 0;
  // Peer messages the Raft core refused (raft/message_check.h: malformed,
  // from a non-member, above the term ceiling, ...), and snapshots refused
  // before their files were fetched.
  uint64_t rejected_messages = 0;
  // Proposals (Replica::Propose, this process's lifetime; monitoring):
  // submitted and not yet completed, and completed with an error other than
  // NotLeader (a routing answer, not a failure): Aborted, Timeout,
  // Cancelled, Busy, the disk error.
  uint64_t proposals_pending = 0;
  uint64_t proposals_failed = 0;
  // Times this replica saw a new leader (a known leader other than the last
  // one it knew), sampled once per tick: elections take at least an election
  // timeout, so no change is missed.
  uint64_t leader_changes = 0;
  // Latencies since start (etcd's disk histograms): each fdatasync of the
  // Raft log, and each state machine command's apply (one KV engine batch
  // write; etcd's backend commit).
  LatencyHistogram::Snapshot wal_fsync_duration;
  LatencyHistogram::Snapshot backend_commit_duration;
};

}  // namespace tinykv::replica
