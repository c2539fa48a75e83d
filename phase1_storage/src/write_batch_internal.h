// WriteBatchInternal: engine-private access to a WriteBatch's header
// (sequence number, count) and replay into a memtable.
#pragma once

#include <cstdint>

#include "tinykv/common/bytes.h"
#include "tinykv/common/status.h"
#include "tinykv/storage/write_batch.h"

namespace tinykv::storage {

class MemTable;

// Header: sequence fixed64 | count fixed32.
inline constexpr size_t kWriteBatchHeaderSize = 12;

class WriteBatchInternal {
 public:
  static uint32_t Count(const WriteBatch& b);
  static void SetCount(WriteBatch* b, uint32_t n);
  static uint64_t Sequence(const WriteBatch& b);
  static void SetSequence(WriteBatch* b, uint64_t seq);
  static Slice Contents(const WriteBatch& b) { return Slice(b.rep_); }
  static size_t ByteSize(const WriteBatch& b) { return b.rep_.size(); }
  // Replaces the contents without validation (the caller checks via Iterate).
  static void SetContents(WriteBatch* b, Slice contents);
  // Inserts every operation into `mem`, numbering them from Sequence(b).
  static Status InsertInto(const WriteBatch& b, MemTable* mem);
};

}  // namespace tinykv::storage
