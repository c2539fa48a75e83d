// ShardedLRUCache<V>: a thread-safe LRU cache keyed by two 64-bit integers,
// split into 16 shards (each with its own mutex) to cut lock contention.
// Used as the block cache (key: table id, block offset; charge: block bytes)
// and the table cache (key: file number; charge: 1).
//
// Values are shared_ptr: an evicted entry stays alive while a reader holds it.
// Cost: one mutex acquisition and one hash lookup per Lookup/Insert.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tinykv::storage {

struct CacheKey {
  uint64_t a = 0;
  uint64_t b = 0;
  friend bool operator==(const CacheKey& x, const CacheKey& y) { return x.a == y.a && x.b == y.b; }
};

struct CacheKeyHash {
  size_t operator()(const CacheKey& k) const {
    uint64_t h = k.a * 0x9e3779b97f4a7c15ull ^ (k.b + 0x632be59bd9b4e019ull);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

template <typename V>
class ShardedLRUCache {
 public:
  explicit ShardedLRUCache(size_t capacity) {
    const size_t per_shard = (capacity + kNumShards - 1) / kNumShards;
    for (auto& s : shards_) s.capacity = per_shard;
  }
  ShardedLRUCache(const ShardedLRUCache&) = delete;
  ShardedLRUCache& operator=(const ShardedLRUCache&) = delete;

  std::shared_ptr<V> Lookup(const CacheKey& key) {
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    s.lru.splice(s.lru.begin(), s.lru, it->second);  // most recently used first
    return it->second->value;
  }

  void Insert(const CacheKey& key, std::shared_ptr<V> value, size_t charge) {
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.map.find(key);
    if (it != s.map.end()) {
      s.usage -= it->second->charge;
      s.lru.erase(it->second);
      s.map.erase(it);
    }
    s.lru.push_front(Entry{key, std::move(value), charge});
    s.map.emplace(key, s.lru.begin());
    s.usage += charge;
    while (s.usage > s.capacity && s.lru.size() > 1) {
      Entry& victim = s.lru.back();
      s.usage -= victim.charge;
      s.map.erase(victim.key);
      s.lru.pop_back();
    }
  }

  void Erase(const CacheKey& key) {
    Shard& s = ShardFor(key);
    std::lock_guard<std::mutex> l(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return;
    s.usage -= it->second->charge;
    s.lru.erase(it->second);
    s.map.erase(it);
  }

  size_t TotalCharge() {
    size_t total = 0;
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> l(s.mu);
      total += s.usage;
    }
    return total;
  }
  // Counts a miss for a value fetched without going through the cache.
  void RecordMiss() { misses_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kNumShards = 16;
  struct Entry {
    CacheKey key;
    std::shared_ptr<V> value;
    size_t charge;
  };
  struct Shard {
    std::mutex mu;
    size_t capacity = 0;
    size_t usage = 0;
    std::list<Entry> lru;
    std::unordered_map<CacheKey, typename std::list<Entry>::iterator, CacheKeyHash> map;
  };
  Shard& ShardFor(const CacheKey& key) { return shards_[CacheKeyHash()(key) >> 60 & 15]; }

  Shard shards_[kNumShards];
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace tinykv::storage
