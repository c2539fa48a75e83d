// One-phase single-key writes and the one-step write they share with kv
// writes: see txn_executor.h and actions.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn::internal {

Result<bool> CheckNoWriteAtOrAbove(ActionContext& ctx, Slice key, uint64_t commit_ts) {
  TINYKV_ASSIGN_OR_RETURN(auto newest, ctx.reader.NewestWriteAtOrAbove(key, commit_ts));
  if (!newest) return true;
  KeyError e;
  e.kind = KeyError::Kind::kWriteConflict;
  e.key = key.ToString();
  e.conflict_start_ts = newest->write.start_ts;
  e.conflict_commit_ts = newest->commit_ts;
  ctx.result.errors.push_back(std::move(e));
  return false;
}

Result<bool> CheckOneStepWrite(ActionContext& ctx, Slice key, uint64_t commit_ts) {
  TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
  if (lock) {
    ctx.result.errors.push_back(
        KeyError{KeyError::Kind::kLocked, key.ToString(), LockInfo{key.ToString(), *lock}});
    return false;
  }
  return CheckNoWriteAtOrAbove(ctx, key, commit_ts);
}

Result<std::optional<CommitRecord>> PreviousVersion(ActionContext& ctx, Slice key,
                                                    uint64_t commit_ts, Need need) {
  if (need == Need::kMetaOnly && ctx.versions != nullptr) {
    // The cached record is the key's newest; below commit_ts it is the one
    // sought (a newer one would be a write at or above commit_ts).
    std::optional<CommitRecord> newest = ctx.versions->Find(key);
    if (newest && newest->commit_ts < commit_ts) return newest;
  }
  return ctx.reader.VersionAt(key, commit_ts - 1);
}

void WriteOneStep(ActionContext& ctx, Slice key, const std::optional<Slice>& value,
                  uint64_t commit_ts, uint64_t lease, const std::optional<CommitRecord>& previous) {
  // Nothing was staged: the value goes in the record (mvcc_record.h).
  Write w{value ? WriteKind::kPut : WriteKind::kDelete, commit_ts};
  if (value) {
    w.value = value->ToString();
    w.meta = NextPutMeta(previous ? &previous->write : nullptr,
                         previous ? previous->commit_ts : 0, commit_ts, lease);
  }
  PutWriteRecord(ctx, key, commit_ts, w);
}

Status OnePhaseWrite(ActionContext& ctx, const OnePhaseWriteCmd& cmd) {
  const Mutation& m = cmd.mutation;
  const Slice key(m.key);
  TINYKV_ASSIGN_OR_RETURN(const bool ok, CheckOneStepWrite(ctx, key, cmd.commit_ts));
  if (!ok) return Status::OK();
  std::optional<Slice> value;
  if (m.kind == MutationKind::kPut) value = Slice(m.value);
  TINYKV_ASSIGN_OR_RETURN(auto previous,
                          PreviousVersion(ctx, key, cmd.commit_ts, Need::kMetaOnly));
  WriteOneStep(ctx, key, value, cmd.commit_ts, /*lease=*/0, previous);
  // A transaction names no lease: its write detaches the key (commit.cc).
  return SetAttachment(ctx, key, 0);
}

}  // namespace tinykv::txn::internal
