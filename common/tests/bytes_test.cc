#include "tinykv/common/bytes.h"

#include <algorithm>
#include <cstring>
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

// compare() takes an inline 8-bytes-at-a-time path for inputs up to 64
// bytes and memcmp beyond: check both against memcmp's order for every
// length around the word and path boundaries, at every alignment, with the
// first difference in every position, a second one right after it, and
// high-bit bytes.
TEST(Slice, CompareAgreesWithMemcmpAcrossLengthsAndAlignments) {
  auto sign = [](int v) { return (v > 0) - (v < 0); };
  auto reference = [&](const std::string& a, const std::string& b) {
    const size_t n = std::min(a.size(), b.size());
    const int r = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
    if (r != 0) return sign(r);
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
  };
  char abuf[96];
  char bbuf[96];
  for (size_t len = 0; len <= 72; ++len) {
    for (size_t offset = 0; offset < 8; ++offset) {
      for (size_t diff = 0; diff <= len; ++diff) {  // diff == len: equal
        std::string a(len, '\0');
        for (size_t i = 0; i < len; ++i) a[i] = static_cast<char>((i * 37 + len) & 0xff);
        std::string b = a;
        // Flip the high bit at diff and, if there is one, the next byte's too:
        // the later difference must not decide (it does if words are compared
        // in the wrong byte order).
        if (diff < len) b[diff] = static_cast<char>(b[diff] ^ 0x80);
        if (diff + 1 < len) b[diff + 1] = static_cast<char>(b[diff + 1] ^ 0x80);
        std::memcpy(abuf + offset, a.data(), len);
        std::memcpy(bbuf + 7 - offset, b.data(), len);
        const Slice sa(abuf + offset, len);
        const Slice sb(bbuf + 7 - offset, len);
        ASSERT_EQ(reference(a, b), sign(sa.compare(sb))) << "len=" << len << " diff=" << diff;
        ASSERT_EQ(reference(b, a), sign(sb.compare(sa))) << "len=" << len << " diff=" << diff;
        // A proper prefix sorts first.
        if (len > 0) {
          ASSERT_LT(Slice(abuf + offset, len - 1).compare(sa), 0) << "len=" << len;
        }
      }
    }
  }
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
