// The service and the C++ client over fake Raft nodes (fake_kv_node.h):
// routing, leader discovery, retries, exactly-once writes, paging.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fake_cluster.h"
#include "tinykv/client/client.h"
#include "tinykv/client/protocol.h"
#include "tinykv/client/service.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeCluster;
using testing::FakeGroup;

TEST(ClientService, PutGetDeleteRoundTrip) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  ASSERT_OK(cl->Put("apple", std::string("red\0fruit", 9)));
  auto v = cl->Get("apple");
  ASSERT_OK(v.status());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, std::string("red\0fruit", 9));
  ASSERT_OK(cl->Delete("apple"));
  v = cl->Get("apple");
  ASSERT_OK(v.status());
  EXPECT_FALSE(v->has_value());
  // Deleting a missing key is not an error.
  EXPECT_OK(cl->Delete("apple"));
}

TEST(ClientService, FollowerHintLeadsStraightToLeader) {
  FakeCluster c(3, true);
  c.SetLeader(3);
  // Only followers are listed first; the hint carries the leader's address.
  auto cl = c.NewClient({c.address(1), c.address(2), c.address(3)});
  ASSERT_OK(cl->Put("k", "v"));
  EXPECT_EQ(cl->leader_endpoint(), c.address(3));
  EXPECT_LE(cl->stats().redirects, 1u);
  EXPECT_EQ(cl->stats().discoveries, 0u);
  // Cached: the next write goes to the leader directly.
  uint64_t attempts = cl->stats().attempts;
  ASSERT_OK(cl->Put("k2", "v"));
  EXPECT_EQ(cl->stats().attempts, attempts + 1);
}

TEST(ClientService, HintWithoutAddressTriggersStatusDiscovery) {
  FakeCluster c(3, /*with_address_hints=*/false);
  c.SetLeader(2);
  auto cl = c.NewClient({c.address(1), c.address(3), c.address(2)});
  ASSERT_OK(cl->Put("k", "v"));
  EXPECT_EQ(cl->leader_endpoint(), c.address(2));
  // A redirect from node 1 or 3 carried no address: Status sweep.
  if (cl->stats().redirects > 0) {
    EXPECT_GE(cl->stats().discoveries, 1u);
  }
}

// The leader checks the request rules again (a raw RPC skips the client's
// checks): an empty key or more than kMaxRequestBytes is refused before
// anything is proposed, so no oversize entry can reach the Raft log.
TEST(ClientService, LeaderRefusesEmptyKeysAndOversizeRequestsBeforeProposing) {
  FakeCluster c(1, true);
  c.SetLeader(1);
  auto rpc = net::RpcClient::Create({}).value();
  PutRequest big;
  big.key = "k";
  big.value.assign(kMaxRequestBytes, 'v');  // key + value = limit + 1
  auto r = rpc->CallSync<PutMethod>(c.address(1), big);
  ASSERT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("request too large"), std::string::npos);
  PutRequest empty;
  empty.value = "v";
  EXPECT_TRUE(rpc->CallSync<PutMethod>(c.address(1), empty).status().IsInvalidArgument());
  CasRequest cas;
  cas.key = "k";
  cas.has_expected = true;
  cas.expected.assign(kMaxRequestBytes / 2, 'e');
  cas.value.assign(kMaxRequestBytes / 2, 'n');
  EXPECT_TRUE(rpc->CallSync<CasMethod>(c.address(1), cas).status().IsInvalidArgument());
  EXPECT_EQ(c.group().proposals, 0u);
  big.value.resize(kMaxRequestBytes - 1);  // exactly the limit: accepted
  EXPECT_OK(rpc->CallSync<PutMethod>(c.address(1), big).status());
  EXPECT_EQ(c.group().proposals, 1u);
}

TEST(ClientService, FollowerAnswersNotLeaderWithClientAddressNeverPeerAddress) {
  for (bool hints : {false, true}) {
    FakeCluster c(3, hints);
    c.SetLeader(2);
    auto rpc = net::RpcClient::Create({}).value();
    PutRequest req;
    req.key = "k";
    auto r = rpc->CallSync<PutMethod>(c.address(1), req);
    ASSERT_TRUE(r.status().IsNotLeader()) << r.status().ToString();
    // The fake node's own message says addr=127.0.0.1:7002 (a peer address).
    EXPECT_EQ(r.status().message(), hints ? "leader=2 addr=" + c.address(2) : "leader=2");
    GetRequest get;
    get.key = "k";
    auto g = rpc->CallSync<GetMethod>(c.address(3), get);
    ASSERT_TRUE(g.status().IsNotLeader()) << g.status().ToString();
    ASSERT_TRUE(RoutingErrorOf(g.status()).has_value());
    EXPECT_EQ(RoutingErrorOf(g.status())->leader_id, 2u);
  }
}

TEST(ClientService, LeaderChangeIsFollowed) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  ASSERT_OK(cl->Put("a", "1"));
  EXPECT_EQ(cl->leader_endpoint(), c.address(1));
  c.SetLeader(2);
  ASSERT_OK(cl->Put("b", "2"));
  EXPECT_EQ(cl->leader_endpoint(), c.address(2));
  auto v = cl->Get("a");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), "1");
}

TEST(ClientService, NoLeaderFailsWithTimeoutAtTheDeadline) {
  FakeCluster c(3, true);
  c.SetLeader(0);
  auto cl = c.NewClient({}, 400ms);
  auto start = std::chrono::steady_clock::now();
  Status s = cl->Put("k", "v");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.IsTimeout()) << s.ToString();
  EXPECT_NE(s.message().find("NotLeader"), std::string::npos) << s.ToString();
  EXPECT_GE(took, 390ms);
  EXPECT_GT(cl->stats().retries, 1u);
  // The fake applied nothing.
  std::lock_guard<std::mutex> l(c.group().mu);
  EXPECT_EQ(c.group().proposals, 0u);
}

// The deadline and the waits between attempts run on the client's injected
// clock: a 10-minute deadline with no leader to be found ends after 10 minutes
// of manual time -- over a thousand backed-off attempts -- in moments of real time.
TEST(ClientService, DeadlineAndBackoffRunOnTheInjectedClock) {
  FakeCluster c(3, true);
  c.SetLeader(0);
  ManualClock clock(1'000'000);
  auto cl = c.NewClient({}, std::chrono::minutes(10), &clock);
  const auto real_start = std::chrono::steady_clock::now();
  Status s = cl->Put("k", "v");
  const auto real = std::chrono::steady_clock::now() - real_start;
  EXPECT_TRUE(s.IsTimeout()) << s.ToString();
  EXPECT_GE(clock.NowMicros() - 1'000'000, 600ull * 1'000'000);
  // Backoff is capped at 500 ms, so 10 minutes hold at least 1200 waits.
  EXPECT_GE(cl->stats().retries, 1200u);
  // Generous: on the real clock this would take 10 minutes.
  EXPECT_LT(real, std::chrono::minutes(3));
  std::lock_guard<std::mutex> l(c.group().mu);
  EXPECT_EQ(c.group().proposals, 0u);
}

TEST(ClientService, LostAcknowledgementIsRetriedAndAppliedOnce) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  {
    std::lock_guard<std::mutex> l(c.group().mu);
    c.group().lose_replies = 1;
  }
  ASSERT_OK(cl->Put("k", "v1"));
  std::lock_guard<std::mutex> l(c.group().mu);
  EXPECT_EQ(c.group().proposals, 2u);  // the original and one retry ...
  ASSERT_EQ(c.group().executions.size(), 1u);
  EXPECT_EQ(c.group().executions.begin()->second, 1);  // ... executed once
}

TEST(ClientService, CasRetryAfterLostAcknowledgementReportsTheOriginalSuccess) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  ASSERT_OK(cl->Put("k", "old"));
  {
    std::lock_guard<std::mutex> l(c.group().mu);
    c.group().lose_replies = 1;
  }
  // Without dedup the retry would see "new" and report failure.
  auto r = cl->Cas("k", std::string("old"), "new");
  ASSERT_OK(r.status());
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(cl->Get("k")->value_or(""), "new");
}

TEST(ClientService, CasSemantics) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  auto r = cl->Cas("k", std::nullopt, "a");  // absent: succeeds
  ASSERT_OK(r.status());
  EXPECT_TRUE(r->succeeded);
  r = cl->Cas("k", std::nullopt, "b");  // present now: fails, reports current
  ASSERT_OK(r.status());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->current, std::optional<std::string>("a"));
  r = cl->Cas("k", std::string("x"), "b");
  ASSERT_OK(r.status());
  EXPECT_FALSE(r->succeeded);
  r = cl->Cas("k", std::string("a"), "b");
  ASSERT_OK(r.status());
  EXPECT_TRUE(r->succeeded);
  ASSERT_OK(cl->Delete("k"));
  r = cl->Cas("k", std::string("b"), "c");
  ASSERT_OK(r.status());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->current, std::nullopt);
}

TEST(ClientService, ReadBarrierTimeoutIsRetried) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  ASSERT_OK(cl->Put("k", "v"));
  {
    std::lock_guard<std::mutex> l(c.group().mu);
    c.group().fail_barriers = 2;
  }
  auto v = cl->Get("k");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), "v");
  EXPECT_GE(cl->stats().retries, 2u);
}

TEST(ClientService, SerializableReadIsServedByAFollower) {
  FakeCluster c(3, true);
  auto writer = c.NewClient();
  ASSERT_OK(writer->Put("k", "v"));
  auto cl = c.NewClient({c.address(2)});  // a follower only
  CallOptions o;
  o.serializable = true;
  auto v = cl->Get("k", o);
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), "v");
  EXPECT_EQ(cl->stats().redirects, 0u);
  auto kvs = cl->Scan("", "", 0, o);
  ASSERT_OK(kvs.status());
  EXPECT_EQ(kvs->size(), 1u);
}

TEST(ClientService, DeadEndpointIsSkipped) {
  FakeCluster c(3, true);
  // A port nobody listens on (bound then released by a short-lived server).
  std::string dead;
  {
    auto s = net::RpcServer::Create({}).value();
    ASSERT_OK(s->Start());
    dead = s->address();
    s->Shutdown(0ms);
  }
  auto cl = c.NewClient({dead, c.address(1)});
  for (int i = 0; i < 5; ++i) ASSERT_OK(cl->Put("k" + std::to_string(i), "v"));
  EXPECT_EQ(cl->leader_endpoint(), c.address(1));
}

TEST(ClientService, ScanPagesThroughLargeRanges) {
  FakeCluster c(1, true);
  auto cl = c.NewClient();
  const int n = 2 * static_cast<int>(kMaxScanPageItems) + 345;
  {
    std::lock_guard<std::mutex> l(c.group().mu);  // bulk load behind the client's back
    for (int i = 0; i < n; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "key%06d", i);
      c.group().data[key] = "v" + std::to_string(i);
    }
    c.group().data["zzz"] = "outside";
  }
  auto all = cl->Scan("key", "kez");
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), static_cast<size_t>(n));
  for (int i = 1; i < n; ++i) ASSERT_LT((*all)[i - 1].key, (*all)[i].key);
  EXPECT_EQ(all->back().value, "v" + std::to_string(n - 1));

  auto limited = cl->Scan("key", "kez", 1500);
  ASSERT_OK(limited.status());
  EXPECT_EQ(limited->size(), 1500u);
  EXPECT_EQ(limited->back().key, "key001499");

  auto keys = cl->Scan("key000010", "key000013", 0, {}, /*keys_only=*/true);
  ASSERT_OK(keys.status());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].key, "key000010");
  EXPECT_EQ((*keys)[0].value, "");

  auto to_end = cl->Scan("key002340", "");
  ASSERT_OK(to_end.status());
  EXPECT_EQ(to_end->size(), 6u);  // 5 keys + "zzz"

  auto empty = cl->Scan("b", "a");
  ASSERT_OK(empty.status());
  EXPECT_TRUE(empty->empty());
}

// A page stops before its keys and values pass kMaxScanPageBytes, but holds
// at least one pair, so a range of large values (each a page of its own)
// reads back completely instead of building a page above the frame limit.
TEST(ClientService, ScanPagesStayWithinTheByteBudget) {
  FakeCluster c(1, true);
  const std::string big(1000 * 1000, 'B');  // 1 MB each: two do not fit a page
  {
    std::lock_guard<std::mutex> l(c.group().mu);
    for (int i = 0; i < 6; ++i) c.group().data["big/" + std::to_string(i)] = big + char('0' + i);
    for (int i = 0; i < 300; ++i) c.group().data["big/s" + std::to_string(1000 + i)] = "small";
  }
  auto cl = c.NewClient();
  auto all = cl->Scan("big/", PrefixEnd("big/"));
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 306u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*all)[i].value, big + char('0' + i));

  // Page by page: each within the budget, or a single pair.
  auto rpc = net::RpcClient::Create({}).value();
  ScanRequest req;
  req.start = "big/";
  req.end = PrefixEnd("big/");
  size_t pages = 0, pairs = 0;
  for (;;) {
    auto page = rpc->CallSync<ScanMethod>(c.address(1), req);
    ASSERT_OK(page.status());
    ++pages;
    uint64_t bytes = 0;
    for (const KeyValue& kv : page->kvs) bytes += kv.key.size() + kv.value.size();
    EXPECT_TRUE(bytes <= kMaxScanPageBytes || page->kvs.size() == 1)
        << page->kvs.size() << " pairs, " << bytes << " bytes";
    pairs += page->kvs.size();
    if (!page->more) break;
    req.start = page->next_key;
  }
  EXPECT_EQ(pairs, 306u);
  EXPECT_EQ(pages, 6u);  // one large pair each; the small ones share the last page
}

TEST(ClientService, DeleteRangeCountsRemovedKeys) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  for (std::string k : {"a", "b1", "b2", "b3", "c"}) ASSERT_OK(cl->Put(k, "v"));
  auto n = cl->DeleteRange("b", PrefixEnd("b"));
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 3u);
  auto rest = cl->Scan("", "");
  ASSERT_OK(rest.status());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].key, "a");
  EXPECT_EQ((*rest)[1].key, "c");
  n = cl->DeleteRange("", "");
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 2u);
}

TEST(ClientService, ConcurrentWritersUseSeparateSessions) {
  FakeCluster c(3, true);
  auto cl = c.NewClient();
  constexpr int kThreads = 8, kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!cl->Put("t" + std::to_string(t) + "-" + std::to_string(i), "v").ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(cl->stats().write_sessions, static_cast<uint64_t>(kThreads));
  auto all = cl->Scan("t", "u");
  ASSERT_OK(all.status());
  // No write was mistaken for a duplicate of another.
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kPerThread));
  std::lock_guard<std::mutex> l(c.group().mu);
  for (auto& [id, count] : c.group().executions) EXPECT_EQ(count, 1);
}

TEST(ClientService, StatusMemberListAndHealth) {
  FakeCluster c(3, true);
  c.SetLeader(2);
  auto cl = c.NewClient();
  auto st = cl->EndpointStatus(c.address(1));
  ASSERT_OK(st.status());
  EXPECT_EQ(st->id, 1u);
  EXPECT_EQ(st->leader, 2u);
  EXPECT_EQ(st->role, "follower");
  EXPECT_EQ(st->client_address, c.address(1));
  EXPECT_EQ(st->leader_client_address, c.address(2));
  auto members = cl->MemberList();
  ASSERT_OK(members.status());
  ASSERT_EQ(members->members.size(), 3u);
  EXPECT_EQ(members->leader, 2u);
  EXPECT_EQ(members->members[2].id, 3u);
  EXPECT_EQ(members->members[2].client_address, c.address(3));
  EXPECT_EQ(members->members[2].peer_address, "127.0.0.1:7003");
  HealthReport h = cl->Health(c.address(3));
  EXPECT_TRUE(h.healthy) << h.error;
  c.SetLeader(0);
  h = cl->Health(c.address(3));
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.error.find("no leader"), std::string::npos) << h.error;
}

TEST(ClientService, ClosedClientFailsFast) {
  FakeCluster c(1, true);
  auto cl = c.NewClient();
  cl->Close();
  EXPECT_TRUE(cl->Put("k", "v").IsCancelled());
}

TEST(ClientService, CreateRejectsBadEndpoints) {
  EXPECT_TRUE(Client::Create({}).status().IsInvalidArgument());
  ClientOptions o;
  o.endpoints = {"localhost"};
  EXPECT_TRUE(Client::Create(o).status().IsInvalidArgument());
  o.endpoints = {"127.0.0.1:99999"};
  EXPECT_TRUE(Client::Create(o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tinykv::client
