// Backoff with full jitter, and which failures may be retried.
#include "tinykv/net/retry.h"

#include <gtest/gtest.h>

#include "tinykv/testing/test_util.h"

namespace tinykv::net {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(Backoff, StaysWithinTheExponentialCeiling) {
  RetryPolicy p{10, milliseconds(10), milliseconds(250)};
  Random rnd(::tinykv::testing::SeedForTest());
  for (int retry = 1; retry <= 8; ++retry) {
    const int64_t ceiling_us = std::min<int64_t>(250000, 10000LL << (retry - 1));
    for (int i = 0; i < 200; ++i) {
      auto d = BackoffDelay(p, retry, &rnd);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d.count(), ceiling_us) << "retry " << retry;
    }
  }
}

TEST(Backoff, IsFullyJitteredNotConstant) {
  RetryPolicy p{10, milliseconds(100), milliseconds(1000)};
  Random rnd(::tinykv::testing::SeedForTest());
  int64_t lo = INT64_MAX, hi = 0;
  for (int i = 0; i < 500; ++i) {
    const int64_t d = BackoffDelay(p, 3, &rnd).count();  // ceiling 400 ms
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, 100000);  // full jitter reaches well below half the ceiling
  EXPECT_GT(hi, 300000);
}

TEST(RetryRules, OnlyUnavailableIsRetriedAndOnlyWhenSafe) {
  const Status down = Status::Unavailable("connection lost");
  EXPECT_TRUE(ShouldRetry(down, /*reached_server=*/false, /*idempotent=*/false));
  EXPECT_TRUE(ShouldRetry(down, true, true));
  EXPECT_FALSE(ShouldRetry(down, true, false));  // a write that may have executed
  EXPECT_FALSE(ShouldRetry(Status::Timeout("deadline"), false, true));
  EXPECT_FALSE(ShouldRetry(Status::Cancelled("cancelled"), false, true));
  EXPECT_FALSE(ShouldRetry(Status::NotFound("k"), false, true));
  EXPECT_FALSE(ShouldRetry(Status::OK(), false, true));
}

}  // namespace
}  // namespace tinykv::net
