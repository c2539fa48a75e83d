// LatencyHistogram: a lock-free histogram of durations with etcd's bucket
// layout for disk latencies -- prometheus.ExponentialBuckets(0.001, 2, 14),
// upper bounds 1 ms, 2 ms, 4 ms, ... 8.192 s, plus +Inf -- as etcd uses for
// etcd_disk_wal_fsync_duration_seconds and
// etcd_disk_backend_commit_duration_seconds.
//
// The layer that times an operation owns one (no Prometheus dependency
// below phase 6); tinykv-server's /metrics reads a Snapshot at scrape time
// and exposes it as a Prometheus histogram (phase6_prod/doc/metrics.md).
//
// Thread safety: Observe and Read from any thread (relaxed atomics: a
// Snapshot taken during an Observe may count it in `counts` but not yet in
// `sum_micros`; scrapes tolerate that).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tinykv {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 14;  // finite upper bounds; one more for +Inf

  // Upper bound of bucket i (0 <= i < kBuckets), in seconds: 0.001 * 2^i.
  static double UpperBoundSeconds(int i);

  struct Snapshot {
    // counts[i]: observations in (bound[i-1], bound[i]]; counts[kBuckets]:
    // above the last bound. Not cumulative.
    std::array<uint64_t, kBuckets + 1> counts{};
    uint64_t count = 0;
    uint64_t sum_micros = 0;
  };

  void Observe(std::chrono::microseconds d);
  Snapshot Read() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets + 1> counts_{};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace tinykv
