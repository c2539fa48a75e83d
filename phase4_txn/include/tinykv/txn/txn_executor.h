// ExecuteTxnCommand: one transaction command applied to the MVCC families
// (mvcc_key.h) -- the deterministic function of (engine state, command) the
// MVCC state machine runs at apply time, after Percolator and TiKV's
// transaction actions:
//
//   prewrite   per mutation: another transaction's lock -> kLocked; a
//              write record with commit_ts >= start_ts -> kWriteConflict
//              (this transaction's own rollback -> kRolledBack; its own
//              commit -> already done); its own lock -> already done.
//              Otherwise lock + data (for a put) at start_ts.
//   commit     per key: its lock -> write record at commit_ts, lock gone;
//              no lock: its commit record -> done; its rollback or nothing
//              -> kTxnLockNotFound.
//   rollback   per key: its lock -> lock and staged value gone; a rollback
//              record at start_ts in every case but its commit
//              (-> kCommitted) or an existing rollback (done).
//   check-txn-status on the primary: its lock, expired when
//              PhysicalMs(lock_ts) + ttl_ms < PhysicalMs(current_ts) -> rolled
//              back now; live -> kLocked with the TTL left; no lock -> its
//              record decides; no record either -> a rollback record now.
//   resolve-lock  every lock of the transaction on the keys: commit or roll back.
//   gc         per key: keeps every version above safe_point and the newest
//              at or below it, unless that one is a delete; rollback and
//              lock records at or below it go.
//   one-phase  put/delete at commit_ts; refused like a prewrite.
//   reserve-ts the oracle's mark := max(mark, upto); answers both.
//   heartbeat  the lock of start_ts on primary: ttl_ms := max(ttl_ms,
//              cmd's), answered as ttl_left_ms; none -> kTxnLockNotFound.
//   kv-write   the KV API's put/delete/cas/delete-range at commit_ts (the
//              revision, answered as commit_ts). Exactly-once first, as
//              KvStateMachine: the client's record (KvClientKey) with the
//              same request_seq -> its remembered result, an older one ->
//              kv.succeeded = false; either way nothing is written (client
//              0: no record). Then per key written: any lock -> kLocked; a
//              write record of any kind at or above commit_ts ->
//              kWriteConflict. put: a version. delete: a tombstone only if
//              a value is visible (kv.deleted = 1), else nothing. cas: the
//              visible value == expected (nullopt = absent) -> a version,
//              else kv.succeeded = false, kv.current = it, nothing written.
//              delete-range [key, value): the first lock in the range ->
//              kLocked; the conflict check on every key with a write record
//              in it; a tombstone on each with a visible value (kv.deleted
//              = the count). Without a KeyError the client's record :=
//              (request_seq, this result) in the same batch.
//              With a lease (put, cas): no such lease -> lease_status
//              kLeaseNotFound, nothing written but the client's record.
//              Every key it writes is attached to its lease or detached
//              (lease.h).
//   lease-grant, lease-revoke  lease.h.
//
// A command that answers with a KeyError adds nothing to the batch. The
// batch is the caller's to write, atomically with whatever else it holds
// (the state machine's applied index).
//
// REQUIRES: ValidateTxnCommand(cmd).ok(). An error Status is an engine
// failure (or a record that does not decode): nothing may be written.
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/write_batch.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/txn_command.h"
#include "tinykv/txn/version_cache.h"

namespace tinykv::txn {

// The engine key holding the oracle's reservation: fixed64 (absent = 0).
inline constexpr char kTsoReservedKey[] = "mtso";
// The engine key of the highest GC safe point applied: fixed64 (absent =
// 0). History at or below it may be gone (GC keeps what a read at or above
// it sees), so a watch cannot replay from there (watch_hub.h).
inline constexpr char kGcSafePointKey[] = "mgc_safe_point";
// The engine key of a KV client's exactly-once record (kv-write):
// "mclient" | BE64(client_id) -> varint request_seq | EncodeTxnCommandResult
// of that request (the newest one applied with no KeyError).
std::string KvClientKey(uint64_t client_id);

// `term`: the Raft term of the entry (reserve-ts answers with it).
Result<TxnCommandResult> ExecuteTxnCommand(storage::DB* db, const TxnCommand& cmd, uint64_t term,
                                           storage::WriteBatch* batch);
// The same through a reader the caller holds (one snapshot for a run of
// commands that touch distinct keys: MvccStateMachine::ApplyBatch). The
// reader sees `db` as of its construction, not what earlier commands put in
// `batch`. If max_write_ts is given, it is raised to the largest ts of a
// write record the command added (the caller's write_ts_bound to keep).
// leases_may_exist = false promises that the engine holds no lease record
// (the state machine knows it): kv writes then skip their lease lookups.
// `versions`, if given, holds newest versions of keys as of the reader's
// state (version_cache.h): writes take their previous version from it
// instead of seeking the engine.
Result<TxnCommandResult> ExecuteTxnCommand(MvccReader& reader, storage::DB* db,
                                           const TxnCommand& cmd, uint64_t term,
                                           storage::WriteBatch* batch,
                                           uint64_t* max_write_ts = nullptr,
                                           bool leases_may_exist = true,
                                           const VersionCache* versions = nullptr);

// The oracle's reservation as persisted in `db`.
Result<uint64_t> ReadTsoReserved(storage::DB* db);
// The GC safe point (kGcSafePointKey) as the reader's state has it.
Result<uint64_t> ReadGcSafePoint(MvccReader& reader);

}  // namespace tinykv::txn
