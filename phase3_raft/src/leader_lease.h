// LeaderLease: when a leader may answer a linearizable read from its own
// commit index, without a heartbeat round (dissertation §6.4.1; TiKV's
// lease reads).
//
// The argument. A follower that accepts a message from the leader at time r
// refuses to vote for anyone else until r + election timeout on its own
// clock (check-quorum's "lease check on votes", step_check.cc), and a
// candidate needs a quorum of votes. So once a quorum acknowledged messages
// the leader sent at or after tick t, no other leader can exist before
// t + election timeout -- measured on the followers' clocks. The lease ends
// `duration` ticks after t, with duration < election timeout: the margin is
// what the clocks may drift apart (in rate) over one election timeout.
//
// What counts as "acknowledged a message sent at or after t":
//   * an AppendEntries answer for an entry of this term, which the leader
//     appended -- hence first sent -- at tick t or later (OnAppend records
//     the tick of each appended run; OnAppendAck looks it up);
//   * an answer to a heartbeat round of a ReadIndex request made at tick t
//     (OnAck).
// Ticks are stored +1 so that 0 means "nothing acknowledged".
//
// A leadership transfer breaks the argument (the target campaigns with a
// flag that voters honour despite their lease), so Suspend makes every
// acknowledgement of a message sent before a later tick worthless.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <utility>

#include "quorum.h"

namespace tinykv::raft {

class LeaderLease {
 public:
  explicit LeaderLease(uint64_t duration_ticks) : duration_(duration_ticks) {}

  // Became leader at tick `now`; this term's entries start at `first_index`.
  void Reset(uint64_t now, uint64_t first_index);
  // Not (or no longer) leader.
  void Clear();
  // The leader appended entries starting at `first_index` at tick `now`.
  void OnAppend(uint64_t first_index, uint64_t now);
  // `from` answered that it holds this leader's log up to `index`.
  void OnAppendAck(uint64_t from, uint64_t index);
  // `from` answered a message the leader sent at tick `sent` or later.
  void OnAck(uint64_t from, uint64_t sent);
  // Nothing sent before tick `until` counts any more (leadership transfer).
  void Suspend(uint64_t until);
  // Whether, at tick `now`, a quorum of `voters` (the leader `self` counting
  // as acknowledging now) acknowledged messages sent within the lease.
  bool Valid(const JointConfig& voters, uint64_t self, uint64_t now) const;

 private:
  static constexpr size_t kMaxRuns = 4096;  // appended runs remembered (ticks with appends)

  const uint64_t duration_;
  uint64_t first_index_ = 0;  // 0: not leader
  uint64_t floor_ = 0;        // acknowledgements of messages sent before this tick do not count
  std::deque<std::pair<uint64_t, uint64_t>> runs_;  // (first index appended at a tick, tick)
  std::map<uint64_t, uint64_t> acked_;              // voter -> latest send tick acknowledged, +1
};

}  // namespace tinykv::raft
