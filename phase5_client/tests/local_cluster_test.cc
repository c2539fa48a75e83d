// The client against a real in-process 3-node cluster (KvNode x3, each with
// the client service on loopback): routing, failover, partitions, CAS.
#include "tinykv/client/local_cluster.h"

#include "local_cluster_fixture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tinykv/client/client.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;


TEST_F(LocalClusterTest, EveryOperationWorksThroughTheLeader) {
  auto cl = NewClient();
  ASSERT_OK(cl->Put("a", "1"));
  ASSERT_OK(cl->Put("b", std::string("\0\xff", 2)));
  ASSERT_OK(cl->Put("c", "3"));
  EXPECT_EQ(cl->Get("b")->value_or("?"), std::string("\0\xff", 2));
  EXPECT_EQ(cl->Get("zz")->has_value(), false);
  auto kvs = cl->Scan("a", "c");
  ASSERT_OK(kvs.status());
  ASSERT_EQ(kvs->size(), 2u);
  auto cas = cl->Cas("a", std::string("1"), "one");
  ASSERT_OK(cas.status());
  EXPECT_TRUE(cas->succeeded);
  cas = cl->Cas("a", std::nullopt, "x");
  ASSERT_OK(cas.status());
  EXPECT_FALSE(cas->succeeded);
  EXPECT_EQ(cas->current, std::optional<std::string>("one"));
  ASSERT_OK(cl->Delete("c"));
  auto n = cl->DeleteRange("a", "");
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 2u);
  EXPECT_TRUE(cl->Scan("", "")->empty());
  uint64_t leader = cluster_->Leader();
  EXPECT_EQ(cl->leader_endpoint(), cluster_->endpoint(leader));

  auto members = cl->MemberList();
  ASSERT_OK(members.status());
  ASSERT_EQ(members->members.size(), 3u);
  for (const Member& m : members->members) EXPECT_EQ(m.client_address, cluster_->endpoint(m.id));
  for (const std::string& e : cluster_->endpoints()) {
    auto st = cl->EndpointStatus(e);
    ASSERT_OK(st.status());
    EXPECT_EQ(st->client_address, e);
    EXPECT_GE(st->applied_index, 1u);
    EXPECT_TRUE(cl->Health(e).healthy);
  }
}

TEST_F(LocalClusterTest, FollowerRedirectsToTheLeader) {
  uint64_t leader = cluster_->Leader();
  uint64_t follower = leader % 3 + 1;
  ClientOptions o;
  o.endpoints = {cluster_->endpoint(follower)};  // only a follower is known ...
  o.seed = tinykv::testing::SeedForTest();
  auto cl = Client::Create(o).value();
  ASSERT_OK(cl->Put("k", "v"));  // ... the hint leads to the leader
  EXPECT_EQ(cl->leader_endpoint(), cluster_->endpoint(leader));
  EXPECT_GE(cl->stats().redirects, 1u);
}

// Membership through the protocol: a client that knows only a follower is
// redirected to the leader for MemberAdd; the joiner catches up; promote;
// remove the leader; MemberList shows the result; a repeated add is refused.
TEST_F(LocalClusterTest, MembershipChangesGoThroughTheLeader) {
  auto cl = NewClient();
  for (int i = 0; i < 30; ++i) ASSERT_OK(cl->Put("k" + std::to_string(i), "v"));
  ASSERT_OK(cluster_->AddNode(4));
  EXPECT_TRUE(cluster_->AddNode(4).IsAlreadyExists());
  uint64_t leader = cluster_->Leader();
  ASSERT_NE(leader, 0u);
  ClientOptions fo;
  fo.endpoints = {cluster_->endpoint(leader % 3 + 1)};  // a follower only
  fo.timeout = 10s;
  fo.seed = tinykv::testing::SeedForTest();
  auto via_follower = Client::Create(fo).value();
  auto added = via_follower->MemberAdd(4, cluster_->PeerAddress(4), cluster_->endpoint(4), true);
  ASSERT_OK(added.status());
  EXPECT_GE(via_follower->stats().redirects, 1u);
  bool found = false;
  for (const Member& m : added->members) {
    if (m.id != 4) continue;
    found = true;
    EXPECT_TRUE(m.learner);
    EXPECT_EQ(m.peer_address, cluster_->PeerAddress(4));
    EXPECT_EQ(m.client_address, cluster_->endpoint(4));
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(cl->MemberAdd(4, cluster_->PeerAddress(4)).status().IsAlreadyExists());

  // The learner serves serializable reads once it caught up.
  ClientOptions o4;
  o4.endpoints = {cluster_->endpoint(4)};
  o4.seed = tinykv::testing::SeedForTest();
  auto c4 = Client::Create(o4).value();
  CallOptions ser;
  ser.serializable = true;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  Result<std::optional<std::string>> v = std::optional<std::string>();
  while (std::chrono::steady_clock::now() < deadline) {
    v = c4->Get("k29", ser);
    if (v.ok() && v->has_value()) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, std::optional<std::string>("v"));

  ASSERT_OK(cl->MemberPromote(4).status());
  leader = cluster_->Leader();
  auto removed = cl->MemberRemove(leader);
  ASSERT_OK(removed.status());
  for (const Member& m : removed->members) EXPECT_NE(m.id, leader);
  ASSERT_OK(cl->Put("after", "x"));
  auto list = cl->MemberList();
  ASSERT_OK(list.status());
  std::vector<uint64_t> ids;
  for (const Member& m : list->members) {
    ids.push_back(m.id);
    EXPECT_FALSE(m.learner);
  }
  std::vector<uint64_t> want;
  for (uint64_t i = 1; i <= 4; ++i)
    if (i != leader) want.push_back(i);
  EXPECT_EQ(ids, want);
  EXPECT_NE(list->leader, leader);
  auto got = cl->Get("k0");
  ASSERT_OK(got.status());
  EXPECT_EQ(*got, std::optional<std::string>("v"));
}

TEST_F(LocalClusterTest, ClientCarriesOnWhenTheLeaderStops) {
  auto cl = NewClient(20s);
  for (int i = 0; i < 20; ++i) ASSERT_OK(cl->Put("k" + std::to_string(i), "v"));
  uint64_t old_leader = cluster_->Leader();
  ASSERT_OK(cluster_->StopNode(old_leader));
  for (int i = 20; i < 40; ++i) ASSERT_OK(cl->Put("k" + std::to_string(i), "v"));
  EXPECT_NE(cl->leader_endpoint(), cluster_->endpoint(old_leader));
  auto all = cl->Scan("k", "l");
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 40u);
  // The old leader comes back on the same client port and catches up.
  ASSERT_OK(cluster_->StartNode(old_leader));
  ClientOptions o;
  o.endpoints = {cluster_->endpoint(old_leader)};
  auto direct = Client::Create(o).value();
  CallOptions serializable;
  serializable.serializable = true;
  size_t seen = 0;
  for (int i = 0; i < 500 && seen < 40; ++i) {
    auto kvs = direct->Scan("k", "l", 0, serializable);
    if (kvs.ok()) seen = kvs->size();
    if (seen < 40) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seen, 40u);
}

TEST_F(LocalClusterTest, IsolatedLeaderIsRoutedAround) {
  auto cl = NewClient(20s);
  ASSERT_OK(cl->Put("before", "1"));
  uint64_t old_leader = cluster_->Leader();
  std::vector<uint64_t> rest;
  for (uint64_t i = 1; i <= 3; ++i) {
    if (i != old_leader) rest.push_back(i);
  }
  cluster_->Partition({{old_leader}, rest});
  // The isolated leader cannot commit or confirm reads; the majority elects
  // a new leader and the client finds it.
  ASSERT_OK(cl->Put("during", "2"));
  auto v = cl->Get("before");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), "1");
  EXPECT_NE(cl->leader_endpoint(), cluster_->endpoint(old_leader));
  cluster_->Heal();
  ASSERT_OK(cl->Put("after", "3"));
  EXPECT_EQ(cl->Scan("", "")->size(), 3u);
}

TEST_F(LocalClusterTest, ConcurrentCasIncrementsAreNeitherLostNorDoubled) {
  auto cl = NewClient(20s);
  ASSERT_OK(cl->Put("counter", "0"));
  constexpr int kThreads = 4, kIncrements = 15;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {
          auto cur = cl->Get("counter");
          if (!cur.ok() || !cur->has_value()) {
            errors++;
            return;
          }
          std::string next = std::to_string(std::stoi(**cur) + 1);
          auto r = cl->Cas("counter", **cur, next);
          if (!r.ok()) {
            errors++;
            return;
          }
          if (r->succeeded) break;
        }
      }
    });
  }
  // Stop the leader half-way through: retries must not double an increment.
  std::this_thread::sleep_for(100ms);
  ASSERT_OK(cluster_->StopNode(cluster_->Leader()));
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto v = cl->Get("counter");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), std::to_string(kThreads * kIncrements));
}

// A nemesis isolates the current leader again and again while 10% of Raft
// messages are lost: proposals and read barriers time out, leaders change,
// the isolated old leader's uncommitted entries are discarded, and the
// client retries with the same request ids throughout. Every increment that
// reported success must be in the counter exactly once.
TEST_F(LocalClusterTest, CasCounterIsExactUnderPartitionsAndLoss) {
  auto cl = NewClient(30s);
  ASSERT_OK(cl->Put("counter", "0"));
  cluster_->SetDropProbability(0.1);
  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, increments{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!done) {
        auto cur = cl->Get("counter");
        if (!cur.ok() || !cur->has_value()) {
          errors++;
          return;
        }
        auto r = cl->Cas("counter", **cur, std::to_string(std::stoi(**cur) + 1));
        if (!r.ok()) {
          errors++;
          return;
        }
        if (r->succeeded) increments++;
      }
    });
  }
  uint64_t isolations = 0;
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(200ms);
    uint64_t leader = cluster_->Leader();
    if (leader == 0) continue;
    std::vector<uint64_t> rest;
    for (uint64_t i = 1; i <= 3; ++i) {
      if (i != leader) rest.push_back(i);
    }
    cluster_->Partition({{leader}, rest});
    isolations++;
    std::this_thread::sleep_for(500ms);
    cluster_->Heal();
  }
  std::this_thread::sleep_for(200ms);
  done = true;
  for (auto& t : threads) t.join();
  cluster_->SetDropProbability(0);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(isolations, 1u);
  EXPECT_GT(increments.load(), 0);
  auto v = cl->Get("counter");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), std::to_string(increments.load()));
  std::printf("%d increments; client: %llu calls, %llu retries, %llu redirects\n",
              increments.load(), static_cast<unsigned long long>(cl->stats().calls),
              static_cast<unsigned long long>(cl->stats().retries),
              static_cast<unsigned long long>(cl->stats().redirects));
}

}  // namespace
}  // namespace tinykv::client
