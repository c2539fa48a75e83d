// TxnCommand: the commands of the MVCC state machine (mvcc_state_machine.h)
// -- Percolator's prewrite / commit / rollback / check-txn-status /
// resolve-lock and heartbeat, GC, one-phase single-key writes, the plain
// KV API's writes, leases and the timestamp oracle's reservation -- and their
// results, with the byte encodings that travel
// inside Raft entries (doc/mvcc_format.md, "Commands").
//
// Each command is executed at apply time (txn_executor.h) as a deterministic
// function of (engine state, command). The codec is versioned (first byte)
// and bounded (kMaxKeysPerCommand keys, kMaxKeyBytes per key, kMaxValueBytes
// per value): a decoder never allocates more than its input allows, and
// anything malformed is Corruption. ValidateTxnCommand checks what the
// bytes cannot: non-empty, distinct keys, timestamps in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/result.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/mvcc_record.h"

namespace tinykv::txn {

inline constexpr size_t kMaxKeysPerCommand = 4096;
inline constexpr size_t kMaxKeyBytes = 8 << 10;
inline constexpr size_t kMaxValueBytes = 8 << 20;

struct Mutation {
  MutationKind kind = MutationKind::kPut;
  std::string key;
  std::string value;  // kPut only
  friend bool operator==(const Mutation&, const Mutation&) = default;
};

// Percolator's first phase: lock every key at start_ts (and stage the values).
struct PrewriteCmd {
  std::vector<Mutation> mutations;
  std::string primary;
  uint64_t start_ts = 0;
  uint64_t ttl_ms = 0;
  friend bool operator==(const PrewriteCmd&, const PrewriteCmd&) = default;
};

// Turns this transaction's locks on `keys` into write records at commit_ts.
struct CommitCmd {
  uint64_t start_ts = 0;
  uint64_t commit_ts = 0;
  std::vector<std::string> keys;
  friend bool operator==(const CommitCmd&, const CommitCmd&) = default;
};

// Removes this transaction's locks on `keys` and leaves rollback records.
struct RollbackCmd {
  uint64_t start_ts = 0;
  std::vector<std::string> keys;
  friend bool operator==(const RollbackCmd&, const RollbackCmd&) = default;
};

// The fate of the transaction lock_ts, decided on its primary key: rolls an
// expired lock (or a missing one with no record) back.
struct CheckTxnStatusCmd {
  std::string primary;
  uint64_t lock_ts = 0;
  uint64_t current_ts = 0;
  friend bool operator==(const CheckTxnStatusCmd&, const CheckTxnStatusCmd&) = default;
};

// Commits (commit_ts > 0) or rolls back (commit_ts == 0) the locks of
// transaction start_ts on `keys`; keys empty = every lock of it in the engine.
struct ResolveLockCmd {
  uint64_t start_ts = 0;
  uint64_t commit_ts = 0;
  std::vector<std::string> keys;
  friend bool operator==(const ResolveLockCmd&, const ResolveLockCmd&) = default;
};

// Drops the versions no read at or after safe_point can see.
struct GcCmd {
  uint64_t safe_point = 0;
  friend bool operator==(const GcCmd&, const GcCmd&) = default;
};

// A single-key write committed in one step at commit_ts (kPut or kDelete):
// start_ts = commit_ts, no lock ever exists.
struct OnePhaseWriteCmd {
  Mutation mutation;
  uint64_t commit_ts = 0;
  friend bool operator==(const OnePhaseWriteCmd&, const OnePhaseWriteCmd&) = default;
};

// The oracle's high-water mark (tso.h): reserved := max(reserved, upto).
struct ReserveTsCmd {
  uint64_t upto = 0;
  friend bool operator==(const ReserveTsCmd&, const ReserveTsCmd&) = default;
};

// Extends the primary lock of transaction start_ts so that a long
// transaction is not rolled back by a reader: ttl_ms := max(ttl_ms, this
// ttl_ms) (TiKV's TxnHeartBeat). Answers with the lock's TTL now; no lock
// of start_ts on primary -> kTxnLockNotFound.
struct HeartbeatCmd {
  std::string primary;
  uint64_t start_ts = 0;
  uint64_t ttl_ms = 0;
  friend bool operator==(const HeartbeatCmd&, const HeartbeatCmd&) = default;
};

// A write of the plain KV API (put, delete, compare-and-swap, delete-range;
// replica::KvCommand) committed in one step at commit_ts, with the KV
// API's exactly-once retries by (client_id, request_seq) (kv_command.h). A
// lock on any key it writes -> kLocked; a write record at or above
// commit_ts on any of them -> kWriteConflict (the proposer retries with a
// newer timestamp); either way nothing is written. `lease` (put and cas
// only; 0 = none) attaches the key to that lease, which must exist (lease.h).
struct KvWriteCmd {
  replica::KvCommand kv;
  uint64_t commit_ts = 0;
  uint64_t lease = 0;
  // etcd's prev_kv: the result carries each written key's version before
  // the write (TxnCommandResult::prev_kvs).
  bool prev_kv = false;
  // The client request's trace id (common/trace_id.h), so that every member
  // applying the entry can name it in its log; 0 = none. It changes nothing
  // the command does.
  uint64_t trace_id = 0;
  friend bool operator==(const KvWriteCmd& a, const KvWriteCmd& b) {
    return a.commit_ts == b.commit_ts && a.lease == b.lease && a.prev_kv == b.prev_kv &&
           a.trace_id == b.trace_id &&
           a.kv.op == b.kv.op &&
           a.kv.key == b.kv.key &&
           a.kv.value == b.kv.value && a.kv.expected == b.kv.expected &&
           a.kv.client_id == b.kv.client_id && a.kv.request_seq == b.kv.request_seq;
  }
};

// Grants lease `id` (nonzero) with a TTL of ttl_s seconds (lease.h). The
// leader picks the id and keeps the deadline (lessor.h); the state machine
// keeps the lease and its TTL.
struct LeaseGrantCmd {
  uint64_t id = 0;
  uint64_t ttl_s = 0;
  friend bool operator==(const LeaseGrantCmd&, const LeaseGrantCmd&) = default;
};

// Revokes lease `id`: every key attached to it deleted at commit_ts, one
// revision (lease.h).
struct LeaseRevokeCmd {
  uint64_t id = 0;
  uint64_t commit_ts = 0;
  friend bool operator==(const LeaseRevokeCmd&, const LeaseRevokeCmd&) = default;
};

using TxnCommand = std::variant<PrewriteCmd, CommitCmd, RollbackCmd, CheckTxnStatusCmd,
                                ResolveLockCmd, GcCmd, OnePhaseWriteCmd, ReserveTsCmd,
                                HeartbeatCmd, KvWriteCmd, LeaseGrantCmd, LeaseRevokeCmd>;

// The answer of check-txn-status.
enum class TxnStatus : uint8_t {
  kNone = 0,  // (not a check-txn-status result)
  kLocked = 1,
  kCommitted = 2,
  kRolledBack = 3,
};

// A key's version as it was before a write (etcd's prev_kv): its value and
// metadata.
struct PrevKv {
  std::string key;
  std::string value;
  KeyMeta meta;
  friend bool operator==(const PrevKv&, const PrevKv&) = default;
};
// The most key and value bytes one result's prev_kvs hold (a delete-range
// may delete much more): within a Raft entry's answer and an RPC frame.
inline constexpr size_t kMaxPrevKvBytes = 2 << 20;

// One result shape for every command; each fills the fields it names.
// A command that returns KeyErrors wrote nothing.
struct TxnCommandResult {
  std::vector<KeyError> errors;  // prewrite: one per refused key; the others: at most one
  TxnStatus txn_status = TxnStatus::kNone;  // check-txn-status
  uint64_t commit_ts = 0;  // check-txn-status kCommitted; kv-write, lease-revoke: its revision
  uint64_t ttl_left_ms = 0;                 // check-txn-status kLocked; heartbeat: the lock's TTL
  bool rolled_back_now = false;             // check-txn-status: this command wrote the rollback
  uint64_t count = 0;  // resolve-lock: locks resolved; gc: records removed; lease-revoke: keys deleted
  uint64_t prev_reserved = 0;               // reserve-ts: the mark before, and after
  uint64_t reserved = 0;
  uint64_t term = 0;  // reserve-ts: the Raft term of the entry
  // kv-write: the KV API's outcome (succeeded, current, deleted; `index` is
  // the node's to fill). A retry of an applied write answers with the
  // remembered result, its commit_ts included.
  replica::KvCommandResult kv;
  // lease-grant, lease-revoke, a kv-write naming a lease (lease.h). Not
  // kOk: nothing was written.
  LeaseStatus lease_status = LeaseStatus::kOk;
  // kv-write with prev_kv: the version before the write of each key it
  // wrote that had one (a put's, a cas's, a delete's; each key a
  // delete-range deleted, in key order), up to kMaxPrevKvBytes of keys and
  // values and kMaxKeysPerCommand pairs; prev_kvs_truncated when some were
  // left out.
  std::vector<PrevKv> prev_kvs;
  bool prev_kvs_truncated = false;
  friend bool operator==(const TxnCommandResult&, const TxnCommandResult&) = default;
};

std::string EncodeTxnCommand(const TxnCommand& cmd);
Result<TxnCommand> DecodeTxnCommand(Slice in);
// InvalidArgument naming the problem: empty or oversized or repeated keys, a
// zero timestamp, commit_ts <= start_ts, a one-phase lock, a value on a
// delete or lock mutation, a delete-range whose end is not above its start.
Status ValidateTxnCommand(const TxnCommand& cmd);

std::string EncodeTxnCommandResult(const TxnCommandResult& r);
Result<TxnCommandResult> DecodeTxnCommandResult(Slice in);

}  // namespace tinykv::txn
