// LockIndex: the start_ts of every live lock, by user key, in memory --
// what a watch's resolved timestamp needs (watch_hub.h): a transaction
// that holds a lock with start_ts s may still commit at any commit_ts > s,
// so nothing at or above the smallest live start_ts is final.
//
// The MVCC state machine keeps it: every engine write applies its lock
// changes (batch_changes.h) after the write, and opening or replacing the
// engine (open, snapshot install, reopen) rebuilds it from the lock
// family. So between two applies it holds exactly the engine's locks.
//
// Thread safety: every method from any thread (one mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tinykv/txn/batch_changes.h"
#include "tinykv/txn/key_error.h"

namespace tinykv::txn {

class LockIndex {
 public:
  // Replaces the contents with `locks` (one per key).
  void Reset(const std::vector<LockInfo>& locks);
  // Applies one write's changes, in order.
  void Apply(const std::vector<LockChange>& changes);
  // The smallest start_ts of a live lock; kMaxTs (timestamp.h) when none.
  uint64_t MinStartTs() const;
  // A key holding a lock with that smallest start_ts (nullopt: no lock).
  std::optional<std::string> MinKey() const;
  size_t size() const;

 private:
  // REQUIRES: mu_ held.
  void PutLocked(const std::string& key, uint64_t start_ts);
  void RemoveLocked(const std::string& key);

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> by_key_;                // key -> its lock's start_ts
  std::set<std::pair<uint64_t, std::string>> by_start_;   // by_key_, inverted
};

}  // namespace tinykv::txn
