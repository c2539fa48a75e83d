// One-phase single-key writes and the one-step write they share with kv
// writes: see txn_executor.h and actions.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn::internal {

Result<bool> CheckNoWriteAtOrAbove(ActionContext& ctx, Slice key, uint64_t commit_ts) {
  TINYKV_ASSIGN_OR_RETURN(auto newest, ctx.reader.SeekWrite(key, kMaxTs));
  if (!newest || newest->commit_ts < commit_ts) return true;
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

void WriteOneStep(ActionContext& ctx, Slice key, const std::optional<Slice>& value,
                  uint64_t commit_ts) {
  if (value) ctx.batch.Put(Slice(DataKey(key, commit_ts)), *value);
  ctx.batch.Put(
      Slice(WriteKey(key, commit_ts)),
      Slice(EncodeWrite(Write{value ? WriteKind::kPut : WriteKind::kDelete, commit_ts})));
}

Status OnePhaseWrite(ActionContext& ctx, const OnePhaseWriteCmd& cmd) {
  const Mutation& m = cmd.mutation;
  const Slice key(m.key);
  TINYKV_ASSIGN_OR_RETURN(const bool ok, CheckOneStepWrite(ctx, key, cmd.commit_ts));
  if (!ok) return Status::OK();
  std::optional<Slice> value;
  if (m.kind == MutationKind::kPut) value = Slice(m.value);
  WriteOneStep(ctx, key, value, cmd.commit_ts);
  return Status::OK();
}

}  // namespace tinykv::txn::internal
