// The transaction actions behind ExecuteTxnCommand (txn_executor.h), one
// file each: prewrite.cc, commit.cc, rollback.cc, check_txn_status.cc,
// resolve_lock.cc, gc.cc, one_phase_write.cc, heartbeat.cc, kv_write.cc,
// lease.cc;
// txn_executor.cc dispatches
// and implements reserve-ts. Every action reads through `reader` (the
// engine as of the command) and adds its writes to `batch`; KeyErrors go
// to `result->errors`, and the executor drops the batch when there are any.
//
// Keys within one command are distinct (ValidateTxnCommand), so no action
// needs to see its own earlier writes.
#pragma once

#include <cstdint>
#include <optional>

#include "tinykv/storage/write_batch.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/txn_command.h"
#include "tinykv/txn/version_cache.h"

namespace tinykv::txn::internal {

struct ActionContext {
  MvccReader& reader;
  storage::WriteBatch& batch;
  TxnCommandResult& result;
  // The largest ts of a write record added to `batch` (PutWriteRecord).
  uint64_t max_write_ts = 0;
  // False when the state machine knows no lease exists: the lease steps of
  // kv writes then skip their lookups (lease.cc).
  bool leases_may_exist = true;
  // The key and value bytes in result.prev_kvs so far (AddPrevKv).
  size_t prev_kv_bytes = 0;
  // The newest versions of recently written keys, as of the reader's
  // state (version_cache.h); nullptr: every lookup reads the engine.
  const VersionCache* versions = nullptr;
};

Status Prewrite(ActionContext& ctx, const PrewriteCmd& cmd);
Status Commit(ActionContext& ctx, const CommitCmd& cmd);
Status Rollback(ActionContext& ctx, const RollbackCmd& cmd);
Status CheckTxnStatus(ActionContext& ctx, const CheckTxnStatusCmd& cmd);
Status ResolveLock(ActionContext& ctx, const ResolveLockCmd& cmd);
Status Gc(ActionContext& ctx, const GcCmd& cmd);
Status OnePhaseWrite(ActionContext& ctx, const OnePhaseWriteCmd& cmd);
Status Heartbeat(ActionContext& ctx, const HeartbeatCmd& cmd);
Status KvWrite(ActionContext& ctx, const KvWriteCmd& cmd);
Status LeaseGrant(ActionContext& ctx, const LeaseGrantCmd& cmd);
Status LeaseRevoke(ActionContext& ctx, const LeaseRevokeCmd& cmd);

// Shared steps.
// Every write record goes into the batch through here (the state machine
// keeps a bound on their timestamps: MvccReader's write_ts_bound).
void PutWriteRecord(ActionContext& ctx, Slice key, uint64_t ts, const Write& write);
// REQUIRES: `lock` is the lock on `key`. Its write record at commit_ts, lock
// gone; a put's record carries the key's metadata (continued from its
// version below commit_ts), and a put or delete detaches the key from any
// lease (a transaction names none, as a plain put without --lease).
Status CommitLockedKey(ActionContext& ctx, Slice key, const Lock& lock, uint64_t commit_ts);
// Rolls transaction start_ts back on `key`: removes its lock (`lock`, if it
// is the key's lock and belongs to start_ts) and staged value, and writes
// the rollback record at start_ts -- unless a commit record of another
// transaction sits at exactly that ts (timestamps are unique, so only a
// one-phase write that reused a timestamp could put one there; it is kept,
// and it refuses a late prewrite as a write conflict all the same).
Status RollbackKey(ActionContext& ctx, Slice key, uint64_t start_ts,
                   const std::optional<Lock>& lock);

// A write committed in one step at commit_ts (one-phase and kv writes;
// start_ts = commit_ts, no lock ever exists). Its checks on `key`: a lock
// of any transaction -> kLocked; a write record of any kind at or above
// commit_ts -> kWriteConflict (versions stay in commit order: nothing may
// commit under an existing one). Answers whether `key` may be written; if
// not, the KeyError is in ctx.result.errors.
Result<bool> CheckOneStepWrite(ActionContext& ctx, Slice key, uint64_t commit_ts);
// The second check alone, for a caller that has checked the locks itself.
Result<bool> CheckNoWriteAtOrAbove(ActionContext& ctx, Slice key, uint64_t commit_ts);
// The key's version before a write at commit_ts: the newest put or delete
// below it. After CheckOneStepWrite (or under the key's own lock) nothing
// sits at or above commit_ts, so this is also the key's newest state, which
// ctx.versions may know without a seek. With kMetaOnly the record may lack
// its value (write.value nullopt for a record that holds one): give it to
// nothing that reads the value (ValueOf, AddPrevKv).
enum class Need { kMetaOnly, kValue };
Result<std::optional<CommitRecord>> PreviousVersion(ActionContext& ctx, Slice key,
                                                    uint64_t commit_ts, Need need);
// Whether that version is a value (not a delete, not nothing).
inline bool HasValue(const std::optional<CommitRecord>& version) {
  return version && version->write.kind == WriteKind::kPut;
}
// The write itself: a put of `value` (a write record holding it and the
// key's metadata, continued from `previous` with `lease`: NextPutMeta) or,
// with nullopt, a delete record, at commit_ts.
void WriteOneStep(ActionContext& ctx, Slice key, const std::optional<Slice>& value,
                  uint64_t commit_ts, uint64_t lease, const std::optional<CommitRecord>& previous);
// With cmd.prev_kv: `previous` (when it holds a value) into ctx.result's
// prev_kvs, within kMaxPrevKvBytes and kMaxKeysPerCommand (else the result
// is marked truncated).
Status AddPrevKv(ActionContext& ctx, const KvWriteCmd& cmd, Slice key,
                 const std::optional<CommitRecord>& previous);

// Leases (lease.cc). Whether `lease` may be named by a put (0: always).
Result<bool> CheckLeaseExists(ActionContext& ctx, uint64_t lease);
// After a kv write of `key` that leaves it attached to `lease` (0: to none):
// the forward and reverse records moved accordingly, one lookup.
Status SetAttachment(ActionContext& ctx, Slice key, uint64_t lease);

}  // namespace tinykv::txn::internal
