// VersionCache: see version_cache.h.
#include "tinykv/txn/version_cache.h"

#include "tinykv/common/check.h"

namespace tinykv::txn {

VersionCache::VersionCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

size_t VersionCache::Charge(const Entry& e) {
  constexpr size_t kNodes = 2 * sizeof(void*) + sizeof(std::string_view) + sizeof(List::iterator) +
                            2 * sizeof(void*);  // list links, hash node and bucket
  return sizeof(Entry) + kNodes + (e.key.capacity() > 15 ? e.key.capacity() : 0);
}

std::optional<CommitRecord> VersionCache::Find(Slice key) const {
  auto it = index_.find(std::string_view(key.data(), key.size()));
  if (it == index_.end()) return std::nullopt;
  return it->second->record;
}

void VersionCache::Note(const std::vector<CommittedVersion>& versions) {
  if (capacity_ == 0) return;
  for (const CommittedVersion& v : versions) Put(v.key, v.record);
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Entry& victim = lru_.back();
    bytes_ -= Charge(victim);
    index_.erase(std::string_view(victim.key));
    lru_.pop_back();
  }
}

void VersionCache::Put(const std::string& key, const CommitRecord& record) {
  TINYKV_CHECK(record.write.kind == WriteKind::kPut || record.write.kind == WriteKind::kDelete);
  CommitRecord r{record.commit_ts, Write{record.write.kind, record.write.start_ts, std::nullopt,
                                         record.write.meta}};
  auto it = index_.find(std::string_view(key));
  if (it != index_.end()) {
    // Versions only ever commit above a key's newest (the conflict
    // checks), so this is the newer one; max() keeps the newest regardless.
    if (r.commit_ts >= it->second->record.commit_ts) it->second->record = r;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, r});
  bytes_ += Charge(lru_.front());
  index_.emplace(std::string_view(lru_.front().key), lru_.begin());
}

void VersionCache::Clear() {
  index_.clear();
  lru_.clear();
  bytes_ = 0;
}

}  // namespace tinykv::txn
