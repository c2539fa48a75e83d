// VersionCache: the newest version (put or delete record) of recently
// written keys, in memory, so that a write need not seek the engine's write
// family to learn what it continues from.
//
// Why: every put carries its key's metadata (mvcc_record.h: create
// revision and version, continued from the previous version), so a put must
// know the key's newest version. In the engine that is a seek through every
// level of the LSM tree; etcd answers the same question from its in-memory
// key index (every key's revisions). The cache holds that answer for the
// keys written most recently, bounded in bytes; a key not in it costs the
// seek, as before, and is cached once written.
//
// What it holds: for a key, the put or delete record with the largest
// commit_ts in the engine, WITHOUT its value (Write::value is always
// nullopt here, even for a record that holds one: whoever needs the value
// reads the engine). Invariant, kept by its one owner (MvccStateMachine):
// between two engine writes, every cached entry equals the newest put or
// delete record of its key in the engine, but for
//   - GC, which may drop a newest delete record (a key that no longer
//     exists at all): the owner clears the cache when GC applies, though a
//     delete and nothing are the same to every user of the cache
//     (NextPutMeta, HasValue);
//   - a replaced engine (open, snapshot install, reopen): cleared.
// Entries are added and replaced only from the versions an engine write
// committed (batch_changes.h), after the write.
//
// Eviction: least recently written first, once the entries' estimated
// bytes pass the capacity. Capacity 0 turns the cache off.
//
// Thread safety: none; the owner uses it from the applying thread only.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/txn/batch_changes.h"
#include "tinykv/txn/mvcc_reader.h"

namespace tinykv::txn {

class VersionCache {
 public:
  // The default bound: about 100,000 short keys.
  static constexpr size_t kDefaultCapacityBytes = 16 << 20;

  explicit VersionCache(size_t capacity_bytes = kDefaultCapacityBytes);
  VersionCache(const VersionCache&) = delete;
  VersionCache& operator=(const VersionCache&) = delete;

  // The key's newest put or delete record, value left out; nullopt: not
  // cached (which says nothing about the engine).
  std::optional<CommitRecord> Find(Slice key) const;
  // After an engine write: its committed versions, in batch order, become
  // their keys' newest (a later one of the same key wins).
  void Note(const std::vector<CommittedVersion>& versions);
  void Clear();

  size_t size() const { return index_.size(); }
  size_t bytes() const { return bytes_; }
  size_t capacity_bytes() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    CommitRecord record;  // record.write.value is nullopt
  };
  using List = std::list<Entry>;
  // The memory an entry is charged for: its key, the entry, and the list
  // and hash nodes around it (an estimate, not an allocator's count).
  static size_t Charge(const Entry& e);
  void Put(const std::string& key, const CommitRecord& record);

  const size_t capacity_;
  size_t bytes_ = 0;
  List lru_;  // front: the most recently written
  // Views into the keys of lru_'s entries (list nodes never move).
  std::unordered_map<std::string_view, List::iterator> index_;
};

}  // namespace tinykv::txn
