// InvariantChecker: Raft's safety properties (Figure 3 of the paper), checked
// by the simulator after every tick (LogCabin's RaftConsensusInvariants,
// TigerBeetle's VOPR checkers):
//   Election Safety      at most one leader per term;
//   Log Matching         two logs with an entry of equal index and term are
//                        identical up to it (checked on the last kWindow
//                        indexes of every pair of live logs);
//   Leader Completeness  an entry committed in term t is in the log of every
//                        leader of a term > t;
//   State Machine Safety no two nodes apply different entries at one index.
// Violations are recorded as strings starting with "seed=<seed>".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tinykv/raft/message.h"

namespace tinykv::raft::sim {

class SimCluster;

class InvariantChecker {
 public:
  static constexpr uint64_t kWindow = 256;

  explicit InvariantChecker(uint64_t seed) : seed_(seed) {}

  void OnApply(uint64_t node, const Entry& e, uint64_t now);
  void Check(SimCluster& c);
  // The term of the entry applied at index (by anyone), or 0.
  uint64_t AppliedTerm(uint64_t index) const;

  std::vector<std::string> violations;

 private:
  void Violation(uint64_t now, const std::string& what);

  struct Applied {
    uint64_t term;
    EntryType type;
    std::string data;
  };
  struct Committed {
    uint64_t term;         // the entry's term
    uint64_t commit_term;  // term of a leader that had it committed
  };
  uint64_t seed_;
  std::map<uint64_t, Applied> applied_;
  std::map<uint64_t, uint64_t> leader_of_term_;
  std::map<uint64_t, Committed> committed_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> recorded_upto_;  // (node, term) -> index
};

}  // namespace tinykv::raft::sim
