// SkipList: ordered insert/lookup/iteration, and a reader running
// concurrently with the single writer sees a consistent sorted prefix.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <set>
#include <thread>

#include "arena.h"
#include "skiplist.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

struct U64Cmp {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};
using List = SkipList<uint64_t, U64Cmp>;

TEST(SkipList, EmptyListHasNothing) {
  Arena arena;
  List list(U64Cmp(), &arena);
  EXPECT_FALSE(list.Contains(10));
  List::Iterator it(&list);
  it.SeekToFirst();
  EXPECT_FALSE(it.Valid());
  it.Seek(100);
  EXPECT_FALSE(it.Valid());
  it.SeekToLast();
  EXPECT_FALSE(it.Valid());
}

TEST(SkipList, InsertLookupAndIterateInBothDirections) {
  Random rnd(testing::SeedForTest());
  Arena arena;
  List list(U64Cmp(), &arena);
  std::set<uint64_t> keys;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t k = rnd.Uniform(5000);
    if (keys.insert(k).second) list.Insert(k);
  }
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_EQ(keys.count(i) == 1, list.Contains(i));
  List::Iterator it(&list);
  auto m = keys.begin();
  for (it.SeekToFirst(); it.Valid(); it.Next(), ++m) ASSERT_EQ(*m, it.key());
  EXPECT_EQ(keys.end(), m);
  auto r = keys.rbegin();
  for (it.SeekToLast(); it.Valid(); it.Prev(), ++r) ASSERT_EQ(*r, it.key());
  EXPECT_EQ(keys.rend(), r);
  for (uint64_t target = 0; target < 5000; target += 37) {
    it.Seek(target);
    auto expected = keys.lower_bound(target);
    if (expected == keys.end()) {
      EXPECT_FALSE(it.Valid());
    } else {
      ASSERT_TRUE(it.Valid());
      EXPECT_EQ(*expected, it.key());
    }
  }
}

// AllocateKey/InsertAllocated: byte-string keys stored in their nodes keep
// the list ordered and intact (the memtable's insert path).
TEST(SkipList, KeysAllocatedWithTheirNodesStaySortedAndIntact) {
  struct StrCmp {
    int operator()(const char* a, const char* b) const {
      return a == nullptr ? -1 : (b == nullptr ? 1 : std::strcmp(a, b));
    }
  };
  Random rnd(testing::SeedForTest());
  Arena arena;
  SkipList<const char*, StrCmp> list(StrCmp(), &arena);
  std::set<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    // Lengths from 0 to 300 bytes, so nodes of every height meet keys that
    // straddle cache lines and arena blocks.
    std::string k = std::to_string(rnd.Uniform(100000)) + std::string(rnd.Uniform(300), 'x');
    if (!keys.insert(k).second) continue;
    char* mem = list.AllocateKey(k.size() + 1);
    std::memcpy(mem, k.c_str(), k.size() + 1);
    list.InsertAllocated();
  }
  SkipList<const char*, StrCmp>::Iterator it(&list);
  auto m = keys.begin();
  for (it.SeekToFirst(); it.Valid(); it.Next(), ++m) {
    ASSERT_NE(keys.end(), m);
    ASSERT_EQ(*m, std::string(it.key()));
  }
  EXPECT_EQ(keys.end(), m);
  for (const auto& k : keys) ASSERT_TRUE(list.Contains(k.c_str())) << k;
}

// The writer inserts 0, 2, 4, ... in random order of batches while readers
// scan; a reader must always see a strictly increasing sequence of keys that
// were inserted (never garbage from a half-published node).
TEST(SkipList, ConcurrentReadersSeeOnlyFullyInsertedKeys) {
  Arena arena;
  List list(U64Cmp(), &arena);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> scans{0};
  constexpr uint64_t kKeys = 50000;
  auto reader = [&] {
    while (!done.load(std::memory_order_acquire)) {
      List::Iterator it(&list);
      uint64_t prev = 0;
      bool first = true;
      for (it.SeekToFirst(); it.Valid(); it.Next()) {
        const uint64_t k = it.key();
        ASSERT_EQ(0u, k % 2) << "saw a key that was never inserted";
        ASSERT_LT(k, 2 * kKeys);
        if (!first) {
          ASSERT_LT(prev, k);
        }
        prev = k;
        first = false;
      }
      scans.fetch_add(1);
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  Random rnd(testing::SeedForTest());
  std::vector<uint64_t> order(kKeys);
  for (uint64_t i = 0; i < kKeys; ++i) order[i] = 2 * i;
  for (uint64_t i = kKeys - 1; i > 0; --i) std::swap(order[i], order[rnd.Uniform(i + 1)]);
  for (uint64_t k : order) list.Insert(k);
  // Let the readers finish at least one full pass over the complete list.
  const uint64_t seen = scans.load();
  while (scans.load() < seen + 2) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  for (uint64_t k : order) ASSERT_TRUE(list.Contains(k));
}

}  // namespace
}  // namespace tinykv::storage
