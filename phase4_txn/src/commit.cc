// Commit: see txn_executor.h.
#include <algorithm>

#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

void PutWriteRecord(ActionContext& ctx, Slice key, uint64_t ts, const Write& write) {
  ctx.batch.Put(Slice(WriteKey(key, ts)), Slice(EncodeWrite(write)));
  ctx.max_write_ts = std::max(ctx.max_write_ts, ts);
}

Status CommitLockedKey(ActionContext& ctx, Slice key, const Lock& lock, uint64_t commit_ts) {
  Write w{CommittedKind(lock.kind), lock.start_ts};
  if (w.kind == WriteKind::kPut) {
    TINYKV_ASSIGN_OR_RETURN(auto previous, PreviousVersion(ctx, key, commit_ts, Need::kMetaOnly));
    w.meta = NextPutMeta(previous ? &previous->write : nullptr,
                         previous ? previous->commit_ts : 0, commit_ts, /*lease=*/0);
  }
  PutWriteRecord(ctx, key, commit_ts, w);
  ctx.batch.Delete(Slice(LockKey(key)));
  if (w.kind == WriteKind::kPut || w.kind == WriteKind::kDelete)
    return SetAttachment(ctx, key, 0);
  return Status::OK();
}

Status Commit(ActionContext& ctx, const CommitCmd& cmd) {
  for (const std::string& k : cmd.keys) {
    const Slice key(k);
    TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
    if (lock && lock->start_ts == cmd.start_ts) {
      TINYKV_RETURN_IF_ERROR(CommitLockedKey(ctx, key, *lock, cmd.commit_ts));
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
