#include "tinykv/common/bytes.h"

#include <string>

#include <gtest/gtest.h>

namespace tinykv {
namespace {

TEST(Slice, ComparesBytesAsUnsigned) {
  // '\xff' must sort after 'a' even though char may be signed.
  EXPECT_LT(Slice("a"), Slice("\xff"));
  EXPECT_LT(Slice(""), Slice(std::string(1, '\0')));
  EXPECT_LT(Slice("ab"), Slice("abc"));
  EXPECT_EQ(Slice("abc").compare(Slice("abc")), 0);
  EXPECT_GT(Slice("abd").compare(Slice("abc")), 0);
}

TEST(Slice, HoldsEmbeddedZeros) {
  const std::string s("a\0b", 3);
  Slice sl(s);
  EXPECT_EQ(sl.size(), 3u);
  EXPECT_EQ(sl.ToString(), s);
  EXPECT_FALSE(sl == Slice("a"));
  EXPECT_EQ(sl.ToEscaped(), "a\\x00b");
  EXPECT_EQ(sl.ToHex(), "610062");
}

TEST(Slice, PrefixOperations) {
  Slice s("hello world");
  EXPECT_TRUE(s.starts_with("hello"));
  EXPECT_TRUE(s.starts_with(""));
  EXPECT_FALSE(s.starts_with("world"));
  s.remove_prefix(6);
  EXPECT_EQ(s.view(), "world");
  s.remove_suffix(2);
  EXPECT_EQ(s.ToString(), "wor");
}

TEST(Slice, DefaultIsEmptyAndValid) {
  Slice s;
  EXPECT_TRUE(s.empty());
  EXPECT_NE(s.data(), nullptr);
  EXPECT_EQ(s, Slice(""));
}

}  // namespace
}  // namespace tinykv
