// Quorums: majority configurations and joint configurations (C_old,new).
// A decision in a joint configuration needs a majority of BOTH halves
// (dissertation §4.3). An empty majority config counts as agreeing to
// everything, so a non-joint config is a joint config with an empty half.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>

namespace tinykv::raft {

enum class VoteResult { kPending, kLost, kWon };

// Looks up the acknowledged (match) index of a voter; false if unknown.
using AckedIndexer = std::function<bool(uint64_t id, uint64_t* index)>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<uint64_t> ids) : ids_(std::move(ids)) {}

  // The largest index acknowledged by a majority (§5.3/§5.4: the commit
  // candidate). Empty config: max uint64 (a joint config then takes the other half).
  uint64_t CommittedIndex(const AckedIndexer& acked) const;
  // votes: id -> granted. Missing voters are pending.
  VoteResult Vote(const std::map<uint64_t, bool>& votes) const;

  const std::set<uint64_t>& ids() const { return ids_; }
  std::set<uint64_t>& mutable_ids() { return ids_; }
  bool empty() const { return ids_.empty(); }

 private:
  std::set<uint64_t> ids_;
};

struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;  // empty unless joint

  uint64_t CommittedIndex(const AckedIndexer& acked) const;
  VoteResult Vote(const std::map<uint64_t, bool>& votes) const;
  std::set<uint64_t> Ids() const;
};

}  // namespace tinykv::raft
