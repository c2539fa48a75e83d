// Rollback: see txn_executor.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

Status RollbackKey(ActionContext& ctx, Slice key, uint64_t start_ts,
                   const std::optional<Lock>& lock) {
  if (lock && lock->start_ts == start_ts) {
    ctx.batch.Delete(Slice(LockKey(key)));
    if (lock->kind == MutationKind::kPut) ctx.batch.Delete(Slice(DataKey(key, start_ts)));
  }
  TINYKV_ASSIGN_OR_RETURN(auto at, ctx.reader.SeekWrite(key, start_ts));
  if (at && at->commit_ts == start_ts && at->write.kind != WriteKind::kRollback)
    return Status::OK();  // another transaction's commit at this ts: keep it
  PutWriteRecord(ctx, key, start_ts, Write{WriteKind::kRollback, start_ts});
  return Status::OK();
}

Status Rollback(ActionContext& ctx, const RollbackCmd& cmd) {
  for (const std::string& k : cmd.keys) {
    const Slice key(k);
    TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
    if (!lock || lock->start_ts != cmd.start_ts) {
      TINYKV_ASSIGN_OR_RETURN(auto own, ctx.reader.GetTxnRecord(key, cmd.start_ts));
      if (own && own->write.kind == WriteKind::kRollback) continue;  // already rolled back
      if (own) {
        KeyError e;
        e.kind = KeyError::Kind::kCommitted;
        e.key = k;
        e.conflict_start_ts = cmd.start_ts;
        e.conflict_commit_ts = own->commit_ts;
        ctx.result.errors.push_back(std::move(e));
        return Status::OK();
      }
      // Nothing of ours here (maybe not yet prewritten): the rollback record
      // makes a late prewrite fail. Another transaction's lock stays.
    }
    TINYKV_RETURN_IF_ERROR(RollbackKey(ctx, key, cmd.start_ts, lock));
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
