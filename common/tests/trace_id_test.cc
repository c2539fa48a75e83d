#include "tinykv/common/trace_id.h"

#include <set>

#include <gtest/gtest.h>

namespace tinykv {
namespace {

TEST(TraceId, FreshIdsAreNonZeroAndDistinct) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t id = NewTraceId();
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(seen.insert(id).second) << "repeated after " << i;
  }
}

TEST(TraceId, FormatsAsSixteenHexDigitsAndParsesBack) {
  EXPECT_EQ(FormatTraceId(0xc0ffee), "0000000000c0ffee");
  EXPECT_EQ(FormatTraceId(~0ULL), "ffffffffffffffff");
  for (uint64_t id :
       std::initializer_list<uint64_t>{1, 0xc0ffee, 0x8000000000000000ULL, ~0ULL, NewTraceId()})
    EXPECT_EQ(ParseTraceId(FormatTraceId(id)), id);
  EXPECT_EQ(ParseTraceId("C0FFEE"), 0xc0ffeeULL);
  for (const char* bad : {"", "0", "0000000000000000", "xyz", "12345678901234567", "-1", "0x12"})
    EXPECT_EQ(ParseTraceId(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace tinykv
