#include "tinykv/common/latency_histogram.h"

#include <gtest/gtest.h>

namespace tinykv {
namespace {

using namespace std::chrono_literals;

TEST(LatencyHistogram, EtcdBucketBounds) {
  EXPECT_DOUBLE_EQ(LatencyHistogram::UpperBoundSeconds(0), 0.001);
  EXPECT_DOUBLE_EQ(LatencyHistogram::UpperBoundSeconds(1), 0.002);
  EXPECT_DOUBLE_EQ(LatencyHistogram::UpperBoundSeconds(LatencyHistogram::kBuckets - 1), 8.192);
}

TEST(LatencyHistogram, ObservationsLandInTheBucketWhoseBoundIsAtOrAboveThem) {
  LatencyHistogram h;
  h.Observe(0us);      // bucket 0 (<= 1 ms)
  h.Observe(1000us);   // bucket 0: the bound is inclusive (Prometheus' le)
  h.Observe(1001us);   // bucket 1 (<= 2 ms)
  h.Observe(1500ms);   // bucket 11 (<= 2.048 s)
  h.Observe(10s);      // +Inf
  const auto s = h.Read();
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.counts[0], 2u);
  EXPECT_EQ(s.counts[1], 1u);
  EXPECT_EQ(s.counts[11], 1u);
  EXPECT_EQ(s.counts[LatencyHistogram::kBuckets], 1u);
  EXPECT_EQ(s.sum_micros, 0u + 1000 + 1001 + 1'500'000 + 10'000'000);
}

}  // namespace
}  // namespace tinykv
