// KeyErrorToString: see key_error.h.
#include "tinykv/txn/key_error.h"

namespace tinykv::txn {

std::string KeyErrorToString(const KeyError& e) {
  const std::string key = " key=" + e.key;
  switch (e.kind) {
    case KeyError::Kind::kLocked:
      return "locked" + key + " primary=" + e.lock.lock.primary +
             " start_ts=" + std::to_string(e.lock.lock.start_ts) +
             " ttl_ms=" + std::to_string(e.lock.lock.ttl_ms);
    case KeyError::Kind::kWriteConflict:
      return "write conflict" + key + " start_ts=" + std::to_string(e.conflict_start_ts) +
             " commit_ts=" + std::to_string(e.conflict_commit_ts);
    case KeyError::Kind::kTxnLockNotFound:
      return "txn lock not found" + key + " start_ts=" + std::to_string(e.conflict_start_ts);
    case KeyError::Kind::kCommitted:
      return "committed" + key + " commit_ts=" + std::to_string(e.conflict_commit_ts);
    case KeyError::Kind::kRolledBack:
      return "rolled back" + key + " start_ts=" + std::to_string(e.conflict_start_ts);
  }
  return "unknown key error" + key;
}

}  // namespace tinykv::txn
