// LockIndex: see lock_index.h.
#include "tinykv/txn/lock_index.h"

#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {

void LockIndex::Reset(const std::vector<LockInfo>& locks) {
  std::lock_guard<std::mutex> l(mu_);
  by_key_.clear();
  by_start_.clear();
  for (const LockInfo& info : locks) PutLocked(info.key, info.lock.start_ts);
}

void LockIndex::Apply(const std::vector<LockChange>& changes) {
  if (changes.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const LockChange& c : changes) {
    if (c.start_ts) {
      PutLocked(c.key, *c.start_ts);
    } else {
      RemoveLocked(c.key);
    }
  }
}

void LockIndex::PutLocked(const std::string& key, uint64_t start_ts) {
  auto [it, inserted] = by_key_.emplace(key, start_ts);
  if (!inserted) {
    // A lock rewritten in place (a heartbeat extends its TTL): same or new start_ts.
    by_start_.erase({it->second, key});
    it->second = start_ts;
  }
  by_start_.emplace(start_ts, key);
}

void LockIndex::RemoveLocked(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return;  // a delete of an absent lock (rollback of nothing)
  by_start_.erase({it->second, key});
  by_key_.erase(it);
}

uint64_t LockIndex::MinStartTs() const {
  std::lock_guard<std::mutex> l(mu_);
  return by_start_.empty() ? kMaxTs : by_start_.begin()->first;
}

std::optional<std::string> LockIndex::MinKey() const {
  std::lock_guard<std::mutex> l(mu_);
  if (by_start_.empty()) return std::nullopt;
  return by_start_.begin()->second;
}

size_t LockIndex::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return by_key_.size();
}

}  // namespace tinykv::txn
