// Data blocks: prefix compression and restart points round-trip; malformed
// blocks fail cleanly.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "block.h"
#include "block_builder.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

Block MakeBlock(const std::string& data) {
  BlockContents c;
  c.heap.reset(new char[data.size()]);
  std::memcpy(c.heap.get(), data.data(), data.size());
  c.data = Slice(c.heap.get(), data.size());
  return Block(std::move(c));
}

class BlockRoundTrip : public ::testing::TestWithParam<int> {};

TEST_P(BlockRoundTrip, IteratesSeeksAndWalksBackwards) {
  const int restart_interval = GetParam();
  Random rnd(testing::SeedForTest());
  std::map<std::string, std::string> model;
  for (int i = 0; i < 500; ++i) {
    model[testing::RandomKey(&rnd, 12)] = rnd.Bytes(rnd.Uniform(40));
  }
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : model) builder.Add(k, v);
  const std::string data = builder.Finish().ToString();
  Block block = MakeBlock(data);
  auto it = block.NewIterator(BytewiseComparator());

  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_EQ(m->first, it->key().ToString());
    ASSERT_EQ(m->second, it->value().ToString());
  }
  EXPECT_EQ(model.end(), m);
  auto r = model.rbegin();
  for (it->SeekToLast(); it->Valid(); it->Prev(), ++r) {
    ASSERT_EQ(r->first, it->key().ToString());
  }
  EXPECT_EQ(model.rend(), r);
  for (int i = 0; i < 200; ++i) {
    const std::string target = testing::RandomKey(&rnd, 12);
    it->Seek(target);
    auto expected = model.lower_bound(target);
    if (expected == model.end()) {
      EXPECT_FALSE(it->Valid());
    } else {
      ASSERT_TRUE(it->Valid());
      EXPECT_EQ(expected->first, it->key().ToString());
    }
  }
  EXPECT_OK(it->status());
}

INSTANTIATE_TEST_SUITE_P(RestartIntervals, BlockRoundTrip, ::testing::Values(1, 2, 16, 1000));

TEST(Block, PrefixCompressionShrinksSharedPrefixes) {
  BlockBuilder builder(16);
  for (int i = 0; i < 100; ++i) {
    builder.Add("a-long-common-prefix-" + std::to_string(1000 + i), "v");
  }
  // 100 keys of 25 bytes uncompressed would be 2500 bytes of keys alone.
  EXPECT_LT(builder.Finish().size(), 1200u);
}

TEST(Block, MalformedBlocksReportCorruptionWithoutCrashing) {
  // Too short, an absurd restart count, and garbage entries.
  for (const std::string& data :
       {std::string("ab"), std::string("\xff\xff\xff\x7f", 4),
        std::string("\x05\x80\x80\x80\x80\x80\x00\x00\x00\x00\x01\x00\x00\x00", 14)}) {
    Block block = MakeBlock(data);
    auto it = block.NewIterator(BytewiseComparator());
    it->SeekToFirst();
    while (it->Valid()) it->Next();
    it->Seek("x");
    it->SeekToLast();
    EXPECT_FALSE(it->Valid());
  }
  Block bad = MakeBlock(std::string("\xff\xff\xff\x7f", 4));
  auto it = bad.NewIterator(BytewiseComparator());
  EXPECT_TRUE(it->status().IsCorruption());
}

TEST(Block, EmptyBlockHasNoEntries) {
  BlockBuilder builder(16);
  Block block = MakeBlock(builder.Finish().ToString());
  auto it = block.NewIterator(BytewiseComparator());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
}

}  // namespace
}  // namespace tinykv::storage
