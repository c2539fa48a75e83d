// SimNetwork; see sim_network.h.
#include "tinykv/raft/sim_network.h"

#include <algorithm>

namespace tinykv::raft::sim {

bool SimNetwork::Connected(uint64_t a, uint64_t b) const {
  if (a == b) return true;
  if (cut_.count({std::min(a, b), std::max(a, b)}) > 0) return false;
  if (!partitioned_) return true;
  auto ia = group_.find(a);
  auto ib = group_.find(b);
  // A node in no group is alone.
  if (ia == group_.end() || ib == group_.end()) return false;
  return ia->second == ib->second;
}

void SimNetwork::Enqueue(Message m, uint64_t now) {
  uint64_t delay = faults_.delay_lo;
  if (faults_.delay_hi > faults_.delay_lo)
    delay = rnd_->Range(faults_.delay_lo, faults_.delay_hi + 1);
  queue_.emplace(Key{now + delay, seq_++}, std::move(m));
}

void SimNetwork::Send(Message m, uint64_t now) {
  if (!Connected(m.from, m.to) || (faults_.drop > 0 && rnd_->Bernoulli(faults_.drop))) {
    if (on_drop) on_drop(m);
    return;
  }
  if (faults_.duplicate > 0 && rnd_->Bernoulli(faults_.duplicate)) Enqueue(m, now);
  Enqueue(std::move(m), now);
}

bool SimNetwork::HasDue(uint64_t now) const {
  return !queue_.empty() && queue_.begin()->first.due <= now;
}

std::vector<Message> SimNetwork::PopDue(uint64_t now) {
  std::vector<Message> out;
  while (!queue_.empty() && queue_.begin()->first.due <= now) {
    Message m = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (!Connected(m.from, m.to)) {
      if (on_drop) on_drop(m);
      continue;
    }
    out.push_back(std::move(m));
  }
  if (faults_.reorder && out.size() > 1) {
    for (size_t i = out.size() - 1; i > 0; --i) std::swap(out[i], out[rnd_->Uniform(i + 1)]);
  }
  return out;
}

void SimNetwork::Partition(const std::vector<std::vector<uint64_t>>& groups) {
  partitioned_ = true;
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (uint64_t id : groups[g]) group_[id] = static_cast<int>(g);
  }
}

void SimNetwork::Heal() {
  partitioned_ = false;
  group_.clear();
  cut_.clear();
}

void SimNetwork::Cut(uint64_t a, uint64_t b) { cut_.insert({std::min(a, b), std::max(a, b)}); }

void SimNetwork::Restore(uint64_t a, uint64_t b) { cut_.erase({std::min(a, b), std::max(a, b)}); }

void SimNetwork::DropTo(uint64_t id) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->second.to == id) {
      if (on_drop) on_drop(it->second);
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace tinykv::raft::sim
