// VersionEdit: one MANIFEST record, the difference between two versions
// (files added and removed per level, plus counters).
//
// Encoding (a sequence of tagged fields, varint32 tags):
//   1 comparator   varstring
//   2 log_number   varint64   WALs older than this are obsolete
//   3 next_file    varint64
//   4 last_seq     varint64
//   5 compact_ptr  varint32 level | varstring internal key
//   6 deleted      varint32 level | varint64 file number
//   7 new_file     varint32 level | varint64 number | varint64 size |
//                  varstring smallest | varstring largest
//   (tags 8 and up are rejected as corruption)
// See doc/manifest_format.md.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <atomic>
#include <utility>
#include <vector>

#include "dbformat.h"
#include "tinykv/common/status.h"

namespace tinykv::storage {

// A counter that concurrent readers decrement; copying copies its value (so
// FileMetaData stays a value type).
struct AtomicCounter {
  std::atomic<int64_t> value{0};
  AtomicCounter() = default;
  AtomicCounter(const AtomicCounter& o) : value(o.value.load(std::memory_order_relaxed)) {}
  AtomicCounter& operator=(const AtomicCounter& o) {
    value.store(o.value.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
};

struct FileMetaData {
  int refs = 0;
  // Wasted lookups this file may cost before it is compacted into the next
  // level (LevelDB's seek compaction; set when the file enters a Version,
  // see VersionBuilder; decremented by Version::Get's caller without a lock).
  AtomicCounter allowed_seeks;
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal key
  std::string largest;   // internal key
};

class VersionEdit {
 public:
  void Clear() { *this = VersionEdit(); }

  void SetComparatorName(Slice name) {
    has_comparator_ = true;
    comparator_ = name.ToString();
  }
  void SetLogNumber(uint64_t num) {
    has_log_number_ = true;
    log_number_ = num;
  }
  void SetNextFile(uint64_t num) {
    has_next_file_number_ = true;
    next_file_number_ = num;
  }
  void SetLastSequence(uint64_t seq) {
    has_last_sequence_ = true;
    last_sequence_ = seq;
  }
  void SetCompactPointer(int level, Slice key) {
    compact_pointers_.emplace_back(level, key.ToString());
  }
  void AddFile(int level, uint64_t file, uint64_t file_size, Slice smallest, Slice largest) {
    FileMetaData f;
    f.number = file;
    f.file_size = file_size;
    f.smallest = smallest.ToString();
    f.largest = largest.ToString();
    new_files_.emplace_back(level, std::move(f));
  }
  void RemoveFile(int level, uint64_t file) { deleted_files_.emplace(level, file); }

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(Slice src);
  std::string DebugString() const;

 private:
  friend class VersionSet;
  friend class VersionBuilder;

  std::string comparator_;
  uint64_t log_number_ = 0;
  uint64_t next_file_number_ = 0;
  uint64_t last_sequence_ = 0;
  bool has_comparator_ = false;
  bool has_log_number_ = false;
  bool has_next_file_number_ = false;
  bool has_last_sequence_ = false;
  std::vector<std::pair<int, std::string>> compact_pointers_;
  std::set<std::pair<int, uint64_t>> deleted_files_;
  std::vector<std::pair<int, FileMetaData>> new_files_;
};

inline constexpr int kMaxNumLevels = 20;

}  // namespace tinykv::storage
