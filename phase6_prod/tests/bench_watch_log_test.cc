// tinykv-bench's watch bookkeeping (bench/watch_log.h, and the watched puts
// of bench/workload.h): keys of their own per put, send and ack times kept
// by put, arrivals matched with them. Pure: no cluster; times are made up.
#include <gtest/gtest.h>

#include <chrono>

#include "watch_log.h"
#include "workload.h"

namespace tinykv::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A watched put workload numbers its keys under the prefix, one per put,
// and keeps when each was sent and acknowledged (a failed one: never).
TEST(WatchedPuts, KeysOfTheirOwnAndTimesByPut) {
  WorkloadOptions o;
  o.op = OpKind::kPut;
  o.watched = true;
  o.key_prefix = "p/";
  o.key_size = 4;
  o.total = 3;
  auto w = Workload::Measured(o);
  const Clock::time_point t0 = Clock::now();
  Request r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w->Next(0, &r));
    EXPECT_EQ(r.key, "p/000" + std::to_string(i));
    EXPECT_EQ(r.index, static_cast<uint64_t>(i));
    w->Begin(0, r, t0 + milliseconds(10 * i));
    w->Record(0, milliseconds(5), i == 1 ? Status::Timeout("lost") : Status::OK());
  }
  EXPECT_FALSE(w->Next(0, &r));
  const Outcome out = w->Finish();
  ASSERT_EQ(out.sent_ns.size(), 3u);
  EXPECT_EQ(out.sent_ns[2], SteadyNs(t0 + milliseconds(20)));
  EXPECT_EQ(out.acked_ns[0], SteadyNs(t0 + milliseconds(5)));
  EXPECT_EQ(out.acked_ns[1], 0);  // failed
  EXPECT_EQ(out.acked_ns[2], SteadyNs(t0 + milliseconds(25)));
}

// Every arrival is matched with its put: latency after the ack (0 when the
// event beat it, counted early) and after the send; a second arrival of a
// put is a duplicate, a key no put wrote is foreign, an acknowledged put a
// watcher never got is missing.
TEST(WatchLog, MatchesArrivalsWithTheirPuts) {
  const Clock::time_point t0 = Clock::now();
  Outcome puts;
  puts.sent_ns = {SteadyNs(t0), SteadyNs(t0 + milliseconds(10)), SteadyNs(t0 + milliseconds(20))};
  puts.acked_ns = {SteadyNs(t0 + milliseconds(4)), SteadyNs(t0 + milliseconds(14)),
                   SteadyNs(t0 + milliseconds(24))};
  WatchLog log("p/", 4, 2, 3);
  log.Created(0);
  log.Created(1);
  EXPECT_EQ(log.created(), 2);
  // Watcher 0: every put, the second one before its ack.
  log.Event(0, "p/0000", t0 + milliseconds(5));
  log.Event(0, "p/0001", t0 + milliseconds(12));
  log.Event(0, "p/0002", t0 + milliseconds(27));
  // Watcher 1: put 0 twice, put 2 never, and a stranger.
  log.Event(1, "p/0000", t0 + milliseconds(6));
  log.Event(1, "p/0000", t0 + milliseconds(7));
  log.Event(1, "p/0001", t0 + milliseconds(16));
  log.Event(1, "q/0001", t0 + milliseconds(16));
  EXPECT_EQ(log.delivered(), 7u);

  const WatchOutcome w = log.Finish(puts);
  EXPECT_EQ(w.events, 5u);
  EXPECT_EQ(w.duplicates, 1u);
  EXPECT_EQ(w.foreign, 1u);
  EXPECT_EQ(w.missing, 1u);
  EXPECT_EQ(w.early, 1u);
  EXPECT_EQ(w.last_event_ns, SteadyNs(t0 + milliseconds(27)));
  // After the ack: 1, 0 (early), 3, 2, 2 ms; after the send: 5, 2, 7, 6, 6 ms.
  EXPECT_EQ(w.after_ack.latency_ns,
            (std::vector<uint64_t>{0, 1000000, 2000000, 2000000, 3000000}));
  EXPECT_EQ(w.after_send.latency_ns,
            (std::vector<uint64_t>{2000000, 5000000, 6000000, 6000000, 7000000}));
  EXPECT_DOUBLE_EQ(w.after_ack.QuantileMs(1.0), 3.0);
}

// A put that failed (no ack) but applied still counts as delivered, with a
// latency after its send only; it is not missing where it did not arrive.
TEST(WatchLog, AFailedPutHasNoAckLatency) {
  const Clock::time_point t0 = Clock::now();
  Outcome puts;
  puts.sent_ns = {SteadyNs(t0), SteadyNs(t0)};
  puts.acked_ns = {0, SteadyNs(t0 + milliseconds(1))};
  WatchLog log("p/", 1, 1, 2);
  log.Event(0, "p/0", t0 + milliseconds(3));
  const WatchOutcome w = log.Finish(puts);
  EXPECT_EQ(w.events, 1u);
  EXPECT_EQ(w.missing, 1u);  // put 1 was acknowledged and never arrived
  EXPECT_TRUE(w.after_ack.latency_ns.empty());
  EXPECT_EQ(w.after_send.latency_ns, (std::vector<uint64_t>{3000000}));
}

// Lease keep-alives: client c renews the lease it was given, every time.
TEST(LeaseWorkload, EachClientRenewsItsOwnLease) {
  WorkloadOptions o;
  o.op = OpKind::kLeaseKeepAlive;
  o.clients = 2;
  o.total = 6;
  auto w = Workload::Measured(o);
  w->set_leases({11, 22});
  Request r;
  int n = 0;
  while (w->Next(n % 2, &r)) {
    EXPECT_EQ(r.lease, n % 2 == 0 ? 11u : 22u);
    EXPECT_FALSE(r.read);
    ++n;
  }
  EXPECT_EQ(n, 6);
}

}  // namespace
}  // namespace tinykv::bench
