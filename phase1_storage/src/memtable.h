// MemTable: the in-memory write buffer, a skiplist over internal keys.
//
// Each entry is stored in the arena right after its skiplist node (one
// allocation, so a search step reads node and key from the same cache lines):
//   varint32 internal_key_size | user_key | fixed64 tag | varint32 value_size | value
// Thread safety: Add needs external synchronization (the DB's single writer);
// Get and iterators may run concurrently with Add and with each other.
// Lifetime: reference counted; the DB, iterators and flushes hold refs.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "arena.h"
#include "dbformat.h"
#include "skiplist.h"
#include "tinykv/common/status.h"
#include "tinykv/storage/iterator.h"

namespace tinykv::storage {

class MemTable {
 public:
  explicit MemTable(const InternalKeyComparator* cmp);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  size_t ApproximateMemoryUsage() const { return arena_.MemoryUsage(); }
  uint64_t num_entries() const { return num_entries_.load(std::memory_order_relaxed); }

  // An iterator over internal keys; key() is the internal key. The memtable
  // must stay referenced while the iterator lives.
  std::unique_ptr<Iterator> NewIterator();

  void Add(uint64_t seq, ValueType type, Slice key, Slice value);

  // If the memtable holds a value for key visible at the LookupKey's
  // sequence, stores it in *value and returns true. If it holds a deletion,
  // sets *s to NotFound and returns true. Otherwise returns false.
  bool Get(const LookupKey& key, std::string* value, Status* s) const;

 private:
  ~MemTable() = default;
  struct KeyComparator {
    const InternalKeyComparator* comparator;
    // Defined below, inline: it runs on every skiplist step.
    inline int operator()(const char* a, const char* b) const;
  };
  friend class MemTableIterator;
  using Table = SkipList<const char*, KeyComparator>;

  KeyComparator comparator_;
  std::atomic<int> refs_{0};
  std::atomic<uint64_t> num_entries_{0};
  Arena arena_;
  Table table_;
};

// Decodes a varint32-length-prefixed slice at p (trusted memtable memory,
// written by MemTable::Add). Inlined: it is on every comparison.
inline Slice GetLengthPrefixedSliceUnchecked(const char* p) {
  uint32_t len = static_cast<unsigned char>(*p);
  if (len < 128) return Slice(p + 1, len);
  len &= 0x7f;
  for (int shift = 7; shift <= 28; shift += 7) {
    const uint32_t byte = static_cast<unsigned char>(*++p);
    len |= (byte & 0x7f) << shift;
    if (byte < 128) break;
  }
  return Slice(p + 1, len);
}

inline int MemTable::KeyComparator::operator()(const char* a, const char* b) const {
  return comparator->Compare(GetLengthPrefixedSliceUnchecked(a),
                             GetLengthPrefixedSliceUnchecked(b));
}

}  // namespace tinykv::storage
