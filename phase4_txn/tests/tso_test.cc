// The timestamp oracle: strictly increasing across windows, leader changes
// and clocks that stand still or go back; batched reservations; and a real
// 3-replica group whose oracle leader is killed and restarted repeatedly.
#include "tinykv/txn/tso.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "mvcc_group.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {
namespace {

using testing::MvccGroup;
using ::tinykv::testing::TempDir;
using namespace std::chrono_literals;

// The replicated mark without Raft: reservations apply in call order, each
// in the term the fake "leader" has now.
struct FakeGroup {
  uint64_t reserved = 0;
  uint64_t term = 1;
  int calls = 0;
  bool fail = false;
  TsoBackend Backend() {
    TsoBackend b;
    b.reserve = [this](uint64_t upto) -> Result<TxnCommandResult> {
      ++calls;
      if (fail) return Status::Timeout("reservation lost");
      TxnCommandResult r;
      r.prev_reserved = reserved;
      reserved = std::max(reserved, upto);
      r.reserved = reserved;
      r.term = term;
      return r;
    };
    b.leader_term = [this] { return term; };
    return b;
  }
};

TEST(Tso, HandsOutIncreasingHybridTimestampsFromOneWindow) {
  ManualClock clock(1'000'000);  // 1000 ms
  FakeGroup g;
  Tso tso(TsoOptions{&clock, 3000, 1000}, g.Backend());
  uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t ts = tso.GetTimestamp().value();
    EXPECT_GT(ts, last);
    EXPECT_LE(ts, g.reserved);  // never above the persisted mark
    last = ts;
  }
  // The clock stood still: the logical part ordered them, one reservation served all.
  EXPECT_EQ(PhysicalMs(last), 1000u);
  EXPECT_EQ(LogicalOf(last), 999u);
  EXPECT_EQ(g.calls, 1);
}

TEST(Tso, ABatchIsConsecutiveAndTheClockMovesThePhysicalPart) {
  ManualClock clock(1'000'000);
  FakeGroup g;
  Tso tso(TsoOptions{&clock, 3000, 1000}, g.Backend());
  const uint64_t first = tso.GetTimestamps(100).value();
  const uint64_t next = tso.GetTimestamp().value();
  EXPECT_EQ(next, first + 100);
  clock.Advance(5'000);  // 5 ms
  EXPECT_EQ(tso.GetTimestamp().value(), ComposeTs(1005, 0));
}

TEST(Tso, ReservesTheNextWindowBeforeThisOneRunsOut) {
  ManualClock clock(1'000'000);
  FakeGroup g;
  Tso tso(TsoOptions{&clock, 3000, 1000}, g.Backend());
  ASSERT_OK(tso.GetTimestamp());
  ASSERT_EQ(g.calls, 1);
  const uint64_t first_mark = g.reserved;  // about 1000 + 3000 ms
  clock.Advance(2'500'000);                // 2.5 s: less than 1 s of the window left
  ASSERT_OK(tso.GetTimestamp());
  EXPECT_EQ(g.calls, 2);
  EXPECT_GT(g.reserved, first_mark);
  // While the renewal fails, the rest of the window still serves ...
  g.fail = true;
  clock.Advance(2'000'000);  // 5.5 s: the second window (to 7 s) has 1.5 s left: no renewal due
  EXPECT_OK(tso.GetTimestamp());
  clock.Advance(2'600'000);  // 7.1 s: past it
  EXPECT_TRUE(tso.GetTimestamp().status().IsTimeout());
  // ... and nothing above the mark is ever handed out.
  g.fail = false;
  const uint64_t ts = tso.GetTimestamp().value();
  EXPECT_LE(ts, g.reserved);
}

// The property a restart or a leader change relies on: a new oracle (or one
// whose term moved) starts above everything reserved before, even with a
// clock far behind. Negative control: without `last_ = max(last_,
// prev_reserved)` in Tso::Reserve this fails (the new leader hands out
// timestamps from its own clock, below the old ones).
TEST(Tso, ANewLeaderStartsAboveThePersistedReservationWhateverItsClock) {
  FakeGroup g;
  ManualClock fast(50'000'000);  // 50 s
  uint64_t old_max = 0;
  {
    Tso old_leader(TsoOptions{&fast, 3000, 1000}, g.Backend());
    old_max = old_leader.GetTimestamps(10).value() + 9;
  }
  g.term = 2;
  ManualClock slow(1'000'000);  // 1 s: far behind the old leader's clock
  Tso new_leader(TsoOptions{&slow, 3000, 1000}, g.Backend());
  const uint64_t ts = new_leader.GetTimestamp().value();
  EXPECT_GT(ts, old_max);
  EXPECT_GT(ts, ComposeTs(53'000, 0) - 1);  // above the old window's end, not just its use
}

TEST(Tso, ATermChangeDropsTheWindow) {
  ManualClock clock(1'000'000);
  FakeGroup g;
  Tso tso(TsoOptions{&clock, 3000, 1000}, g.Backend());
  ASSERT_OK(tso.GetTimestamp());
  // Another leader (term 2) reserved past our window and served from it;
  // then we lead again in term 3.
  g.reserved += ComposeTs(10'000, 0);
  const uint64_t other_leader_mark = g.reserved;
  g.term = 3;
  EXPECT_GT(tso.GetTimestamp().value(), other_leader_mark);
  g.term = 0;  // not the leader
  EXPECT_TRUE(tso.GetTimestamp().status().IsNotLeader());
}

TEST(Tso, ConcurrentRequestsGetDistinctIncreasingTimestamps) {
  ManualClock clock(1'000'000);
  FakeGroup g;
  Tso tso(TsoOptions{&clock, 3000, 1000}, g.Backend());
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        got[t].push_back(tso.GetTimestamp().value());
        if (i % 100 == 0) clock.Advance(1'000);
      }
    });
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : got) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});
}

// A real group: the oracle's leader is stopped and restarted six times; every
// new leader's oracle starts with a clock 10 s behind the last. No timestamp
// is handed out twice or out of order, and each is at or below the mark
// every replica persisted.
TEST(TsoGroup, NoTimestampRepeatsOrGoesBackAcrossLeaderRestarts) {
  TempDir dir;
  MvccGroup g(dir.path(), 3);
  ManualClock clock(100'000'000);  // 100 s
  std::vector<uint64_t> handed;
  uint64_t reservations = 0;
  for (int round = 0; round < 6; ++round) {
    const int leader = g.WaitLeader();
    ASSERT_NE(leader, 0) << "round " << round;
    Tso tso(TsoOptions{&clock, 200, 100}, ReplicaTsoBackend(g.replica(leader), 3s));
    int served = 0;
    for (int attempt = 0; served < 300 && attempt < 2000; ++attempt) {
      auto ts = attempt % 3 == 0 ? tso.GetTimestamps(4) : tso.GetTimestamp();
      if (!ts.ok()) {
        // Right after an election the new leader may refuse for a moment.
        ASSERT_TRUE(ts.status().IsNotLeader() || ts.status().IsBusy() || ts.status().IsAborted() ||
                    ts.status().IsTimeout())
            << ts.status().ToString();
        std::this_thread::sleep_for(10ms);
        continue;
      }
      const int n = attempt % 3 == 0 ? 4 : 1;
      for (int i = 0; i < n; ++i) handed.push_back(*ts + i);
      served += n;
      clock.Advance(7'000);  // 7 ms per request: windows of 200 ms run out and renew
    }
    ASSERT_GE(served, 300) << "round " << round;
    reservations += tso.reservations();
    // Kill the leader (its oracle dies with it), bring it back as a follower,
    // and give the next leader a clock 10 s behind.
    g.Stop(leader);
    g.Start(leader);
    clock.Set(clock.NowMicros() - 10'000'000);
  }
  for (size_t i = 1; i < handed.size(); ++i)
    ASSERT_LT(handed[i - 1], handed[i]) << "timestamp " << i << " out of order or repeated";
  EXPECT_GT(reservations, 6u);                  // windows renewed within a leadership ...
  EXPECT_LT(reservations, handed.size() / 10);  // ... and each served many requests
  const int leader = g.WaitLeader();
  ASSERT_NE(leader, 0);
  EXPECT_GE(g.sm(leader)->reserved_ts().value(), handed.back());
}

}  // namespace
}  // namespace tinykv::txn
