// Commit: see txn_executor.h.
#include <algorithm>

#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

void PutWriteRecord(ActionContext& ctx, Slice key, uint64_t ts, const Write& write) {
  ctx.batch.Put(Slice(WriteKey(key, ts)), Slice(EncodeWrite(write)));
  ctx.max_write_ts = std::max(ctx.max_write_ts, ts);
}

void CommitLockedKey(ActionContext& ctx, Slice key, const Lock& lock, uint64_t commit_ts) {
  PutWriteRecord(ctx, key, commit_ts, Write{CommittedKind(lock.kind), lock.start_ts});
  ctx.batch.Delete(Slice(LockKey(key)));
}

Status Commit(ActionContext& ctx, const CommitCmd& cmd) {
  for (const std::string& k : cmd.keys) {
    const Slice key(k);
    TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
    if (lock && lock->start_ts == cmd.start_ts) {
      CommitLockedKey(ctx, key, *lock, cmd.commit_ts);
      continue;
    }
    // No lock of ours: a retried commit finds its record; a rollback (by a
    // reader that found the lock expired) or nothing means we lost.
    TINYKV_ASSIGN_OR_RETURN(auto own, ctx.reader.GetTxnRecord(key, cmd.start_ts));
    if (own && own->write.kind != WriteKind::kRollback) continue;
    KeyError e;
    e.kind = KeyError::Kind::kTxnLockNotFound;
    e.key = k;
    e.conflict_start_ts = cmd.start_ts;
    ctx.result.errors.push_back(std::move(e));
    return Status::OK();  // the whole commit fails: nothing is written
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
