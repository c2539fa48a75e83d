// MergingIterator: a sorted union, with direction changes.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "block.h"
#include "block_builder.h"
#include "merging_iterator.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

// Keeps the blocks alive for the iterators.
std::vector<std::unique_ptr<Block>> g_blocks;

std::unique_ptr<Iterator> BlockOf(const std::vector<std::string>& keys) {
  BlockBuilder b(4);
  for (const auto& k : keys) b.Add(k, "v" + k);
  const Slice data = b.Finish();
  BlockContents c;
  c.heap.reset(new char[data.size()]);
  std::memcpy(c.heap.get(), data.data(), data.size());
  c.data = Slice(c.heap.get(), data.size());
  g_blocks.push_back(std::make_unique<Block>(std::move(c)));
  return g_blocks.back()->NewIterator(BytewiseComparator());
}

TEST(MergingIterator, MergesForwardBackwardAndAcrossDirectionChanges) {
  Random rnd(testing::SeedForTest());
  std::map<std::string, int> model;
  std::vector<std::unique_ptr<Iterator>> children;
  for (int c = 0; c < 5; ++c) {
    std::map<std::string, int> keys;
    // Disjoint per child (distinct suffix) so the union has no duplicates.
    for (int i = 0; i < 100; ++i) keys["k" + std::to_string(rnd.Uniform(1000)) + "-" + std::to_string(c)] = c;
    std::vector<std::string> list;
    for (const auto& [k, v] : keys) {
      list.push_back(k);
      model[k] = v;
    }
    children.push_back(BlockOf(list));
  }
  children.push_back(BlockOf({}));  // an empty child
  auto it = NewMergingIterator(BytewiseComparator(), std::move(children));
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) ASSERT_EQ(m->first, it->key().ToString());
  EXPECT_EQ(model.end(), m);
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) ASSERT_EQ(r->first, it->key().ToString());
  EXPECT_EQ(model.rend(), r);
  // Random walk with direction changes.
  it->Seek("k5");
  auto pos = model.lower_bound("k5");
  for (int step = 0; step < 2000 && it->Valid(); ++step) {
    ASSERT_EQ(pos->first, it->key().ToString());
    if (rnd.OneIn(2)) {
      it->Next();
      ++pos;
      if (pos == model.end()) break;
    } else {
      if (pos == model.begin()) break;
      it->Prev();
      --pos;
    }
  }
}

TEST(MergingIterator, NoChildrenIsEmpty) {
  auto it = NewMergingIterator(BytewiseComparator(), {});
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
}

}  // namespace
}  // namespace tinykv::storage
