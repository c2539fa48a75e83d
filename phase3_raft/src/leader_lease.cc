// LeaderLease; see leader_lease.h.
#include "leader_lease.h"

#include <algorithm>
#include <limits>

namespace tinykv::raft {

void LeaderLease::Reset(uint64_t now, uint64_t first_index) {
  Clear();
  first_index_ = first_index;
  floor_ = now;
}

void LeaderLease::Clear() {
  first_index_ = 0;
  floor_ = 0;
  runs_.clear();
  acked_.clear();
}

void LeaderLease::OnAppend(uint64_t first_index, uint64_t now) {
  if (first_index_ == 0) return;
  if (!runs_.empty() && runs_.back().second == now) return;  // same tick: the earlier run covers it
  runs_.emplace_back(first_index, now);
  if (runs_.size() > kMaxRuns) runs_.pop_front();
}

void LeaderLease::OnAppendAck(uint64_t from, uint64_t index) {
  if (first_index_ == 0 || index < first_index_ || runs_.empty() || index < runs_.front().first) {
    return;  // an entry of an earlier term, or of a run forgotten: no bound on its send time
  }
  // The last run starting at or before `index`: entry `index` was appended
  // (so first sent) at that run's tick or later.
  auto it = std::upper_bound(runs_.begin(), runs_.end(), index,
                             [](uint64_t i, const auto& run) { return i < run.first; });
  OnAck(from, std::prev(it)->second);
}

void LeaderLease::OnAck(uint64_t from, uint64_t sent) {
  if (first_index_ == 0) return;
  uint64_t& a = acked_[from];
  a = std::max(a, sent + 1);
}

void LeaderLease::Suspend(uint64_t until) {
  floor_ = std::max(floor_, until);
}

bool LeaderLease::Valid(const JointConfig& voters, uint64_t self, uint64_t now) const {
  if (first_index_ == 0 || duration_ == 0) return false;
  const uint64_t q = voters.CommittedIndex([&](uint64_t id, uint64_t* tick) {
    if (id == self) {
      *tick = now + 1;
      return true;
    }
    auto it = acked_.find(id);
    if (it == acked_.end()) return false;
    *tick = it->second;
    return true;
  });
  if (q == 0 || q == std::numeric_limits<uint64_t>::max()) return false;
  const uint64_t sent = q - 1;
  return sent >= floor_ && now < sent + duration_;
}

}  // namespace tinykv::raft
