#include "tinykv/common/latency_histogram.h"

namespace tinykv {

double LatencyHistogram::UpperBoundSeconds(int i) {
  return 0.001 * static_cast<double>(uint64_t{1} << i);
}

void LatencyHistogram::Observe(std::chrono::microseconds d) {
  const uint64_t us = d.count() < 0 ? 0 : static_cast<uint64_t>(d.count());
  // Bucket i holds (1000 * 2^(i-1), 1000 * 2^i] microseconds.
  int i = 0;
  while (i < kBuckets && us > (uint64_t{1000} << i)) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(us, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::Read() const {
  Snapshot s;
  for (int i = 0; i <= kBuckets; ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tinykv
