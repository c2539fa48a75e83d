// ProgressTracker: the current membership configuration, the Progress of
// every member and the votes of the current election (etcd tracker/tracker.go).
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "progress.h"
#include "quorum.h"
#include "tinykv/raft/message.h"

namespace tinykv::raft {

struct TrackerConfig {
  JointConfig voters;
  bool auto_leave = false;  // leave the joint config automatically once applied
  std::set<uint64_t> learners;
  // Voters of the outgoing config that become learners when the joint config
  // is left (a node cannot be voter and learner at once in one half).
  std::set<uint64_t> learners_next;

  bool joint() const { return !voters.outgoing.empty(); }
};

using ProgressMap = std::map<uint64_t, Progress>;

class ProgressTracker {
 public:
  ProgressTracker(int max_inflight_msgs, uint64_t max_inflight_bytes)
      : max_inflight_msgs_(max_inflight_msgs), max_inflight_bytes_(max_inflight_bytes) {}

  ConfState GetConfState() const;
  // A single voter and it is us: commit without anybody else.
  bool IsSingleton() const {
    return config.voters.incoming.ids().size() == 1 && config.voters.outgoing.empty();
  }
  // The largest index replicated on a quorum of voters (by match).
  uint64_t Committed() const;
  // Check-quorum: whether a quorum of voters was recently active.
  bool QuorumActive() const;
  std::set<uint64_t> VoterIds() const { return config.voters.Ids(); }
  bool IsVoter(uint64_t id) const;

  void ResetVotes() { votes.clear(); }
  void RecordVote(uint64_t id, bool granted) { votes.emplace(id, granted); }
  // Counts granted and rejected votes and the election's outcome.
  VoteResult TallyVotes(int* granted, int* rejected) const;

  Progress NewProgress(uint64_t next, bool learner) const {
    return Progress(next, max_inflight_msgs_, max_inflight_bytes_, learner);
  }

  TrackerConfig config;
  ProgressMap progress;
  std::map<uint64_t, bool> votes;

 private:
  int max_inflight_msgs_;
  uint64_t max_inflight_bytes_;
};

}  // namespace tinykv::raft
