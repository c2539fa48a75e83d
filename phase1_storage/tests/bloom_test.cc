// Bloom filter: no false negatives; false-positive rate near the configured one.
#include <gtest/gtest.h>

#include "bloom.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

std::string Key(int i) { return "key" + std::to_string(i); }

TEST(Bloom, HasNoFalseNegatives) {
  for (int n : {1, 10, 100, 1000, 10000}) {
    BloomFilterBuilder b(10);
    for (int i = 0; i < n; ++i) b.AddKey(Key(i));
    std::string filter;
    b.Finish(&filter);
    for (int i = 0; i < n; ++i) ASSERT_TRUE(BloomKeyMayMatch(Key(i), filter)) << n << " " << i;
  }
}

TEST(Bloom, TenBitsPerKeyGivesAboutOnePercentFalsePositives) {
  constexpr int kKeys = 10000;
  BloomFilterBuilder b(10);
  for (int i = 0; i < kKeys; ++i) b.AddKey(Key(i));
  std::string filter;
  b.Finish(&filter);
  EXPECT_LE(filter.size(), static_cast<size_t>(kKeys * 10 / 8 + 16));
  int false_positives = 0;
  constexpr int kProbes = 100000;
  for (int i = 0; i < kProbes; ++i) {
    if (BloomKeyMayMatch(Key(i + 1000000000), filter)) ++false_positives;
  }
  const double rate = static_cast<double>(false_positives) / kProbes;
  std::printf("false positive rate at 10 bits/key: %.4f\n", rate);
  EXPECT_LT(rate, 0.02);
  EXPECT_GT(rate, 0.001);  // a filter that rejects everything would be broken
}

TEST(Bloom, FewerBitsMeanMoreFalsePositives) {
  auto rate = [](int bits) {
    BloomFilterBuilder b(bits);
    for (int i = 0; i < 5000; ++i) b.AddKey(Key(i));
    std::string filter;
    b.Finish(&filter);
    int fp = 0;
    for (int i = 0; i < 50000; ++i) fp += BloomKeyMayMatch(Key(i + 1000000), filter) ? 1 : 0;
    return fp;
  };
  EXPECT_GT(rate(4), rate(10));
}

TEST(Bloom, MalformedFilterMatchesEverything) {
  EXPECT_TRUE(BloomKeyMayMatch("x", Slice()));
  EXPECT_TRUE(BloomKeyMayMatch("x", Slice("\x00\x00\x00\x00\x00\x00\x00\x00\x7f", 9)));
}

}  // namespace
}  // namespace tinykv::storage
