#include "tinykv/common/duration.h"

#include <gtest/gtest.h>

namespace tinykv {
namespace {

using namespace std::chrono_literals;

TEST(Duration, UnitsAndBareNumbers) {
  EXPECT_EQ(ParseDuration("500ms"), 500ms);
  EXPECT_EQ(ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(ParseDuration("2m"), 120000ms);
  EXPECT_EQ(ParseDuration("72h"), std::chrono::hours(72));
  EXPECT_EQ(ParseDuration("100us"), 0ms);  // rounded to the millisecond
  EXPECT_EQ(ParseDuration("3"), 3000ms);   // bare: seconds by default
  EXPECT_EQ(ParseDuration("3", std::chrono::hours(1)), std::chrono::hours(3));
  EXPECT_EQ(ParseDuration("0", std::chrono::hours(1)), 0ms);
}

TEST(Duration, RefusesWhatIsNotOneNumberAndOneUnit) {
  for (const char* bad : {"", "fast", "2 s", "1.2.3s", "s", "5d", "-1s", "1e20h"})
    EXPECT_EQ(ParseDuration(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace tinykv
