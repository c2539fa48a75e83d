#include "tinykv/common/result.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace tinykv {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("not positive: " + std::to_string(v));
  return v;
}

Result<int> Doubled(int v) {
  TINYKV_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good = ParsePositive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  EXPECT_EQ(good.value(), 3);
  EXPECT_TRUE(good.status().ok());

  Result<int> bad = ParsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.status().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(42), 42);
}

TEST(Result, AssignOrReturnPropagates) {
  EXPECT_EQ(*Doubled(4), 8);
  EXPECT_TRUE(Doubled(0).status().IsInvalidArgument());
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<std::string>> r = std::make_unique<std::string>("hello");
  ASSERT_TRUE(r.ok());
  std::unique_ptr<std::string> p = std::move(r).value();
  EXPECT_EQ(*p, "hello");
}

TEST(Result, ConvertsFromCompatibleType) {
  Result<std::string> r = "literal";
  EXPECT_EQ(*r, "literal");
  EXPECT_EQ(r->size(), 7u);
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> bad = Status::NotFound("nope");
  EXPECT_DEATH((void)bad.value(), "NotFound: nope");
}

TEST(ResultDeathTest, BuildingFromOkStatusAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Result<int> r(Status::OK()), "without a value");
}

}  // namespace
}  // namespace tinykv
