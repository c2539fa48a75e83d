// Check-txn-status: see txn_executor.h.
#include "actions.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn::internal {

Status CheckTxnStatus(ActionContext& ctx, const CheckTxnStatusCmd& cmd) {
  const Slice primary(cmd.primary);
  TxnCommandResult& r = ctx.result;
  TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(primary));
  if (lock && lock->start_ts == cmd.lock_ts) {
    // TTL on the physical clock: ms since the lock's start_ts was handed out.
    const uint64_t expires_ms = PhysicalMs(lock->start_ts) + lock->ttl_ms;
    const uint64_t now_ms = PhysicalMs(cmd.current_ts);
    if (now_ms < expires_ms) {
      r.txn_status = TxnStatus::kLocked;
      r.ttl_left_ms = expires_ms - now_ms;
      return Status::OK();
    }
    TINYKV_RETURN_IF_ERROR(RollbackKey(ctx, primary, cmd.lock_ts, lock));
    r.txn_status = TxnStatus::kRolledBack;
    r.rolled_back_now = true;
    return Status::OK();
  }
  TINYKV_ASSIGN_OR_RETURN(auto own, ctx.reader.GetTxnRecord(primary, cmd.lock_ts));
  if (own && own->write.kind != WriteKind::kRollback) {
    r.txn_status = TxnStatus::kCommitted;
    r.commit_ts = own->commit_ts;
    return Status::OK();
  }
  r.txn_status = TxnStatus::kRolledBack;
  if (own) return Status::OK();
  // Neither lock nor record: the prewrite has not arrived (or never will).
  // Rolling back now makes sure it cannot succeed later.
  TINYKV_RETURN_IF_ERROR(RollbackKey(ctx, primary, cmd.lock_ts, lock));
  r.rolled_back_now = true;
  return Status::OK();
}

}  // namespace tinykv::txn::internal
