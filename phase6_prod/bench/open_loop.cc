// Open-loop scheduling arithmetic (open_loop.h).
#include "open_loop.h"

#include <algorithm>
#include <cmath>

namespace tinykv::bench {

OpenLoopSchedule::Clock::time_point OpenLoopSchedule::IntendedStart(uint64_t n) const {
  const long double ns = static_cast<long double>(n) * 1e9L / static_cast<long double>(rate_);
  return start_ + std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
}

void Lateness::Add(OpenLoopSchedule::Clock::time_point intended,
                   OpenLoopSchedule::Clock::time_point sent) {
  const auto delay = sent - intended;
  if (delay > kLateThreshold) late++;
  max = std::max(max, std::chrono::duration_cast<std::chrono::nanoseconds>(delay));
}

void Lateness::Merge(const Lateness& other) {
  late += other.late;
  max = std::max(max, other.max);
}

}  // namespace tinykv::bench
