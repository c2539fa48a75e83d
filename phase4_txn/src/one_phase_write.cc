// One-phase single-key writes: see txn_executor.h.
#include "actions.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn::internal {

Status OnePhaseWrite(ActionContext& ctx, const OnePhaseWriteCmd& cmd) {
  const Mutation& m = cmd.mutation;
  const Slice key(m.key);
  TINYKV_ASSIGN_OR_RETURN(auto lock, ctx.reader.GetLock(key));
  if (lock) {
    ctx.result.errors.push_back(KeyError{KeyError::Kind::kLocked, m.key, LockInfo{m.key, *lock}});
    return Status::OK();
  }
  // Versions stay in commit order: nothing may commit under an existing one.
  TINYKV_ASSIGN_OR_RETURN(auto newest, ctx.reader.SeekWrite(key, kMaxTs));
  if (newest && newest->commit_ts >= cmd.commit_ts) {
    KeyError e;
    e.kind = KeyError::Kind::kWriteConflict;
    e.key = m.key;
    e.conflict_start_ts = newest->write.start_ts;
    e.conflict_commit_ts = newest->commit_ts;
    ctx.result.errors.push_back(std::move(e));
    return Status::OK();
  }
  const bool put = m.kind == MutationKind::kPut;
  if (put) ctx.batch.Put(Slice(DataKey(key, cmd.commit_ts)), Slice(m.value));
  ctx.batch.Put(
      Slice(WriteKey(key, cmd.commit_ts)),
      Slice(EncodeWrite(Write{put ? WriteKind::kPut : WriteKind::kDelete, cmd.commit_ts})));
  return Status::OK();
}

}  // namespace tinykv::txn::internal
