// WriteBatch: a group of puts and deletes applied atomically by DB::Write.
//
// Format (also the WAL record payload; see doc/wal_format.md):
//   sequence: fixed64 | count: fixed32 | count records of
//     kTypeValue    varstring key, varstring value
//     kTypeDeletion varstring key
// where varstring is a varint32 length and the bytes.
//
// Thread safety: not safe for concurrent mutation.
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/common/status.h"

namespace tinykv::storage {

class WriteBatch {
 public:
  WriteBatch();

  void Put(Slice key, Slice value);
  void Delete(Slice key);
  // Appends every operation of `other` to this batch.
  void Append(const WriteBatch& other);
  void Clear();

  // Number of operations.
  uint32_t Count() const;
  // Size of the encoded batch, in bytes (what the WAL will write).
  size_t ApproximateSize() const { return rep_.size(); }

  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void Put(Slice key, Slice value) = 0;
    virtual void Delete(Slice key) = 0;
  };
  // Calls the handler for each operation in order; Corruption if malformed.
  Status Iterate(Handler* handler) const;

  // The encoded form, and rebuilding from it (used by the WAL and Raft).
  const std::string& Contents() const { return rep_; }
  static Status FromContents(Slice contents, WriteBatch* batch);

 private:
  friend class WriteBatchInternal;
  std::string rep_;
};

}  // namespace tinykv::storage
