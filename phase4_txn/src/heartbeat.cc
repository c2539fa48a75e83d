// Heartbeat: see txn_executor.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

Status Heartbeat(ActionContext& ctx, const HeartbeatCmd& cmd) {
  const Slice primary(cmd.primary);
  TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(primary));
  if (!lock || lock->start_ts != cmd.start_ts) {
    // Committed, rolled back (by a reader that found it expired) or never
    // prewritten: nothing to keep alive.
    KeyError e;
    e.kind = KeyError::Kind::kTxnLockNotFound;
    e.key = cmd.primary;
    e.conflict_start_ts = cmd.start_ts;
    ctx.result.errors.push_back(std::move(e));
    return Status::OK();
  }
  // Never shortens: a late heartbeat with a smaller TTL must not make a
  // lock that a newer one extended expire early.
  if (cmd.ttl_ms > lock->ttl_ms) {
    lock->ttl_ms = cmd.ttl_ms;
    ctx.batch.Put(Slice(LockKey(primary)), Slice(EncodeLock(*lock)));
  }
  ctx.result.ttl_left_ms = lock->ttl_ms;
  return Status::OK();
}

}  // namespace tinykv::txn::internal
