// Progress: the leader's view of one follower (Figure 2's nextIndex and
// matchIndex, plus etcd's flow-control state machine), and Inflights, the
// sliding window of unacknowledged MsgApp bounded in messages and bytes.
//
// States (etcd-io/raft tracker/progress.go):
//   Probe      send at most one MsgApp per heartbeat interval until a match is found;
//   Replicate  pipeline MsgApps optimistically (next advanced on send), bounded by Inflights;
//   Snapshot   a snapshot is in flight; send nothing until it is reported done or failed,
//              so a slow snapshot apply never triggers a resend loop.
// Invariant: match < next.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "tinykv/raft/raw_node.h"

namespace tinykv::raft {

class Inflights {
 public:
  Inflights(int max_msgs, uint64_t max_bytes) : max_msgs_(max_msgs), max_bytes_(max_bytes) {}
  // Records a MsgApp whose last entry is `index` carrying `bytes` payload bytes.
  void Add(uint64_t index, uint64_t bytes);
  // Frees every message whose last index is <= to.
  void FreeLE(uint64_t to);
  void FreeFirstOne();
  bool Full() const;
  int Count() const { return static_cast<int>(items_.size()); }
  void Reset();

 private:
  struct Item {
    uint64_t index;
    uint64_t bytes;
  };
  int max_msgs_;
  uint64_t max_bytes_;  // 0: unlimited
  uint64_t bytes_ = 0;
  std::deque<Item> items_;
};

struct Progress {
  Progress(uint64_t next_index, int max_msgs, uint64_t max_bytes, bool learner)
      : next(next_index), inflights(max_msgs, max_bytes), is_learner(learner) {}

  uint64_t match = 0;  // matchIndex (Figure 2)
  uint64_t next = 1;   // nextIndex (Figure 2)
  ProgressStateType state = ProgressStateType::kProbe;
  uint64_t pending_snapshot = 0;  // Snapshot state: index of the snapshot in flight
  // Heard from since the last check-quorum round; check-quorum counts these.
  bool recent_active = false;
  // Probe: a MsgApp was sent and we wait for the answer (or a heartbeat).
  bool msg_app_flow_paused = false;
  Inflights inflights;
  bool is_learner = false;

  void ResetState(ProgressStateType s);
  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(uint64_t snapshot_index);
  // Accounts a MsgApp of `entries` entries (payload `bytes`) starting at next_index.
  void UpdateOnEntriesSend(size_t entries, uint64_t bytes, uint64_t next_index);
  // A successful MsgAppResp for index n. True if match advanced.
  bool MaybeUpdate(uint64_t n);
  // A rejection of MsgApp with prevLogIndex `rejected`; match_hint is the
  // follower's hint. True if next changed (a new probe should be sent).
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);
  // Whether sending MsgApp to this peer is currently throttled.
  bool IsPaused() const;
  std::string ToString() const;
};

}  // namespace tinykv::raft
