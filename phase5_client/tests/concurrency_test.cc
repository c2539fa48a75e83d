// Session, Mutex and Election (concurrency.h) on a real in-process
// 3-member cluster: contenders exclude each other, an unlock wakes the
// waiter, a session whose lease is revoked or expires (no keep-alive) lets
// go after its TTL, a waiter that gives up leaves no key behind, the
// fencing revision increases from holder to holder; an election's leader,
// its proclaimed values, a resign handing over, and the observer's stream.
#include "tinykv/client/concurrency.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "local_cluster_fixture.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Generous bounds for a loaded 2-core machine; conditions are polled, never slept on.
constexpr auto kWait = 30s;

class ConcurrencyTest : public LocalClusterTest {
 protected:
  std::unique_ptr<Session> NewSession(Client* c, uint64_t ttl_s = 30) {
    auto s = Session::Create(c, {.ttl_s = ttl_s});
    EXPECT_OK(s.status());
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // The keys under "prefix/" now.
  std::vector<std::string> QueueKeys(Client& c, const std::string& prefix) {
    std::vector<std::string> keys;
    auto kvs = c.Scan(prefix + "/", PrefixEnd(prefix + "/"));
    EXPECT_OK(kvs.status());
    if (kvs.ok()) {
      for (const KeyValue& kv : *kvs) keys.push_back(kv.key);
    }
    return keys;
  }
  // Polls `done` every 20 ms until it holds or `limit` passed.
  template <typename F>
  bool WaitFor(F done, std::chrono::milliseconds limit = kWait) {
    const auto until = SteadyClock::now() + limit;
    while (!done()) {
      if (SteadyClock::now() > until) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
};

TEST_F(ConcurrencyTest, OneHolderAtATimeAndUnlockWakesTheWaiter) {
  auto c1 = NewClient(), c2 = NewClient();
  auto s1 = NewSession(c1.get()), s2 = NewSession(c2.get());
  ASSERT_TRUE(s1 && s2);
  Mutex m1(*s1, "locks/a"), m2(*s2, "locks/a");
  ASSERT_OK(m1.Lock());
  EXPECT_GT(m1.revision(), 0u);
  EXPECT_EQ(m1.key().rfind("locks/a/", 0), 0u) << m1.key();
  Status busy = m2.TryLock();
  EXPECT_TRUE(busy.IsBusy()) << busy.ToString();
  EXPECT_EQ(busy.message(), "mutex: Locked by another session");
  EXPECT_EQ(QueueKeys(*c1, "locks/a"), std::vector<std::string>{m1.key()});  // TryLock left none

  std::atomic<bool> acquired{false};
  auto waiter = std::async(std::launch::async, [&] {
    Status s = m2.Lock();
    acquired = true;
    return s;
  });
  // Once m2 is queued behind m1 it must stay blocked while m1 holds.
  ASSERT_TRUE(WaitFor([&] { return QueueKeys(*c1, "locks/a").size() == 2; }));
  const uint64_t first = m1.revision();
  ASSERT_OK(m1.Lock());  // the holder locking again keeps its place
  EXPECT_EQ(m1.revision(), first);
  EXPECT_FALSE(acquired.load());
  ASSERT_OK(m1.Unlock());
  ASSERT_EQ(waiter.wait_for(kWait), std::future_status::ready);
  ASSERT_OK(waiter.get());
  EXPECT_GT(m2.revision(), first);
  EXPECT_EQ(QueueKeys(*c1, "locks/a"), std::vector<std::string>{m2.key()});
  ASSERT_OK(m2.Unlock());
  EXPECT_TRUE(QueueKeys(*c1, "locks/a").empty());
}

// Several sessions increment one counter key under the lock, each read and
// write a separate call: with mutual exclusion no increment is lost, and
// never are two inside the critical section; the fencing revisions of
// successive holders strictly increase.
TEST_F(ConcurrencyTest, ContendersNeverOverlapAndFencingRevisionsIncrease) {
  constexpr int kContenders = 3, kRounds = 5;
  ASSERT_OK(NewClient()->Put("counter", "0"));
  std::atomic<int> inside{0}, overlaps{0};
  std::mutex order_mu;
  std::vector<uint64_t> order;  // fencing revisions, in the order holders entered
  std::vector<std::thread> threads;
  std::vector<Status> results(kContenders);
  for (int t = 0; t < kContenders; ++t) {
    threads.emplace_back([&, t] {
      auto c = NewClient();
      auto s = Session::Create(c.get(), {.ttl_s = 30});
      if (!s.ok()) {
        results[t] = s.status();
        return;
      }
      Mutex m(**s, "locks/counter");
      for (int r = 0; r < kRounds; ++r) {
        if (Status l = m.Lock({.timeout = kWait}); !l.ok()) {
          results[t] = l;
          return;
        }
        if (inside.fetch_add(1) != 0) ++overlaps;
        {
          std::lock_guard<std::mutex> l(order_mu);
          order.push_back(m.revision());
        }
        Status rw;
        if (auto v = c->Get("counter"); !v.ok()) {
          rw = v.status();
        } else {
          rw = c->Put("counter", std::to_string(std::stoi(v->value()) + 1));
        }
        inside.fetch_sub(1);
        if (!rw.ok()) {
          results[t] = rw;
          return;
        }
        if (Status u = m.Unlock(); !u.ok()) {
          results[t] = u;
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kContenders; ++t) ASSERT_OK(results[t]) << "contender " << t;
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(NewClient()->Get("counter").value(), std::to_string(kContenders * kRounds));
  ASSERT_EQ(order.size(), static_cast<size_t>(kContenders * kRounds));
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_GT(order[i], order[i - 1]) << "holder " << i << " of " << order.size();
  }
}

// A holder that stops keeping its lease alive (as a killed process) keeps
// the lock until the TTL runs out, then the waiter gets it.
TEST_F(ConcurrencyTest, AnExpiredSessionReleasesTheLockAfterItsTtl) {
  auto c1 = NewClient(), c2 = NewClient();
  auto s1 = NewSession(c1.get(), /*ttl_s=*/2), s2 = NewSession(c2.get());
  ASSERT_TRUE(s1 && s2);
  Mutex m1(*s1, "locks/ttl"), m2(*s2, "locks/ttl");
  ASSERT_OK(m1.Lock());
  const auto orphaned = SteadyClock::now();
  s1->Orphan();
  ASSERT_OK(m2.Lock({.timeout = kWait}));
  const auto took = SteadyClock::now() - orphaned;
  // Not before the lease could have expired: the TTL counts from the last
  // renewal, at most a third of the TTL before the orphaning.
  EXPECT_GE(took, 2s * 2 / 3) << "the lock passed on before the TTL";
  EXPECT_GT(m2.revision(), 0u);
  EXPECT_EQ(QueueKeys(*c2, "locks/ttl"), std::vector<std::string>{m2.key()});
  // The expired session's waits fail: its lease is gone.
  Status again = m1.Lock({.timeout = kWait});
  EXPECT_FALSE(again.ok());
}

TEST_F(ConcurrencyTest, ClosingASessionRevokesItsLeaseAndHandsTheLockOver) {
  auto c1 = NewClient(), c2 = NewClient();
  auto s1 = NewSession(c1.get()), s2 = NewSession(c2.get());
  ASSERT_TRUE(s1 && s2);
  Mutex m1(*s1, "locks/close"), m2(*s2, "locks/close");
  ASSERT_OK(m1.Lock());
  auto waiter = std::async(std::launch::async, [&] { return m2.Lock({.timeout = kWait}); });
  ASSERT_TRUE(WaitFor([&] { return QueueKeys(*c1, "locks/close").size() == 2; }));
  ASSERT_OK(s1->Close());
  EXPECT_TRUE(c1->LeaseTimeToLive(s1->lease()).status().IsNotFound());
  ASSERT_EQ(waiter.wait_for(kWait), std::future_status::ready);
  ASSERT_OK(waiter.get());
}

// A waiter that gives up (timeout or cancel) leaves the queue, so it never
// becomes the holder without knowing.
TEST_F(ConcurrencyTest, AWaiterThatGivesUpLeavesNoKey) {
  auto c1 = NewClient(), c2 = NewClient();
  auto s1 = NewSession(c1.get()), s2 = NewSession(c2.get());
  ASSERT_TRUE(s1 && s2);
  Mutex m1(*s1, "locks/giveup"), m2(*s2, "locks/giveup");
  ASSERT_OK(m1.Lock());
  Status t = m2.Lock({.timeout = 300ms});
  EXPECT_TRUE(t.IsTimeout()) << t.ToString();
  EXPECT_EQ(QueueKeys(*c1, "locks/giveup"), std::vector<std::string>{m1.key()});
  std::atomic<bool> cancel{true};
  Status c = m2.Lock({.cancelled = &cancel});
  EXPECT_TRUE(c.IsCancelled()) << c.ToString();
  EXPECT_EQ(QueueKeys(*c1, "locks/giveup"), std::vector<std::string>{m1.key()});
  EXPECT_EQ(m2.revision(), 0u);
}

TEST_F(ConcurrencyTest, ElectionLeaderProclaimResignAndObserve) {
  auto c1 = NewClient(), c2 = NewClient();
  auto s1 = NewSession(c1.get()), s2 = NewSession(c2.get());
  ASSERT_TRUE(s1 && s2);
  Election e1(*s1, "elect/x"), e2(*s2, "elect/x");
  EXPECT_TRUE(e1.Leader().status().IsNotFound());
  EXPECT_EQ(e1.Proclaim("nope").message(), "election: not leader");
  ASSERT_OK(e1.Campaign("one"));
  auto leader = e2.Leader();
  ASSERT_OK(leader);
  EXPECT_EQ(leader->key, e1.key());
  EXPECT_EQ(leader->value, "one");
  EXPECT_EQ(leader->meta.create_revision, e1.revision());

  auto observer = e2.Observe();
  ASSERT_OK(observer);
  auto seen = (*observer)->Next(kWait);
  ASSERT_OK(seen);
  EXPECT_EQ(seen->value, "one");
  EXPECT_TRUE((*observer)->Next(100ms).status().IsTimeout());  // nothing changed

  auto campaign = std::async(std::launch::async, [&] { return e2.Campaign("two", {.timeout = kWait}); });
  ASSERT_TRUE(WaitFor([&] { return QueueKeys(*c1, "elect/x").size() == 2; }));
  ASSERT_OK(e1.Proclaim("one again"));
  seen = (*observer)->Next(kWait);
  ASSERT_OK(seen);
  EXPECT_EQ(seen->key, e1.key());
  EXPECT_EQ(seen->value, "one again");
  EXPECT_EQ(campaign.wait_for(0s), std::future_status::timeout);  // still e1's term

  ASSERT_OK(e1.Resign());
  ASSERT_EQ(campaign.wait_for(kWait), std::future_status::ready);
  ASSERT_OK(campaign.get());
  seen = (*observer)->Next(kWait);
  ASSERT_OK(seen);
  EXPECT_EQ(seen->key, e2.key());
  EXPECT_EQ(seen->value, "two");
  EXPECT_GT(e2.revision(), leader->meta.create_revision);  // terms' tokens increase
  EXPECT_EQ(e1.Proclaim("late").message(), "election: not leader");
  ASSERT_OK(e2.Proclaim("two again"));
  EXPECT_EQ(e1.Leader()->value, "two again");
}

}  // namespace
}  // namespace tinykv::client
