// HashKv: one member's hash of its MVCC key space as of a revision (etcd's
// Maintenance.HashKV), for comparing members: members whose state machines
// applied the same log give the same hash, whatever their engines' layout
// (flushes, compactions, defragmentation).
//
// What is hashed, through one MvccReader (one engine snapshot), with C the
// GC safe point of that snapshot (the compact revision) and R the revision:
//   * per key, the version a read at C sees, when it is a put (the state
//     compaction kept: GC drops the older versions, and whether it keeps a
//     delete at or below C is not part of what a reader sees);
//   * every put and delete with C < commit_ts <= R.
// Keys in byte order, each key's versions newest first; rollback and lock
// records, locks and the 'm' family are left out. Each version adds
//   fixed32 key size | key | fixed64 commit_ts | kind byte ('P' put, 'D'
//   delete, mvcc_record.h WriteKind) | for a put: fixed32 value size | value
// (fixed = little-endian, common/coding.h) to one CRC32C (common/crc32c.h,
// etcd's HashKV is a CRC32 with the Castagnoli polynomial too) started at 0.
//
// R = 0 hashes every version; the answer's hash_revision is then the newest
// commit_ts hashed, or C if that is larger (R itself otherwise). R below C
// is ReadCompactedError (watch_error.h).
//
// Cost: one pass over every write record of the key space and a value read
// per put hashed; memory O(1) beyond the reader.
#pragma once

#include <cstdint>

#include "tinykv/common/result.h"
#include "tinykv/txn/mvcc_reader.h"

namespace tinykv::txn {

struct KvHash {
  uint32_t hash = 0;              // the CRC32C above
  uint64_t compact_revision = 0;  // C (0: never compacted)
  uint64_t hash_revision = 0;     // R, or for R = 0 the revision reached
};

Result<KvHash> HashKv(MvccReader& reader, uint64_t revision);

}  // namespace tinykv::txn
