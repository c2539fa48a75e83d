// Open-loop scheduling for tinykv-bench's --rate: when each request is meant
// to start, and how late it actually started.
//
// At `rate` requests per second in total, request n of the run (n = 0, 1, ...,
// in the order the logical clients take them from the shared counter) is
// intended to start at start + n / rate, whichever client and thread takes
// it: the rate is spread over the clients and threads by the schedule, not
// by a fixed client-to-slot mapping, so a client that finishes early takes
// the next slot. A client that takes request n before its intended start
// waits for it; one that takes it after (every client was busy: --clients
// bounds the requests in flight) sends it at once. Either way its latency
// is measured from the intended start, so a stalled server shows up as
// latency, not as a lower rate (no coordinated omission).
//
// Pure arithmetic over time points: no clock is read here.
#pragma once

#include <chrono>
#include <cstdint>

namespace tinykv::bench {

class OpenLoopSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // rate > 0, in requests per second.
  OpenLoopSchedule(double rate, Clock::time_point start) : rate_(rate), start_(start) {}

  // The intended start of request n: start + n / rate (rounded to the
  // nanosecond, computed from n, so errors do not accumulate).
  Clock::time_point IntendedStart(uint64_t n) const;

  double rate() const { return rate_; }
  Clock::time_point start() const { return start_; }

 private:
  double rate_;
  Clock::time_point start_;
};

// A request counts as late when it was sent more than this after its
// intended start (timer and wake-up jitter below it is not lateness).
inline constexpr std::chrono::nanoseconds kLateThreshold = std::chrono::milliseconds(1);

// How late the requests of one client started.
struct Lateness {
  uint64_t late = 0;                   // requests sent > kLateThreshold after their intended start
  std::chrono::nanoseconds max{0};     // the largest delay seen (0 if all on time or early)

  // Records one request intended at `intended`, sent at `sent`.
  void Add(OpenLoopSchedule::Clock::time_point intended,
           OpenLoopSchedule::Clock::time_point sent);
  void Merge(const Lateness& other);
};

}  // namespace tinykv::bench
