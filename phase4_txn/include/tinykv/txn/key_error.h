// KeyError: a transaction command's or a read's typed refusal for one key --
// an answer, not a failure (TiKV's kvrpcpb::KeyError). The caller reads its
// fields and acts: resolve the lock (kLocked), restart the transaction with
// a new start_ts (kWriteConflict, kRolledBack), or report (kTxnLockNotFound,
// kCommitted). A KeyError is deterministic: every replica computes the same
// one, so it travels in a command's result, and an operating failure (the
// disk) stays a Status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tinykv/common/bytes.h"
#include "tinykv/common/status.h"
#include "tinykv/txn/mvcc_record.h"

namespace tinykv::txn {

// A lock as a reader or a conflicting writer meets it.
struct LockInfo {
  std::string key;
  Lock lock;
  friend bool operator==(const LockInfo&, const LockInfo&) = default;
};

struct KeyError {
  enum class Kind : uint8_t {
    // Another transaction's lock is on the key (`lock`). For a read: a lock
    // with start_ts <= the read's ts, which may yet commit below it.
    kLocked = 1,
    // A commit at or after the prewrite's start_ts exists
    // (conflict_start_ts/conflict_commit_ts are that commit's).
    kWriteConflict = 2,
    // Commit found neither its lock nor its commit record: the transaction
    // was rolled back (or never prewrote this key).
    kTxnLockNotFound = 3,
    // Rollback refused: the transaction committed at conflict_commit_ts.
    kCommitted = 4,
    // Prewrite refused: this transaction was already rolled back here.
    kRolledBack = 5,
  };
  Kind kind = Kind::kLocked;
  std::string key;
  LockInfo lock;                    // kLocked
  uint64_t conflict_start_ts = 0;   // kWriteConflict
  uint64_t conflict_commit_ts = 0;  // kWriteConflict, kCommitted
  friend bool operator==(const KeyError&, const KeyError&) = default;
};

// One line for logs and test failures, e.g. "locked key=a primary=p start_ts=5 ttl_ms=100".
std::string KeyErrorToString(const KeyError& e);

// The byte encoding of a KeyError (doc/mvcc_format.md "Results"):
//   byte kind | lp key | lp lock.key | byte lock kind | varint lock start_ts |
//   varint lock ttl_ms | lp lock primary | varint conflict_start_ts |
//   varint conflict_commit_ts
void EncodeKeyError(const KeyError& e, std::string* dst);
// Consumes one from the front of *in; false on anything malformed (keys are
// bounded by `max_key_bytes`).
bool DecodeKeyError(Slice* in, KeyError* e, size_t max_key_bytes);

// A KeyError as a Status, for answers that are Status-shaped (the plain KV
// API meeting a lock, or a write conflict): Conflict with the message of
// KeyErrorToString and the KeyError as the detail (status.h
// StatusDetailKind::kKeyError), so a client reads the lock's fields and
// resolves it.
Status KeyErrorStatus(const KeyError& e);
// The KeyError a Status carries, if its detail is a well-formed one.
std::optional<KeyError> KeyErrorOf(const Status& s);

}  // namespace tinykv::txn
