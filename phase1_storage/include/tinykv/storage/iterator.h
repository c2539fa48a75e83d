// Iterator: ordered traversal of key/value pairs, as leveldb::Iterator.
//
// Keys are compared as unsigned bytes. An iterator over the DB sees a
// consistent snapshot taken when it was created (or the ReadOptions
// snapshot) and never blocks writers.
//
// Thread safety: one iterator must not be used from several threads at once
// without external synchronization; distinct iterators are independent.
#pragma once

#include "tinykv/common/bytes.h"
#include "tinykv/common/status.h"

namespace tinykv::storage {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  // An iterator is either positioned at a key/value pair or not valid.
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first key >= target.
  virtual void Seek(Slice target) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // REQUIRES: Valid(). The slices stay valid until the iterator moves.
  virtual Slice key() const = 0;
  virtual Slice value() const = 0;
  // Not OK if iteration stopped because of an error (e.g. a corrupt block);
  // Valid() is then false. Check it after a loop ends.
  virtual Status status() const = 0;
};

}  // namespace tinykv::storage
