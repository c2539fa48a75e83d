// ExecuteTxnCommand: see txn_executor.h.
#include "tinykv/txn/txn_executor.h"

#include <algorithm>
#include <type_traits>

#include "actions.h"
#include "tinykv/common/coding.h"
#include "tinykv/txn/mvcc_key.h"

namespace tinykv::txn {

std::string KvClientKey(uint64_t client_id) {
  std::string k = "mclient";
  PutBigEndian64(&k, client_id);
  return k;
}

Result<uint64_t> ReadTsoReserved(storage::DB* db) {
  auto r = db->Get(storage::ReadOptions{}, Slice(kTsoReservedKey));
  if (r.status().IsNotFound()) return uint64_t{0};
  if (!r.ok()) return r.status();
  Slice in(*r);
  uint64_t v = 0;
  if (!GetFixed64(&in, &v) || !in.empty()) return Status::Corruption("mvcc: bad tso record");
  return v;
}

Result<uint64_t> ReadGcSafePoint(MvccReader& reader) {
  TINYKV_ASSIGN_OR_RETURN(std::optional<std::string> r, reader.GetMeta(Slice(kGcSafePointKey)));
  if (!r) return uint64_t{0};
  Slice in(*r);
  uint64_t v = 0;
  if (!GetFixed64(&in, &v) || !in.empty()) return Status::Corruption("mvcc: bad gc safe point");
  return v;
}

Result<TxnCommandResult> ExecuteTxnCommand(storage::DB* db, const TxnCommand& cmd, uint64_t term,
                                           storage::WriteBatch* batch) {
  MvccReader reader(db);
  return ExecuteTxnCommand(reader, db, cmd, term, batch);
}

Result<TxnCommandResult> ExecuteTxnCommand(MvccReader& reader, storage::DB* db,
                                           const TxnCommand& cmd, uint64_t term,
                                           storage::WriteBatch* batch, uint64_t* max_write_ts,
                                           bool leases_may_exist, const VersionCache* versions) {
  TxnCommandResult result;
  storage::WriteBatch local;
  internal::ActionContext ctx{reader, local, result};
  ctx.leases_may_exist = leases_may_exist;
  ctx.versions = versions;
  TINYKV_RETURN_IF_ERROR(std::visit(
      [&](const auto& c) -> Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, PrewriteCmd>) return internal::Prewrite(ctx, c);
        if constexpr (std::is_same_v<T, CommitCmd>) return internal::Commit(ctx, c);
        if constexpr (std::is_same_v<T, RollbackCmd>) return internal::Rollback(ctx, c);
        if constexpr (std::is_same_v<T, CheckTxnStatusCmd>) return internal::CheckTxnStatus(ctx, c);
        if constexpr (std::is_same_v<T, ResolveLockCmd>) return internal::ResolveLock(ctx, c);
        if constexpr (std::is_same_v<T, GcCmd>) return internal::Gc(ctx, c);
        if constexpr (std::is_same_v<T, OnePhaseWriteCmd>) return internal::OnePhaseWrite(ctx, c);
        if constexpr (std::is_same_v<T, HeartbeatCmd>) return internal::Heartbeat(ctx, c);
        if constexpr (std::is_same_v<T, KvWriteCmd>) return internal::KvWrite(ctx, c);
        if constexpr (std::is_same_v<T, LeaseGrantCmd>) return internal::LeaseGrant(ctx, c);
        if constexpr (std::is_same_v<T, LeaseRevokeCmd>) return internal::LeaseRevoke(ctx, c);
        if constexpr (std::is_same_v<T, ReserveTsCmd>) {
          TINYKV_ASSIGN_OR_RETURN(result.prev_reserved, ReadTsoReserved(db));
          result.reserved = std::max(result.prev_reserved, c.upto);
          result.term = term;
          std::string v;
          PutFixed64(&v, result.reserved);
          local.Put(Slice(kTsoReservedKey), Slice(v));
          return Status::OK();
        }
      },
      cmd));
  if (result.errors.empty()) {
    batch->Append(local);
    if (max_write_ts != nullptr) *max_write_ts = std::max(*max_write_ts, ctx.max_write_ts);
  }
  return result;
}

}  // namespace tinykv::txn
