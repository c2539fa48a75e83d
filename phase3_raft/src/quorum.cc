// Majority and joint quorums; see quorum.h.
#include "quorum.h"

#include <algorithm>
#include <vector>

namespace tinykv::raft {

uint64_t MajorityConfig::CommittedIndex(const AckedIndexer& acked) const {
  if (ids_.empty()) return std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> srt;
  srt.reserve(ids_.size());
  for (uint64_t id : ids_) {
    uint64_t idx = 0;
    if (!acked(id, &idx)) idx = 0;
    srt.push_back(idx);
  }
  std::sort(srt.begin(), srt.end());
  // With n voters sorted ascending, the (n - (n/2+1))-th is acked by a majority.
  const size_t n = srt.size();
  return srt[n - (n / 2 + 1)];
}

VoteResult MajorityConfig::Vote(const std::map<uint64_t, bool>& votes) const {
  if (ids_.empty()) return VoteResult::kWon;
  size_t yes = 0, missing = 0;
  for (uint64_t id : ids_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const size_t q = ids_.size() / 2 + 1;
  if (yes >= q) return VoteResult::kWon;
  if (yes + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

uint64_t JointConfig::CommittedIndex(const AckedIndexer& acked) const {
  return std::min(incoming.CommittedIndex(acked), outgoing.CommittedIndex(acked));
}

VoteResult JointConfig::Vote(const std::map<uint64_t, bool>& votes) const {
  const VoteResult r1 = incoming.Vote(votes);
  const VoteResult r2 = outgoing.Vote(votes);
  if (r1 == r2) return r1;
  if (r1 == VoteResult::kLost || r2 == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;  // one won, the other pending
}

std::set<uint64_t> JointConfig::Ids() const {
  std::set<uint64_t> ids = incoming.ids();
  ids.insert(outgoing.ids().begin(), outgoing.ids().end());
  return ids;
}

}  // namespace tinykv::raft
