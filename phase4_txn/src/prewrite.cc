// Prewrite: see txn_executor.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

Status Prewrite(ActionContext& ctx, const PrewriteCmd& cmd) {
  for (const Mutation& m : cmd.mutations) {
    const Slice key(m.key);
    TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
    if (lock) {
      if (lock->start_ts == cmd.start_ts) continue;  // a retried prewrite: already done
      ctx.result.errors.push_back(KeyError{KeyError::Kind::kLocked, m.key, LockInfo{m.key, *lock}});
      continue;
    }
    // Percolator: a write at or after start_ts means another transaction
    // committed over our snapshot (>=: a record at exactly start_ts is a
    // rollback of ours, or a commit we cannot order against).
    TINYKV_ASSIGN_OR_RETURN(auto newest, ctx.reader.NewestWriteAtOrAbove(key, cmd.start_ts));
    if (newest) {
      TINYKV_ASSIGN_OR_RETURN(auto own, ctx.reader.GetTxnRecord(key, cmd.start_ts));
      if (own && own->write.kind != WriteKind::kRollback) continue;  // committed: done
      KeyError e;
      e.key = m.key;
      if (own) {
        e.kind = KeyError::Kind::kRolledBack;
        e.conflict_start_ts = cmd.start_ts;
        e.conflict_commit_ts = own->commit_ts;
      } else {
        e.kind = KeyError::Kind::kWriteConflict;
        e.conflict_start_ts = newest->write.start_ts;
        e.conflict_commit_ts = newest->commit_ts;
      }
      ctx.result.errors.push_back(std::move(e));
      continue;
    }
    Lock l{m.kind, cmd.start_ts, cmd.ttl_ms, cmd.primary};
    ctx.batch.Put(Slice(LockKey(key)), Slice(EncodeLock(l)));
    if (m.kind == MutationKind::kPut)
      ctx.batch.Put(Slice(DataKey(key, cmd.start_ts)), Slice(m.value));
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
