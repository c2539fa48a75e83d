#include "tinykv/common/coding.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv {
namespace {

TEST(Coding, Fixed32And64AreLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(s.substr(0, 4), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(s.substr(4), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  Slice in(s);
  uint32_t a;
  uint64_t b;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(a, 0x04030201u);
  EXPECT_EQ(b, 0x0807060504030201ull);
  EXPECT_FALSE(GetFixed32(&in, &a));
}

TEST(Coding, VarintKnownEncodings) {
  std::string s;
  PutVarint32(&s, 300);
  EXPECT_EQ(s, std::string("\xac\x02", 2));
  s.clear();
  PutVarint64(&s, 0);
  EXPECT_EQ(s, std::string("\x00", 1));
  s.clear();
  PutVarint64(&s, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(s.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(s.back()), 0x01);
}

std::vector<uint64_t> EdgeValues() {
  std::vector<uint64_t> v = {0, 1, 127, 128, 255, 256, 16383, 16384};
  for (int bits = 7; bits < 64; bits += 7) {
    v.push_back((uint64_t{1} << bits) - 1);
    v.push_back(uint64_t{1} << bits);
  }
  for (int bits = 0; bits < 64; ++bits) v.push_back(uint64_t{1} << bits);
  v.push_back(std::numeric_limits<uint32_t>::max());
  v.push_back(uint64_t{std::numeric_limits<uint32_t>::max()} + 1);
  v.push_back(std::numeric_limits<uint64_t>::max());
  return v;
}

TEST(Coding, Varint64RoundTripsEdgeValues) {
  std::string s;
  const auto values = EdgeValues();
  for (uint64_t v : values) PutVarint64(&s, v);
  Slice in(s);
  for (uint64_t want : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, want);
    EXPECT_EQ(VarintLength(want), [&] { std::string t; PutVarint64(&t, want); return static_cast<int>(t.size()); }());
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, Varint32RoundTripsEdgeValues) {
  std::string s;
  std::vector<uint32_t> values;
  for (uint64_t v : EdgeValues()) {
    if (v <= std::numeric_limits<uint32_t>::max()) values.push_back(static_cast<uint32_t>(v));
  }
  for (uint32_t v : values) PutVarint32(&s, v);
  Slice in(s);
  for (uint32_t want : values) {
    uint32_t got;
    ASSERT_TRUE(GetVarint32(&in, &got));
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, TruncatedVarintIsRejected) {
  std::string s;
  PutVarint64(&s, std::numeric_limits<uint64_t>::max());
  for (size_t len = 0; len < s.size(); ++len) {
    Slice in(s.data(), len);
    uint64_t v;
    EXPECT_FALSE(GetVarint64(&in, &v)) << "len=" << len;
  }
}

TEST(Coding, OverlongVarintIsRejected) {
  // Eleven continuation bytes: longer than any uint64 encoding.
  const std::string too_long(11, '\x80');
  Slice a(too_long);
  uint64_t v64;
  EXPECT_FALSE(GetVarint64(&a, &v64));
  // Ten bytes whose last carries more than the one remaining bit.
  std::string overflow(9, '\xff');
  overflow.push_back('\x02');
  Slice b(overflow);
  EXPECT_FALSE(GetVarint64(&b, &v64));
  // A varint32 that needs more than 32 bits.
  const std::string big32("\xff\xff\xff\xff\x10", 5);
  Slice c(big32);
  uint32_t v32;
  EXPECT_FALSE(GetVarint32(&c, &v32));
}

TEST(Coding, LengthPrefixedSlices) {
  std::string s;
  PutLengthPrefixedSlice(&s, "");
  PutLengthPrefixedSlice(&s, "foo");
  PutLengthPrefixedSlice(&s, std::string(200, '\xff'));
  Slice in(s), out;
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out.ToString(), "");
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out.ToString(), "foo");
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out.ToString(), std::string(200, '\xff'));
  EXPECT_FALSE(GetLengthPrefixedSlice(&in, &out));
  // A length that claims more bytes than remain.
  std::string lie;
  PutVarint32(&lie, 10);
  lie += "abc";
  Slice l(lie);
  EXPECT_FALSE(GetLengthPrefixedSlice(&l, &out));
}

TEST(Coding, RandomRoundTrips) {
  Random rnd(testing::SeedForTest());
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rnd.Skewed(64);
    std::string s;
    PutVarint64(&s, v);
    Slice in(s);
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    ASSERT_EQ(got, v);
  }
}

}  // namespace
}  // namespace tinykv
