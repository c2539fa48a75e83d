// Leases on a 3-member TxnNode group on one ManualClock (txn_node.h,
// lessor.h): expiry deletes the attached keys in one revision, keep-alive
// postpones it, a new leader extends every lease rather than expiring it
// early; grant, time-to-live, the list and their refusals. Time moves only
// when the test moves it; the waits are for the nodes' threads to catch up.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "tinykv/common/clock.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/lessor.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::txn {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr int kTickMs = 20;
constexpr int kElectionTicks = 10;
constexpr milliseconds kTimeout{5000};
// What a new leader adds: long enough to tell apart from the TTLs below.
constexpr int kExtendMs = 2000;

class LeaseCluster : public ::testing::Test {
 protected:
  void SetUp() override { Start(kExtendMs); }

  void Start(int extend_ms) {
    for (uint64_t i = 1; i <= 3; ++i) {
      replica::KvNodeOptions o;
      o.id = i;
      o.data_dir = dir_.path() / ("n" + std::to_string(i));
      for (uint64_t j = 1; j <= 3; ++j) o.peers[j] = "";
      o.tick_ms = kTickMs;
      o.election_ticks = kElectionTicks;
      o.sync = false;
      o.io_threads = 1;
      o.clock = &clock_;
      TxnNodeOptions t;
      t.lease_extend_ms = extend_ms;
      nodes_[i] = TxnNode::Open(o, t).value();
    }
    for (auto& [i, a] : nodes_)
      for (auto& [j, b] : nodes_)
        if (i != j) a->SetPeerAddress(j, "127.0.0.1:" + std::to_string(b->peer_port()));
    ElectLeader();
  }

  // One tick of clock time at a time, each taken by every running node.
  void AdvanceTicks(int n) {
    for (int k = 0; k < n; ++k) {
      clock_.Advance(kTickMs * 1000);
      ++ticks_;
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      for (auto& [i, node] : nodes_) {
        if (stopped_.count(i)) continue;
        while (node->GetStatus().ticks < ticks_) {
          ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "node " << i << " did not tick";
          std::this_thread::sleep_for(1ms);
        }
      }
      std::this_thread::sleep_for(2ms);
    }
  }
  void AdvanceMs(int ms) { AdvanceTicks(ms / kTickMs); }

  TxnNode* Leader() {
    for (auto& [i, n] : nodes_)
      if (!stopped_.count(i) && n->GetStatus().role == "leader") return n.get();
    return nullptr;
  }
  uint64_t LeaderId() {
    for (auto& [i, n] : nodes_)
      if (!stopped_.count(i) && n->GetStatus().role == "leader") return i;
    return 0;
  }
  void ElectLeader() {
    for (int t = 0; t < 20 * kElectionTicks && Leader() == nullptr; ++t) AdvanceTicks(1);
    ASSERT_NE(Leader(), nullptr);
    // The term's first proposals wait for its no-op: one write through.
    ASSERT_TRUE(::tinykv::testing::WaitUntil(
        [&] { return Put("warmup", "x", 0).ok(); }, milliseconds(10000)));
  }
  // Until `node`'s lessor has looked at the clock twice since now (so it
  // has seen the time the test set).
  void LessorCaughtUp(TxnNode* node) {
    const uint64_t c = node->lessor_checks();
    ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return node->lessor_checks() >= c + 2; }, 10s));
  }
  void StopNode(uint64_t id) {
    nodes_[id]->Stop();
    stopped_.insert(id);
  }

  Result<LeaseGrantResult> Grant(uint64_t ttl_s, uint64_t id = 0) {
    std::promise<Result<LeaseGrantResult>> p;
    Leader()->LeaseGrant(id, ttl_s, kTimeout, [&](Result<LeaseGrantResult> r) { p.set_value(r); });
    return p.get_future().get();
  }
  Result<LeaseRevokeResult> Revoke(uint64_t id) {
    std::promise<Result<LeaseRevokeResult>> p;
    Leader()->LeaseRevoke(id, kTimeout, [&](Result<LeaseRevokeResult> r) { p.set_value(r); });
    return p.get_future().get();
  }
  Result<replica::KvCommandResult> Put(const std::string& k, const std::string& v, uint64_t lease) {
    TxnNode* l = Leader();
    if (l == nullptr) return Status::NotLeader("none");
    replica::KvCommand c;
    c.op = replica::KvCommand::Op::kPut;
    c.key = k;
    c.value = v;
    std::promise<Result<replica::KvCommandResult>> p;
    l->ProposeKvWrite(c, KvWriteOptions{lease}, kTimeout, [&](Result<KvWriteResult> r) {
      if (r.ok()) {
        p.set_value(std::move(r->kv));
      } else {
        p.set_value(r.status());
      }
    });
    return p.get_future().get();
  }
  std::optional<std::string> Get(const std::string& k) { return Leader()->Get(k).value(); }
  // The revision at which `k` stopped having a value: the smallest ts in
  // (from, kMaxTs) at which a read sees none.
  uint64_t DeletedAt(const std::string& k, uint64_t from) {
    uint64_t lo = from, hi = kMaxTs;  // value at lo, none at hi
    while (hi - lo > 1) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (Leader()->GetAt(k, mid).value().value) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return hi;
  }

  ::tinykv::testing::TempDir dir_;
  ManualClock clock_{1'000'000};
  uint64_t ticks_ = 0;
  std::map<uint64_t, std::unique_ptr<TxnNode>> nodes_;
  std::set<uint64_t> stopped_;
};

TEST_F(LeaseCluster, ExpiryDeletesTheAttachedKeysInOneRevision) {
  auto lease = Grant(2);
  ASSERT_OK(lease);
  EXPECT_NE(lease->id, 0u);
  auto a = Put("a", "1", lease->id);
  auto b = Put("b", "2", lease->id);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(Put("plain", "p", 0));
  AdvanceMs(1800);
  LessorCaughtUp(Leader());
  EXPECT_EQ(Get("a"), "1") << "expired before its TTL";
  AdvanceMs(300);  // past 2 s
  ASSERT_TRUE(::tinykv::testing::WaitUntil(
      [&] { return !Get("a").has_value() && !Get("b").has_value(); }, 10s));
  // One revision: the two tombstones share one commit ts.
  EXPECT_EQ(DeletedAt("a", a->revision), DeletedAt("b", b->revision));
  EXPECT_EQ(Get("plain"), "p");
  EXPECT_TRUE(Leader()->Leases().value().empty());
  // Applied alike on every replica: the three state hashes agree.
  auto report = Leader()->CheckStateHashSync(kTimeout);
  ASSERT_OK(report);
  EXPECT_EQ(report->hashes.size(), 3u);
  EXPECT_TRUE(report->corrupt.empty());
  EXPECT_TRUE(report->majority.has_value());
}

TEST_F(LeaseCluster, KeepAlivePostponesExpiry) {
  auto lease = Grant(2);
  ASSERT_OK(lease);
  ASSERT_OK(Put("k", "v", lease->id));
  AdvanceMs(1500);
  EXPECT_EQ(Leader()->LeaseKeepAlive(lease->id).value(), 2u);
  AdvanceMs(1500);  // 3 s after the grant, 1.5 s after the renewal
  LessorCaughtUp(Leader());
  EXPECT_EQ(Get("k"), "v") << "the renewal did not move the deadline";
  auto ttl = Leader()->LeaseTimeToLive(lease->id, true);
  ASSERT_OK(ttl);
  EXPECT_EQ(ttl->granted_ttl_s, 2u);
  EXPECT_EQ(ttl->remaining_s, 0u);  // 0.5 s left: whole seconds
  EXPECT_EQ(ttl->keys, std::vector<std::string>{"k"});
  AdvanceMs(700);
  ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return !Get("k").has_value(); }, 10s));
  EXPECT_TRUE(Leader()->LeaseKeepAlive(lease->id).status().IsNotFound());
}

// The new leader gives the lease now + ttl + extend. Without the extension
// (lease_extend_ms = 0: tried) the lease expires at promotion + ttl, before
// the check below that it is still there.
TEST_F(LeaseCluster, ANewLeaderExtendsRatherThanExpiresEarly) {
  auto lease = Grant(2);
  ASSERT_OK(lease);
  ASSERT_OK(Put("k", "v", lease->id));
  AdvanceMs(1500);
  StopNode(LeaderId());
  for (int t = 0; t < 40 * kElectionTicks && Leader() == nullptr; ++t) AdvanceTicks(1);
  ASSERT_NE(Leader(), nullptr);
  TxnNode* leader = Leader();
  LessorCaughtUp(leader);  // promoted at about now
  // Past the old deadline and past now + ttl; within now + ttl + extend.
  AdvanceMs(2000 + kExtendMs - 600);
  LessorCaughtUp(leader);
  ASSERT_EQ(leader, Leader());
  EXPECT_EQ(Get("k"), "v") << "the new leader expired the lease early";
  AdvanceMs(1000);
  ASSERT_TRUE(::tinykv::testing::WaitUntil([&] { return !Get("k").has_value(); }, 10s));
}

TEST_F(LeaseCluster, GrantRevokeListAndTheirRefusals) {
  auto fixed = Grant(10, 0x694d5765fc71500bULL);
  ASSERT_OK(fixed);
  EXPECT_EQ(fixed->id, 0x694d5765fc71500bULL);
  EXPECT_EQ(fixed->ttl_s, 10u);
  auto again = Grant(10, 0x694d5765fc71500bULL);
  EXPECT_TRUE(again.status().IsAlreadyExists()) << again.status().ToString();
  EXPECT_TRUE(Grant(0).status().IsInvalidArgument());
  auto random = Grant(5);
  ASSERT_OK(random);
  EXPECT_NE(random->id, 0u);
  EXPECT_LT(random->id, uint64_t{1} << 63);
  auto list = Leader()->Leases();
  ASSERT_OK(list);
  EXPECT_EQ(std::set<uint64_t>(list->begin(), list->end()),
            (std::set<uint64_t>{fixed->id, random->id}));
  // A put naming a lease that does not exist: etcd's error, nothing written.
  auto missing = Put("k", "v", 12345);
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), kLeaseNotFoundMessage);
  EXPECT_FALSE(Get("k").has_value());
  // A revoke by the client: both keys at one revision.
  ASSERT_OK(Put("x", "1", fixed->id));
  ASSERT_OK(Put("y", "2", fixed->id));
  auto revoked = Revoke(fixed->id);
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->deleted, 2u);
  EXPECT_EQ(Leader()->GetAt("x", revoked->revision - 1)->value, "1");
  EXPECT_EQ(Leader()->GetAt("y", revoked->revision - 1)->value, "2");
  EXPECT_FALSE(Leader()->GetAt("x", revoked->revision)->value);
  EXPECT_FALSE(Leader()->GetAt("y", revoked->revision)->value);
  EXPECT_TRUE(Revoke(fixed->id).status().IsNotFound());
  EXPECT_TRUE(Leader()->LeaseTimeToLive(fixed->id, false).status().IsNotFound());
  // Followers answer NotLeader.
  for (auto& [i, n] : nodes_) {
    if (n.get() == Leader()) continue;
    EXPECT_TRUE(n->LeaseKeepAlive(random->id).status().IsNotLeader());
    EXPECT_TRUE(n->LeaseTimeToLive(random->id, false).status().IsNotLeader());
    EXPECT_TRUE(n->Leases().status().IsNotLeader());
  }
}

// --- the lessor alone ------------------------------------------------------------

TEST(Lessor, PromoteGivesEveryLeaseTtlPlusExtend) {
  Lessor l;
  l.Promote(1'000'000, 500'000, {{1, 2}, {2, 10}});
  EXPECT_EQ(l.RemainingUs(1, 1'000'000), 2'500'000u);
  EXPECT_EQ(l.RemainingUs(2, 1'000'000), 10'500'000u);
  EXPECT_TRUE(l.Expired(3'499'999).empty());
  EXPECT_EQ(l.Expired(3'500'000), std::vector<uint64_t>{1});
  EXPECT_TRUE(l.Expired(4'000'000).empty()) << "reported twice while revoking";
  l.RevokeFailed(1);
  EXPECT_EQ(l.Expired(4'000'000), std::vector<uint64_t>{1});
  l.Revoked(1);
  EXPECT_FALSE(l.Knows(1));
}

TEST(Lessor, RenewMovesTheDeadlineButNotPastExpiry) {
  Lessor l;
  l.Grant(1, 2, 0);
  EXPECT_EQ(l.Renew(1, 1'500'000), 2u);
  EXPECT_EQ(l.RemainingUs(1, 1'500'000), 2'000'000u);
  EXPECT_EQ(l.Renew(1, 3'500'000), std::nullopt);  // past its deadline: gone for good
  EXPECT_EQ(l.Renew(9, 0), std::nullopt);
}

TEST(Lessor, SyncAddsAndDropsWhatTheTableGainedAndLost) {
  Lessor l;
  l.Grant(1, 2, 0);
  l.Sync(1'000'000, 500'000, {{2, 3}});
  EXPECT_FALSE(l.Knows(1));
  EXPECT_EQ(l.RemainingUs(2, 1'000'000), 3'500'000u);
}

}  // namespace
}  // namespace tinykv::txn
