// etcd's latency warnings: the thresholds above which a member logs a
// warning line (with typed fields, logging.h), and the detector of late
// heartbeats. What is logged where:
//
//   "slow fdatasync"        DiskStorage, an fdatasync of the Raft log took
//                           longer than DiskStorageOptions::warn_sync_duration
//                           (etcd's wal warnSyncDuration, 1 s). Fields: took,
//                           expected (ms).
//   "apply request took too long"
//                           Replica, one run of state machine commands (one
//                           ApplyBatch, one engine write) took longer
//                           than ReplicaOptions::warn_apply_duration (etcd's
//                           --warning-apply-duration, 100 ms). Fields: node,
//                           group, index (the last of the run), entries, term, took,
//                           expected.
//   "leader failed to send out heartbeat on time; took too long, leader is
//    overloaded likely from slow disk"
//                           Replica as leader, two heartbeats to one peer were
//                           further apart than twice the heartbeat interval
//                           (etcd's raftNode timeout detector). Fields: node,
//                           group, peer, heartbeat_interval, expected, exceeded.
//   "leader changed"        Replica, a known leader other than the last one
//                           (sampled per tick, as the leader_changes counter).
//                           Fields: node, group, term, from, to.
//
// Durations in these fields are milliseconds (doubles).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

namespace tinykv::replica {

inline constexpr std::chrono::milliseconds kWarnSyncDuration{1000};
inline constexpr std::chrono::milliseconds kWarnApplyDuration{100};

// etcd's contention.TimeoutDetector: Observe(peer, now) for each heartbeat
// sent; it answers by how much the gap since the previous one to that peer
// exceeded `max` (0: on time, or the first one since Reset). Not
// thread-safe (the Replica's driver thread owns it).
class TimeoutDetector {
 public:
  explicit TimeoutDetector(std::chrono::microseconds max) : max_(max) {}
  std::chrono::microseconds max() const { return max_; }
  std::chrono::microseconds Observe(uint64_t peer, uint64_t now_micros);
  // Forgets every peer (a new leadership starts on time).
  void Reset() { last_.clear(); }

 private:
  std::chrono::microseconds max_;
  std::map<uint64_t, uint64_t> last_;  // peer -> time of the last heartbeat (micros)
};

}  // namespace tinykv::replica
