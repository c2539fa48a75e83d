// The values of the lock and write families (doc/mvcc_format.md).
//
//   Lock  := byte kind ('P' put, 'D' delete, 'L' lock) | varint start_ts |
//            varint ttl_ms | lp primary
//   Write := byte kind ('P' put, 'D' delete, 'R' rollback, 'L' lock) | varint start_ts
//            [ | lp value ]   (kind 'P' only: the value held in the record)
//
// (lp = varint32 length, then the bytes; coding.h.) The kinds are TiKV's
// letters. A Write of kind 'L' records that a lock-only mutation committed
// (no value); 'R' is a rollback record, written at the transaction's own
// start_ts so that a prewrite arriving after the rollback is refused.
//
// Where a put's value lives: a write committed in one step (a KV write or
// a one-phase write: nothing was staged, start_ts == commit_ts) holds it in
// the record itself, so the write is one engine key and a read one lookup
// (as TiKV does for its short values and CockroachDB for every value); a
// put committed from a lock points at the data record its prewrite staged
// at start_ts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinykv/common/bytes.h"

namespace tinykv::txn {

// What a prewrite intends for a key (and what its lock remembers).
enum class MutationKind : uint8_t { kPut = 'P', kDelete = 'D', kLock = 'L' };
enum class WriteKind : uint8_t { kPut = 'P', kDelete = 'D', kRollback = 'R', kLock = 'L' };

struct Lock {
  MutationKind kind = MutationKind::kPut;
  uint64_t start_ts = 0;
  uint64_t ttl_ms = 0;
  std::string primary;
  friend bool operator==(const Lock&, const Lock&) = default;
};

struct Write {
  WriteKind kind = WriteKind::kPut;
  uint64_t start_ts = 0;
  // kPut only: the value, when the record holds it (see above); nullopt:
  // it is the data record at start_ts.
  std::optional<std::string> value;
  friend bool operator==(const Write&, const Write&) = default;
};

std::string EncodeLock(const Lock& lock);
// nullopt on a bad kind, truncation or trailing bytes.
std::optional<Lock> DecodeLock(Slice in);
std::string EncodeWrite(const Write& write);
std::optional<Write> DecodeWrite(Slice in);

// The write kind a committed lock of `kind` becomes.
WriteKind CommittedKind(MutationKind kind);

}  // namespace tinykv::txn
