// tinykv-bench's open-loop arithmetic (bench/open_loop.h) and how a Workload
// applies it (bench/workload.h): intended start times for a rate, and
// latency counted from the intended start when a request is sent late.
// Pure: every time point is made up here, nothing sleeps or reads a clock
// that matters.
#include <gtest/gtest.h>

#include <chrono>

#include "open_loop.h"
#include "workload.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

const Clock::time_point kT0 = Clock::time_point(seconds(1000));

TEST(OpenLoopSchedule, RequestNStartsAtNOverRate) {
  const OpenLoopSchedule s(200, kT0);
  EXPECT_EQ(s.IntendedStart(0), kT0);
  EXPECT_EQ(s.IntendedStart(1), kT0 + milliseconds(5));
  EXPECT_EQ(s.IntendedStart(200), kT0 + seconds(1));
  EXPECT_EQ(s.IntendedStart(399), kT0 + milliseconds(1995));
}

TEST(OpenLoopSchedule, ComputedFromNSoRoundingDoesNotAccumulate) {
  const OpenLoopSchedule s(3, kT0);  // 1/3 s is not a whole number of ns
  EXPECT_EQ(s.IntendedStart(1), kT0 + nanoseconds(333333333));
  EXPECT_EQ(s.IntendedStart(2), kT0 + nanoseconds(666666667));
  EXPECT_EQ(s.IntendedStart(3), kT0 + seconds(1));
  EXPECT_EQ(s.IntendedStart(3'000'000), kT0 + seconds(1'000'000));
}

TEST(Lateness, CountsOnlyDelaysAboveTheThresholdAndKeepsTheLargest) {
  Lateness l;
  l.Add(kT0, kT0 - milliseconds(3));                 // early: the client waited
  l.Add(kT0, kT0 + kLateThreshold);                  // timer jitter, not late
  l.Add(kT0, kT0 + milliseconds(7));
  Lateness other;
  other.Add(kT0, kT0 + milliseconds(40));
  l.Merge(other);
  EXPECT_EQ(l.late, 2u);
  EXPECT_EQ(l.max, milliseconds(40));
}

WorkloadOptions OpenLoop(double rate, int clients, uint64_t total) {
  WorkloadOptions o;
  o.op = OpKind::kPut;
  o.clients = clients;
  o.total = total;
  o.rate = rate;
  return o;
}

// The rate is spread over the clients (and so over the threads they run on)
// by the shared request counter: whichever client takes the next request
// gets the next slot of the schedule.
TEST(OpenLoopWorkload, TheNthRequestTakenGetsTheNthSlotWhateverTheClient) {
  auto w = Workload::Measured(OpenLoop(1000, 4, 6));
  ASSERT_TRUE(w->open_loop());
  w->Start(kT0);
  Request r;
  const int order[] = {2, 0, 3, 3, 1, 0};  // clients as they become free
  for (int n = 0; n < 6; ++n) {
    ASSERT_TRUE(w->Next(order[n], &r));
    EXPECT_EQ(r.intended, kT0 + milliseconds(n)) << "request " << n;
  }
  EXPECT_FALSE(w->Next(1, &r));  // total reached
}

// The point of the mode: a request that could only be sent late (every
// client busy, a stalled server) has its latency counted from its intended
// start, the wait included. Negative control: with Begin returning `now`
// (what a closed loop measures) the latency below is 2 ms, not 32 ms, and
// this test fails.
TEST(OpenLoopWorkload, LatencyOfADelayedRequestCountsFromItsIntendedStart) {
  auto w = Workload::Measured(OpenLoop(100, 1, 2));  // one in flight, a slot every 10 ms
  w->Start(kT0);
  Request r;
  ASSERT_TRUE(w->Next(0, &r));  // intended kT0, sent on time, answered after 40 ms
  Clock::time_point from = w->Begin(0, r, r.intended);
  EXPECT_EQ(from, kT0);
  w->Record(0, (kT0 + milliseconds(40)) - from, Status::OK());
  ASSERT_TRUE(w->Next(0, &r));  // intended kT0 + 10 ms, but the client was busy until 40 ms
  EXPECT_EQ(r.intended, kT0 + milliseconds(10));
  from = w->Begin(0, r, kT0 + milliseconds(40));
  EXPECT_EQ(from, kT0 + milliseconds(10));
  w->Record(0, (kT0 + milliseconds(42)) - from, Status::OK());

  const Outcome out = w->Finish();
  ASSERT_EQ(out.latency_ns.size(), 2u);
  EXPECT_EQ(out.latency_ns[0], static_cast<uint64_t>(nanoseconds(milliseconds(32)).count()));
  EXPECT_EQ(out.latency_ns[1], static_cast<uint64_t>(nanoseconds(milliseconds(40)).count()));
  EXPECT_EQ(out.lateness.late, 1u);
  EXPECT_EQ(out.lateness.max, milliseconds(30));
}

TEST(OpenLoopWorkload, ClosedLoopAndPreloadIgnoreTheSchedule) {
  auto closed = Workload::Measured(OpenLoop(0, 2, 3));
  EXPECT_FALSE(closed->open_loop());
  auto preload = Workload::Preload(OpenLoop(500, 2, 3));
  EXPECT_FALSE(preload->open_loop());
  closed->Start(kT0);
  Request r;
  ASSERT_TRUE(closed->Next(0, &r));
  const Clock::time_point now = kT0 + seconds(5);
  EXPECT_EQ(closed->Begin(0, r, now), now);  // latency from the send
  EXPECT_EQ(closed->Finish().lateness.late, 0u);
}

}  // namespace
}  // namespace tinykv::bench
