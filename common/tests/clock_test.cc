#include "tinykv/common/clock.h"

#include <gtest/gtest.h>

namespace tinykv {
namespace {

TEST(Clock, ManualClockMovesOnlyWhenTold) {
  ManualClock c(100);
  EXPECT_EQ(c.NowMicros(), 100u);
  EXPECT_EQ(c.NowMicros(), 100u);
  c.Advance(50);
  EXPECT_EQ(c.NowMicros(), 150u);
  c.SleepForMicros(2000);
  EXPECT_EQ(c.NowMillis(), 2u);
  c.Set(7);
  EXPECT_EQ(c.NowMicros(), 7u);
}

TEST(Clock, RealClockIsMonotonic) {
  Clock* c = Clock::Real();
  uint64_t prev = c->NowMicros();
  for (int i = 0; i < 1000; ++i) {
    const uint64_t now = c->NowMicros();
    ASSERT_GE(now, prev);
    prev = now;
  }
  const uint64_t before = c->NowMicros();
  c->SleepForMicros(2000);
  EXPECT_GE(c->NowMicros() - before, 2000u);
}

}  // namespace
}  // namespace tinykv
