// MergingIterator: a sorted union, with direction changes.
#include <gtest/gtest.h>

#include <cstdio>
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

// A block iterator over keys, each with value value_prefix + key.
std::unique_ptr<Iterator> BlockOf(const std::vector<std::string>& keys,
                                  const std::string& value_prefix = "v") {
  BlockBuilder b(4);
  for (const auto& k : keys) b.Add(k, value_prefix + k);
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

// Forward iteration keeps the children in a heap: exercise heaps of every
// size up to 20 children (several levels deep, children running dry at
// different times) with random seeks and walks in both directions.
TEST(MergingIterator, ManyChildrenMatchASortedModel) {
  Random rnd(testing::SeedForTest());
  for (int num_children = 1; num_children <= 20; ++num_children) {
    std::map<std::string, int> model;
    std::vector<std::unique_ptr<Iterator>> children;
    for (int c = 0; c < num_children; ++c) {
      std::map<std::string, int> keys;
      const int n = static_cast<int>(rnd.Uniform(60));  // some children are empty
      for (int i = 0; i < n; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%05d-%02d", static_cast<int>(rnd.Uniform(3000)), c);
        keys[buf] = c;
      }
      std::vector<std::string> list;
      for (const auto& [k, v] : keys) {
        list.push_back(k);
        model[k] = v;
      }
      children.push_back(BlockOf(list));
    }
    auto it = NewMergingIterator(BytewiseComparator(), std::move(children));
    auto m = model.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(model.end(), m) << "children=" << num_children;
      ASSERT_EQ(m->first, it->key().ToString()) << "children=" << num_children;
    }
    ASSERT_EQ(model.end(), m) << "children=" << num_children;
    for (int round = 0; round < 20; ++round) {
      char target[32];
      std::snprintf(target, sizeof(target), "%05d", static_cast<int>(rnd.Uniform(3100)));
      it->Seek(target);
      auto pos = model.lower_bound(target);
      for (int step = 0; step < 200; ++step) {
        ASSERT_EQ(pos != model.end(), it->Valid()) << "children=" << num_children;
        if (pos == model.end()) break;
        ASSERT_EQ(pos->first, it->key().ToString()) << "children=" << num_children;
        if (rnd.Uniform(4) != 0) {  // mostly forward, as scans are
          it->Next();
          ++pos;
        } else {
          if (pos == model.begin()) break;
          it->Prev();
          --pos;
        }
      }
    }
  }
}

// With equal keys in several children (not possible for internal keys, but
// allowed by the interface) forward iteration yields them all, earlier
// children first, as the linear scan it replaced did.
TEST(MergingIterator, EqualKeysComeOutInChildOrder) {
  std::vector<std::unique_ptr<Iterator>> children;
  for (int c = 0; c < 7; ++c) {
    children.push_back(BlockOf({"a", "b" + std::to_string(6 - c), "c"}, std::to_string(c)));
  }
  auto it = NewMergingIterator(BytewiseComparator(), std::move(children));
  std::string out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) out += it->value().ToString() + " ";
  EXPECT_EQ("0a 1a 2a 3a 4a 5a 6a 6b0 5b1 4b2 3b3 2b4 1b5 0b6 0c 1c 2c 3c 4c 5c 6c ", out);
}

TEST(MergingIterator, NoChildrenIsEmpty) {
  auto it = NewMergingIterator(BytewiseComparator(), {});
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
}

}  // namespace
}  // namespace tinykv::storage
