// The values of the lock and write families (doc/mvcc_format.md).
//
//   Lock  := byte kind ('P' put, 'D' delete, 'L' lock) | varint start_ts |
//            varint ttl_ms | lp primary
//   Write := byte kind ('P' put, 'D' delete, 'R' rollback, 'L' lock) | varint start_ts
//            [ | lp value ]   (kind 'P' only: the value held in the record)
//          | byte 'p' | varint start_ts | varint create_ts | varint version |
//            varint lease [ | lp value ]
//                             (a put with the key's metadata: PutMeta, below)
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
//
// Key metadata, as etcd reports it with every key (mvccpb.KeyValue): the
// revision that created the key (its first put since it last did not
// exist), its version (puts since then: 1 on creation) and its lease (0:
// none); the mod revision is the put's own commit_ts. Every put written
// now carries it (kind 'p', the same WriteKind::kPut in memory with
// `meta` set): computed from the key's previous version when the put is
// written (NextPutMeta), so a read answers it from the one record it reads,
// and compaction, which drops older versions, keeps it. A 'P' record
// (written before metadata existed) reads as a key created by that put,
// version 1, no lease (KeyMetaOf).
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

// What a put record carries of its key's life (above).
struct PutMeta {
  uint64_t create_ts = 0;
  uint64_t version = 0;
  uint64_t lease = 0;
  friend bool operator==(const PutMeta&, const PutMeta&) = default;
};

struct Write {
  WriteKind kind = WriteKind::kPut;
  uint64_t start_ts = 0;
  // kPut only: the value, when the record holds it (see above); nullopt:
  // it is the data record at start_ts.
  std::optional<std::string> value;
  // kPut only: the key's metadata (encoded as kind 'p'); nullopt: a record
  // from before metadata existed.
  std::optional<PutMeta> meta;
  friend bool operator==(const Write&, const Write&) = default;
};

// A key's metadata as a read reports it: create and mod revision, version,
// lease.
struct KeyMeta {
  uint64_t create_ts = 0;
  uint64_t mod_ts = 0;
  uint64_t version = 0;
  uint64_t lease = 0;
  friend bool operator==(const KeyMeta&, const KeyMeta&) = default;
};

// The metadata of the put `write` committed at commit_ts.
// REQUIRES: write.kind == WriteKind::kPut.
KeyMeta KeyMetaOf(uint64_t commit_ts, const Write& write);
// The metadata of a put at commit_ts attached to `lease` whose key's
// previous version (the newest put or delete below commit_ts) is `previous`
// (nullptr: none): a continuation of a put, else a creation.
PutMeta NextPutMeta(const Write* previous, uint64_t previous_commit_ts, uint64_t commit_ts,
                    uint64_t lease);

std::string EncodeLock(const Lock& lock);
// nullopt on a bad kind, truncation or trailing bytes.
std::optional<Lock> DecodeLock(Slice in);
std::string EncodeWrite(const Write& write);
std::optional<Write> DecodeWrite(Slice in);

// The write kind a committed lock of `kind` becomes.
WriteKind CommittedKind(MutationKind kind);

}  // namespace tinykv::txn
