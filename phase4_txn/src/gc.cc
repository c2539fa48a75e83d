// GC: see txn_executor.h.
#include "actions.h"
#include "tinykv/common/coding.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/txn_executor.h"

namespace tinykv::txn::internal {

// A read at any ts >= safe_point sees, of the versions at or below the safe
// point, only the newest put or delete. So per key, newest first: keep
// everything above the safe point; at or below it keep the first put (and
// its data record, if it has one), drop the first delete (nothing older
// survives it), and drop every rollback and lock record and every older
// version with its data.
Status Gc(ActionContext& ctx, const GcCmd& cmd) {
  // The highest safe point applied is kept: a watch from at or below it
  // cannot replay (kGcSafePointKey).
  TINYKV_ASSIGN_OR_RETURN(uint64_t applied, ReadGcSafePoint(ctx.reader));
  if (cmd.safe_point > applied) {
    std::string v;
    PutFixed64(&v, cmd.safe_point);
    ctx.batch.Put(Slice(kGcSafePointKey), Slice(v));
  }
  TINYKV_ASSIGN_OR_RETURN(auto keys, ctx.reader.KeysWithWrites());
  for (const std::string& k : keys) {
    const Slice key(k);
    TINYKV_ASSIGN_OR_RETURN(auto writes, ctx.reader.AllWrites(key));
    bool newest_found = false;  // the newest put/delete at or below the safe point
    for (const CommitRecord& w : writes) {
      if (w.commit_ts > cmd.safe_point) continue;
      const bool has_value = w.write.kind == WriteKind::kPut;
      const bool is_version = has_value || w.write.kind == WriteKind::kDelete;
      if (!newest_found && is_version) {
        newest_found = true;
        if (has_value) continue;  // the version reads at the safe point see: kept
      }
      ctx.batch.Delete(Slice(WriteKey(key, w.commit_ts)));
      if (has_value && !w.write.value) ctx.batch.Delete(Slice(DataKey(key, w.write.start_ts)));
      ++ctx.result.count;
    }
  }
  return Status::OK();
}

}  // namespace tinykv::txn::internal
