// Changer: computes the configuration (and Progress map) that results from a
// membership change, without touching the live tracker (etcd confchange/).
//
// Three operations (dissertation ch. 4):
//   Simple      at most one voter changes ("one server at a time", §4.1); learners freely;
//   EnterJoint  C_old -> C_old,new: the outgoing half is the old voter set (§4.3);
//   LeaveJoint  C_old,new -> C_new.
// Every result passes CheckInvariants (learners disjoint from voters, etc.).
#pragma once

#include <utility>
#include <vector>

#include "tinykv/common/result.h"
#include "tracker.h"

namespace tinykv::raft {

struct ConfigAndProgress {
  TrackerConfig config;
  ProgressMap progress;
};

class Changer {
 public:
  Changer(const ProgressTracker& tracker, uint64_t last_index)
      : tracker_(tracker), last_index_(last_index) {}

  Result<ConfigAndProgress> EnterJoint(bool auto_leave,
                                       const std::vector<ConfChangeSingle>& ccs) const;
  Result<ConfigAndProgress> LeaveJoint() const;
  Result<ConfigAndProgress> Simple(const std::vector<ConfChangeSingle>& ccs) const;

  // Builds the configuration described by a ConfState (boot, restart, snapshot).
  static Result<ConfigAndProgress> Restore(const ProgressTracker& tracker, uint64_t last_index,
                                           const ConfState& cs);

 private:
  Status Apply(ConfigAndProgress* c, const std::vector<ConfChangeSingle>& ccs) const;
  void MakeVoter(ConfigAndProgress* c, uint64_t id) const;
  void MakeLearner(ConfigAndProgress* c, uint64_t id) const;
  void Remove(ConfigAndProgress* c, uint64_t id) const;
  void InitProgress(ConfigAndProgress* c, uint64_t id, bool learner) const;
  static Status CheckInvariants(const ConfigAndProgress& c);

  const ProgressTracker& tracker_;
  uint64_t last_index_;
};

}  // namespace tinykv::raft
