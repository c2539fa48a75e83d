// Resolve-lock: see txn_executor.h.
#include "actions.h"

namespace tinykv::txn::internal {

Status ResolveLock(ActionContext& ctx, const ResolveLockCmd& cmd) {
  std::vector<LockInfo> locks;
  if (cmd.keys.empty()) {
    TINYKV_ASSIGN_OR_RETURN(auto all, ctx.reader.AllLocks());
    for (auto& l : all)
      if (l.lock.start_ts == cmd.start_ts) locks.push_back(std::move(l));
  } else {
    for (const std::string& k : cmd.keys) {
      TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(Slice(k)));
      // A key without this transaction's lock is resolved already.
      if (lock && lock->start_ts == cmd.start_ts) locks.push_back(LockInfo{k, *lock});
    }
  }
  for (const LockInfo& l : locks) {
    if (cmd.commit_ts != 0) {
      TINYKV_RETURN_IF_ERROR(CommitLockedKey(ctx, Slice(l.key), l.lock, cmd.commit_ts));
    } else {
      TINYKV_RETURN_IF_ERROR(RollbackKey(ctx, Slice(l.key), cmd.start_ts, l.lock));
    }
    ++ctx.result.count;
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
