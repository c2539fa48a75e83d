// Block: an immutable, verified data or index block and its iterator.
//
// The iterator decodes entries in place (no copies except the current key,
// which prefix compression forces), binary-searches restart points on Seek,
// and walks back one restart interval on Prev. Malformed contents make the
// iterator invalid with a Corruption status; they never read out of bounds.
//
// Thread safety: a Block is immutable and may be shared by many iterators.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dbformat.h"
#include "sstable_format.h"
#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

class Block {
 public:
  // Takes ownership of contents.heap / contents.pinned (which back
  // contents.data).
  explicit Block(BlockContents contents);
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  size_t size() const { return size_; }
  // The iterator must not outlive the block (hold a reference in the caller).
  // `pin` (optional) is held by the iterator, e.g. the shared_ptr owning this
  // block, so a cached block stays alive while iterated.
  // `fname` (optional, must outlive the iterator) names the file in
  // Corruption messages.
  std::unique_ptr<Iterator> NewIterator(const Comparator* comparator,
                                        std::shared_ptr<const void> pin = nullptr,
                                        const std::string* fname = nullptr) const;

  // Point lookup without allocating an iterator: finds the first entry with
  // key >= target. If there is one, sets *found, copies its key into *key and
  // points *value into the block (valid while the block lives). Corruption
  // (naming fname, if given) if the block is malformed.
  Status SeekFirstAtLeast(const Comparator* comparator, Slice target, bool* found,
                          std::string* key, Slice* value,
                          const std::string* fname = nullptr) const;

 private:
  uint32_t NumRestarts() const;

  std::unique_ptr<char[]> heap_;
  std::shared_ptr<const void> pinned_;
  const char* data_;
  size_t size_;
  uint32_t restart_offset_;  // offset in data_ of the restart array
  bool malformed_;
};

}  // namespace tinykv::storage
