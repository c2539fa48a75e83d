// Lock resolution: see lock_resolution.h.
#include "tinykv/txn/lock_resolution.h"

#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {

CheckTxnStatusCmd CheckStatusOf(const LockInfo& lock, uint64_t current_ts) {
  return CheckTxnStatusCmd{lock.lock.primary, lock.lock.start_ts, current_ts};
}

std::optional<ResolveLockCmd> ResolutionOf(const LockInfo& lock, const TxnCommandResult& status) {
  if (status.txn_status == TxnStatus::kLocked) return std::nullopt;
  const uint64_t commit_ts = status.txn_status == TxnStatus::kCommitted ? status.commit_ts : 0;
  return ResolveLockCmd{lock.lock.start_ts, commit_ts, {lock.key}};
}

bool LockTtlPassed(const Lock& lock, uint64_t current_ts) {
  return PhysicalMs(lock.start_ts) + lock.ttl_ms < PhysicalMs(current_ts);
}

}  // namespace tinykv::txn
