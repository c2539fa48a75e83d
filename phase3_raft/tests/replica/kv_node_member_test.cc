// KvNode membership change: real nodes in one process over loopback TCP.
// Dissertation §4 (one server at a time), §4.2.1 (learners catch up before
// they count), §4.2.2 (removing the leader), §4.2.3 (disruptive servers).
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tinykv/common/check.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/kv_node.h"
#include "node_test_util.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
using namespace raft;  // NOLINT: core types in tests
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string Addr(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Nodes by id; ids 1..initial form the bootstrap cluster, later ids join.
// A restarted node listens on its previous peer port, so addresses stored in
// the replicated address book stay valid.
class Group {
 public:
  explicit Group(int initial, uint64_t snapshot_threshold = 10000) : threshold_(snapshot_threshold) {
    for (int i = 1; i <= initial; ++i) initial_.insert(i);
    for (int i : initial_) Open(i, /*join=*/false, /*all_peers=*/true);
    WireAddresses();
  }
  ~Group() {
    for (auto& [id, nd] : nodes_)
      if (nd) nd->Stop();
  }

  // Opens node i. The initial members are given every initial member's
  // address when known; with all_peers=false only its own entry (so other
  // addresses must come from the replicated address book).
  // stale_peers: addresses given at Open that override the initial members'
  // current ones (a member restarted with an outdated command line).
  void Open(int i, bool join, bool all_peers, std::map<uint64_t, std::string> stale_peers = {},
            bool address_book_wins = false) {
    KvNodeOptions o;
    o.address_book_wins = address_book_wins;
    o.id = i;
    o.data_dir = dir_.path() / ("n" + std::to_string(i));
    o.join_existing = join;
    if (all_peers) {
      for (int j : initial_) o.peers[j] = ports_.count(j) ? Addr(ports_[j]) : "";
    }
    o.peers[i] = ports_.count(i) ? Addr(ports_[i]) : "";
    for (auto& [j, a] : stale_peers) o.peers[j] = a;
    if (ports_.count(i)) o.peer_listen = Addr(ports_[i]);
    o.tick_ms = 20;
    o.election_ticks = 10;
    o.snapshot_threshold = threshold_;
    o.sync = false;
    o.io_threads = 1;
    std::shared_ptr<Sent>& sent = sent_[i];
    if (!sent) sent = std::make_shared<Sent>();
    o.TEST_on_send = [sent](const Message& m) {
      if (m.type == MessageType::kMsgPreVote) sent->pre_votes++;
      if (m.type == MessageType::kMsgVote) sent->votes++;
    };
    auto r = KvNode::Open(o);
    TINYKV_CHECK(r.ok()) << r.status().ToString();
    nodes_[i] = std::move(r).value();
    ports_[i] = nodes_[i]->peer_port();
  }
  // Tells every running node every other running node's address (a test
  // convenience, like LocalCluster; membership itself carries addresses).
  void WireAddresses() {
    for (auto& [a, na] : nodes_)
      for (auto& [b, nb] : nodes_)
        if (na && nb && a != b) na->SetPeerAddress(b, Addr(ports_[b]));
  }
  void Stop(int i) {
    nodes_[i]->Stop();
    nodes_[i].reset();
  }
  // The next Open(i) listens on a new port from the OS instead of i's old one.
  void ForgetPort(int i) { ports_.erase(i); }
  KvNode* node(int i) { return nodes_.count(i) ? nodes_[i].get() : nullptr; }
  uint16_t port(int i) { return ports_[i]; }

  // Campaign messages node i has sent (dropped ones included), counted at
  // its driver's send (ReplicaOptions::TEST_on_send).
  struct Sent {
    std::atomic<uint64_t> pre_votes{0};
    std::atomic<uint64_t> votes{0};
  };
  const Sent& sent(int i) { return *sent_[i]; }
  // Waits until pred() holds (polling); false after `timeout`.
  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 20s) {
    auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  KvNode* LeaderNode() {
    const int l = Leader();
    return l == 0 ? nullptr : nodes_[l].get();
  }
  int Leader(std::chrono::milliseconds timeout = 10s) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      for (auto& [id, nd] : nodes_)
        if (nd && nd->GetStatus().role == "leader") return id;
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  Result<KvCommandResult> Put(const std::string& k, const std::string& v) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return node_test::RetryAtLeader<KvCommandResult>(
        [&] { return LeaderNode(); }, [&](KvNode* n) { return n->ProposeSync(c, 3s); },
        [](const Status& s) { return s.IsNotLeader() || s.IsAborted(); }, 100);
  }

  // Retries on the transient refusals (NotLeader, Busy right after an
  // election, Aborted, Unavailable while a learner catches up); returns any
  // other outcome.
  Result<MemberChangeResult> Change(MemberChange ch) {
    return node_test::RetryAtLeader<MemberChangeResult>(
        [&] { return LeaderNode(); }, [&](KvNode* n) { return n->ProposeMemberChangeSync(ch, 5s); },
        [](const Status& s) {
          return s.IsNotLeader() || s.IsBusy() || s.IsAborted() || s.IsUnavailable();
        },
        200);
  }

  bool WaitValue(int i, const std::string& k, const std::optional<std::string>& v,
                 std::chrono::milliseconds timeout = 15s) {
    return node_test::WaitValue(nodes_[i].get(), k, v, timeout);
  }

 private:
  testing::TempDir dir_;
  uint64_t threshold_;
  std::set<int> initial_;
  std::map<int, std::unique_ptr<KvNode>> nodes_;
  std::map<int, uint16_t> ports_;
  std::map<int, std::shared_ptr<Sent>> sent_;
};

// "voters=[..] learners=[..]" of a node's applied configuration.
std::string ConfOf(KvNode* n) {
  std::string v, l;
  for (const MemberInfo& m : n->GetStatus().members) (m.learner ? l : v) += std::to_string(m.id) + ",";
  return "voters=[" + v + "] learners=[" + l + "]";
}

const MemberInfo* Find(const std::vector<MemberInfo>& ms, uint64_t id) {
  for (const auto& m : ms)
    if (m.id == id) return &m;
  return nullptr;
}

MemberChange Make(MemberChange::Type t, uint64_t id, std::string peer = "", std::string client = "") {
  MemberChange ch;
  ch.type = t;
  ch.id = id;
  ch.peer_address = std::move(peer);
  ch.client_address = std::move(client);
  return ch;
}

// A node started with join_existing has no configuration: it never
// campaigns (no term change, no leader), however long it runs.
TEST(KvNodeMembershipTest, JoiningNodeWithoutConfigurationDoesNotCampaign) {
  testing::TempDir dir;
  KvNodeOptions o;
  o.id = 4;
  o.data_dir = dir.path() / "n4";
  o.peers[4] = "";
  o.peers[1] = "127.0.0.1:1";  // nobody there
  o.join_existing = true;
  o.tick_ms = 10;
  o.election_ticks = 5;
  o.sync = false;
  auto campaigns = std::make_shared<std::atomic<int>>(0);
  o.TEST_on_send = [campaigns](const Message& m) {
    if (m.type == MessageType::kMsgPreVote || m.type == MessageType::kMsgVote) ++*campaigns;
  };
  auto r = KvNode::Open(o);
  ASSERT_OK(r.status());
  std::unique_ptr<KvNode> n = std::move(r).value();
  // 10 of its longest election timeouts (2 x election_ticks), on its own ticks.
  ASSERT_TRUE(Group::WaitFor([&] { return n->GetStatus().ticks >= 10 * 2 * 5; }));
  KvNodeStatus st = n->GetStatus();
  EXPECT_EQ(campaigns->load(), 0);
  EXPECT_EQ(st.term, 0u);
  EXPECT_EQ(st.role, "follower");
  EXPECT_EQ(st.leader, 0u);
  EXPECT_TRUE(st.members.empty());
  EXPECT_EQ(st.last_index, 0u);
  // It refuses writes and member changes (not a leader).
  KvCommand c;
  c.key = "k";
  EXPECT_TRUE(n->ProposeSync(c, 1s).status().IsNotLeader());
  EXPECT_TRUE(n->ProposeMemberChangeSync(Make(MemberChange::Type::kRemove, 1), 1s)
                  .status()
                  .IsNotLeader());
  n->Stop();
}

// The full life cycle: a learner joins while writes flow and catches up, is
// promoted, an original member is removed; every acknowledged write stays
// readable; the configuration and address book survive a restart of every
// node (restarted members are NOT told the new member's address: they read
// it from the replicated address book).
TEST(KvNodeMembershipTest, LearnerJoinsCatchesUpIsPromotedAndAnOriginalIsRemoved) {
  Group g(3);
  ASSERT_NE(g.Leader(), 0);
  for (int i = 0; i < 50; ++i) ASSERT_OK(g.Put("pre" + std::to_string(i), "v").status());

  g.Open(4, /*join=*/true, /*all_peers=*/true);
  g.WireAddresses();
  // Writes keep flowing while the learner is added and catches up.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto r = g.Put("during" + std::to_string(i), std::to_string(i));
      TINYKV_CHECK(r.ok()) << r.status().ToString();
      written = i + 1;
    }
  });
  auto add = g.Change(Make(MemberChange::Type::kAddLearner, 4, Addr(g.port(4)), "127.0.0.1:5004"));
  ASSERT_OK(add.status());
  ASSERT_NE(Find(add->members, 4), nullptr);
  EXPECT_TRUE(Find(add->members, 4)->learner);
  EXPECT_EQ(Find(add->members, 4)->client_address, "127.0.0.1:5004");
  while (written < 30) std::this_thread::sleep_for(5ms);
  stop = true;
  writer.join();
  const int n_during = written;

  // The learner's state machine converges to the leader's.
  int l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.node(l)->ReadBarrierSync(5s));
  const uint64_t target = g.node(l)->GetStatus().applied_index;
  auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline && g.node(4)->GetStatus().applied_index < target)
    std::this_thread::sleep_for(10ms);
  ASSERT_GE(g.node(4)->GetStatus().applied_index, target);
  auto want = g.node(l)->Scan("", "", 100000);
  auto got = g.node(4)->Scan("", "", 100000);
  ASSERT_OK(want.status());
  ASSERT_OK(got.status());
  EXPECT_EQ(want->size(), static_cast<size_t>(50 + n_during));
  EXPECT_EQ(*got, *want);
  EXPECT_EQ(ConfOf(g.node(4)), "voters=[1,2,3,] learners=[4,]");
  EXPECT_EQ(g.node(4)->GetStatus().role, "follower");

  // Promote, then remove node 1.
  auto prom = g.Change(Make(MemberChange::Type::kPromote, 4));
  ASSERT_OK(prom.status());
  EXPECT_FALSE(Find(prom->members, 4)->learner);
  auto rem = g.Change(Make(MemberChange::Type::kRemove, 1));
  ASSERT_OK(rem.status());
  EXPECT_EQ(Find(rem->members, 1), nullptr);
  ASSERT_OK(g.Put("after", "x").status());
  for (int i : {2, 3, 4}) {
    ASSERT_TRUE(g.WaitValue(i, "after", "x")) << "node " << i;
    auto deadline2 = Clock::now() + 10s;
    while (Clock::now() < deadline2 && ConfOf(g.node(i)) != "voters=[2,3,4,] learners=[]")
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(ConfOf(g.node(i)), "voters=[2,3,4,] learners=[]") << "node " << i;
  }
  g.Stop(1);

  // Restart every remaining node; 2 and 3 are told only the initial
  // members' addresses, so they reach 4 through the address book.
  for (int i : {2, 3, 4}) g.Stop(i);
  for (int i : {2, 3}) g.Open(i, /*join=*/false, /*all_peers=*/true);
  g.Open(4, /*join=*/true, /*all_peers=*/true);  // join flag ignored: the dir is not empty
  for (int i : {2, 3, 4}) {
    EXPECT_EQ(ConfOf(g.node(i)), "voters=[2,3,4,] learners=[]") << "node " << i;
    const KvNodeStatus st = g.node(i)->GetStatus();
    const MemberInfo* m4 = Find(st.members, 4);
    ASSERT_NE(m4, nullptr);
    EXPECT_EQ(m4->client_address, "127.0.0.1:5004") << "node " << i;
    if (i != 4) {
      EXPECT_EQ(m4->peer_address, Addr(g.port(4))) << "node " << i;
    }
  }
  ASSERT_OK(g.Put("restarted", "y").status());
  for (int i : {2, 3, 4}) EXPECT_TRUE(g.WaitValue(i, "restarted", "y")) << "node " << i;
  // Every acknowledged write is still there.
  l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.node(l)->ReadBarrierSync(5s));
  for (int i = 0; i < 50; ++i) {
    auto v = g.node(l)->Get("pre" + std::to_string(i));
    ASSERT_OK(v.status());
    EXPECT_EQ(*v, std::optional<std::string>("v"));
  }
  for (int i = 0; i < n_during; ++i) {
    auto v = g.node(l)->Get("during" + std::to_string(i));
    ASSERT_OK(v.status());
    EXPECT_EQ(*v, std::optional<std::string>(std::to_string(i)));
  }
}

// A member added after the leader compacted its log receives a snapshot; the
// snapshot carries the configuration and the address book, so a later joiner
// learns an earlier joiner's address without being told.
TEST(KvNodeMembershipTest, JoinersCatchUpFromASnapshotThatCarriesTheAddressBook) {
  Group g(3, /*snapshot_threshold=*/40);
  ASSERT_NE(g.Leader(), 0);
  g.Open(4, /*join=*/true, /*all_peers=*/true);
  g.WireAddresses();
  ASSERT_OK(g.Change(Make(MemberChange::Type::kAddLearner, 4, Addr(g.port(4)), "127.0.0.1:5004"))
                .status());
  for (int i = 0; i < 200; ++i) ASSERT_OK(g.Put("k" + std::to_string(i), std::to_string(i)).status());
  ASSERT_TRUE(g.WaitValue(4, "k199", "199"));

  // Node 5 is told only the initial members' addresses and its own.
  g.Open(5, /*join=*/true, /*all_peers=*/true);
  for (int i = 1; i <= 3; ++i) g.node(i)->SetPeerAddress(5, Addr(g.port(5)));
  for (int i = 1; i <= 3; ++i) g.node(5)->SetPeerAddress(i, Addr(g.port(i)));
  ASSERT_OK(g.Change(Make(MemberChange::Type::kAddLearner, 5, Addr(g.port(5)))).status());
  ASSERT_TRUE(g.WaitValue(5, "k199", "199"));
  // (The data becomes readable a moment before the driver records the
  // snapshot's configuration: wait for that too.)
  auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && ConfOf(g.node(5)) != "voters=[1,2,3,] learners=[4,5,]")
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ConfOf(g.node(5)), "voters=[1,2,3,] learners=[4,5,]");
  KvNodeStatus st5 = g.node(5)->GetStatus();
  EXPECT_GT(st5.snapshot_index, 0u) << "node 5 should have caught up from a snapshot";
  EXPECT_GT(st5.first_index, 1u);
  const MemberInfo* m4 = Find(st5.members, 4);
  ASSERT_NE(m4, nullptr);
  EXPECT_EQ(m4->peer_address, Addr(g.port(4)));
  EXPECT_EQ(m4->client_address, "127.0.0.1:5004");
  auto a = g.node(5)->Scan("", "", 1000);
  ASSERT_OK(a.status());
  EXPECT_EQ(a->size(), 200u);
}

// Data dirs bootstrapped the old way (a ConfState in a bootstrap snapshot at
// index 0, before conf change entries at 1..n) still open, elect and
// replicate, and report their members.
TEST(KvNodeMembershipTest, DataDirsBootstrappedWithASnapshotStillStart) {
  testing::TempDir dir;
  ConfState cs;
  cs.voters = {1, 2, 3};
  for (int i = 1; i <= 3; ++i) {
    DiskStorageOptions so;
    so.sync = false;
    auto st = DiskStorage::Open(dir.path() / ("n" + std::to_string(i)) / "raft", so);
    ASSERT_OK(st.status());
    ASSERT_OK((*st)->Bootstrap(cs));
  }
  std::map<int, std::unique_ptr<KvNode>> nodes;
  for (int i = 1; i <= 3; ++i) {
    KvNodeOptions o;
    o.id = i;
    o.data_dir = dir.path() / ("n" + std::to_string(i));
    for (int j = 1; j <= 3; ++j) o.peers[j] = "";
    o.tick_ms = 20;
    o.sync = false;
    o.io_threads = 1;
    auto r = KvNode::Open(o);
    ASSERT_OK(r.status());
    nodes[i] = std::move(r).value();
  }
  for (auto& [a, na] : nodes)
    for (auto& [b, nb] : nodes)
      if (a != b) na->SetPeerAddress(b, Addr(nb->peer_port()));
  int l = 0;
  auto deadline = Clock::now() + 10s;
  while (l == 0 && Clock::now() < deadline) {
    for (auto& [i, n] : nodes)
      if (n->GetStatus().role == "leader") l = i;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(l, 0);
  EXPECT_EQ(nodes[l]->GetStatus().first_index, 1u);
  EXPECT_EQ(ConfOf(nodes[l].get()), "voters=[1,2,3,] learners=[]");
  KvCommand c;
  c.key = "k";
  c.value = "v";
  ASSERT_OK(nodes[l]->ProposeSync(c, 5s).status());
  for (auto& [i, n] : nodes) n->Stop();
}

// §4.2.2: the leader removes itself; it steps down once the entry applies,
// the others elect a leader, and the removed node, still running and
// connected, does not disturb them (no term changes while it runs).
TEST(KvNodeMembershipTest, RemovedLeaderStepsDownAndDoesNotDisruptTheRest) {
  Group g(3);
  int l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.Put("before", "1").status());
  // Retry until the leader is free to change (Busy right after its election).
  Result<MemberChangeResult> rem = Status::Busy("");
  for (int i = 0; i < 100 && rem.status().IsBusy(); ++i) {
    rem = g.node(l)->ProposeMemberChangeSync(Make(MemberChange::Type::kRemove, l), 5s);
    if (rem.status().IsBusy()) std::this_thread::sleep_for(20ms);
  }
  ASSERT_OK(rem.status());
  EXPECT_EQ(Find(rem->members, l), nullptr);

  int nl = 0;
  auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && (nl == 0 || nl == l)) {
    nl = g.Leader();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(nl, 0);
  ASSERT_NE(nl, l);
  ASSERT_OK(g.Put("after", "2").status());
  const uint64_t term = g.node(nl)->GetStatus().term;
  // The removed node applied its removal: it is no longer promotable, so it
  // never campaigns however long it runs. Let 5 of its longest election
  // timeouts (2 x election_ticks) pass on its own tick count.
  const uint64_t ticks0 = g.node(l)->GetStatus().ticks;
  const uint64_t pre_votes0 = g.sent(l).pre_votes, votes0 = g.sent(l).votes;
  ASSERT_TRUE(Group::WaitFor([&] { return g.node(l)->GetStatus().ticks >= ticks0 + 5 * 2 * 10; }));
  EXPECT_EQ(g.sent(l).pre_votes, pre_votes0);
  EXPECT_EQ(g.sent(l).votes, votes0);
  EXPECT_EQ(g.node(nl)->GetStatus().term, term);
  EXPECT_EQ(g.node(nl)->GetStatus().leader, static_cast<uint64_t>(nl));
  EXPECT_NE(g.node(l)->GetStatus().role, "leader");
  // The removed node refuses writes.
  KvCommand c;
  c.key = "x";
  EXPECT_TRUE(g.node(l)->ProposeSync(c, 1s).status().IsNotLeader());
  for (int i = 1; i <= 3; ++i) {
    if (i == l) continue;
    EXPECT_TRUE(g.WaitValue(i, "before", "1"));
    EXPECT_TRUE(g.WaitValue(i, "after", "2"));
    EXPECT_EQ(g.node(i)->GetStatus().members.size(), 2u);
  }
}

// §4.2.3: a member removed while it was cut off never learns of it and keeps
// (pre-)campaigning after the partition heals; pre-vote and check-quorum make
// the others ignore it: no term change, same leader, writes go on.
TEST(KvNodeMembershipTest, MemberRemovedWhilePartitionedDoesNotDisruptAfterHealing) {
  Group g(3);
  int l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.Put("k", "v").status());
  const int f = l % 3 + 1;
  std::set<uint64_t> others;
  for (int i = 1; i <= 3; ++i)
    if (i != f) {
      others.insert(i);
      g.node(i)->SetDroppedPeers({static_cast<uint64_t>(f)});
    }
  g.node(f)->SetDroppedPeers(others);
  ASSERT_OK(g.Change(Make(MemberChange::Type::kRemove, f)).status());
  // f times out and pre-campaigns in isolation (it never learns of its removal).
  ASSERT_TRUE(Group::WaitFor([&] { return g.sent(f).pre_votes >= 2; }))
      << "node " << f << " never pre-campaigned while cut off";
  const int leader = g.Leader();
  ASSERT_NE(leader, 0);
  ASSERT_NE(leader, f);
  const uint64_t term = g.node(leader)->GetStatus().term;
  for (int i = 1; i <= 3; ++i) g.node(i)->SetDroppedPeers({});
  // Now connected, f keeps asking: wait for 3 more rounds of pre-votes to
  // both others (what could disturb them), then check that nothing moved.
  const uint64_t healed = g.sent(f).pre_votes;
  ASSERT_TRUE(Group::WaitFor([&] { return g.sent(f).pre_votes >= healed + 3 * 2; }))
      << "node " << f << " stopped pre-campaigning after the partition healed";
  EXPECT_EQ(g.sent(f).votes, 0u) << "pre-vote must keep f from a real election";
  EXPECT_EQ(g.node(leader)->GetStatus().term, term);
  EXPECT_EQ(g.Leader(), leader);
  EXPECT_NE(g.node(f)->GetStatus().role, "leader");
  ASSERT_OK(g.Put("after-heal", "x").status());
  for (int i = 1; i <= 3; ++i) {
    if (i == f) continue;
    EXPECT_TRUE(g.WaitValue(i, "after-heal", "x"));
    EXPECT_EQ(g.node(i)->GetStatus().members.size(), 2u);
  }
}

// One change at a time: while a conf change is proposed but not applied, a
// second one is refused with Busy; bad changes are refused up front.
TEST(KvNodeMembershipTest, SecondChangeWhileOneIsPendingIsRefused) {
  Group g(3);
  int l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.Put("k", "v").status());  // the leader has applied an entry of its term
  KvNode* leader = g.node(l);
  // Validation against the applied configuration.
  EXPECT_TRUE(leader->ProposeMemberChangeSync(Make(MemberChange::Type::kAddLearner, 1, "127.0.0.1:9"), 2s)
                  .status()
                  .IsAlreadyExists());
  EXPECT_TRUE(leader->ProposeMemberChangeSync(Make(MemberChange::Type::kAddLearner, 7, ""), 2s)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(leader->ProposeMemberChangeSync(Make(MemberChange::Type::kPromote, 7), 2s)
                  .status()
                  .IsNotFound());
  EXPECT_TRUE(leader->ProposeMemberChangeSync(Make(MemberChange::Type::kPromote, 2), 2s)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(leader->ProposeMemberChangeSync(Make(MemberChange::Type::kRemove, 9), 2s)
                  .status()
                  .IsNotFound());

  // Cut the leader off so the first change cannot commit.
  std::set<uint64_t> others;
  for (uint64_t i = 1; i <= 3; ++i)
    if (i != static_cast<uint64_t>(l)) others.insert(i);
  leader->SetDroppedPeers(others);
  std::promise<Status> first;
  leader->ProposeMemberChange(Make(MemberChange::Type::kAddLearner, 5, "127.0.0.1:9"), 500ms,
                              [&](Result<MemberChangeResult> r) { first.set_value(r.status()); });
  auto second =
      leader->ProposeMemberChangeSync(Make(MemberChange::Type::kAddLearner, 6, "127.0.0.1:9"), 2s);
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
  EXPECT_NE(second.status().ToString().find("conf change"), std::string::npos)
      << second.status().ToString();
  Status s1 = first.get_future().get();
  EXPECT_FALSE(s1.ok()) << "a change cannot apply without a quorum";
  leader->SetDroppedPeers({});
}

// etcd's member update: a member moved to a new peer port is reachable again
// once the update applies, because every member adopts the address from the
// entry (not from being told); the configuration is unchanged, the address
// persists in the address book (a member restarted without being told the
// new port reaches the moved one), and an update of a member that is not in
// the configuration, or without an address, is refused.
TEST(KvNodeMembershipTest, MemberUpdateMovesAStoppedMemberToANewPeerPort) {
  Group g(3);
  const int l = g.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(g.Put("k0", "v0").status());
  const int moved = l == 3 ? 2 : 3;
  const int other = 6 - l - moved;
  const std::string old_addr = Addr(g.port(moved));
  EXPECT_TRUE(
      g.node(l)->ProposeMemberChangeSync(Make(MemberChange::Type::kUpdate, 9, "127.0.0.1:9"), 2s)
          .status()
          .IsNotFound());
  EXPECT_TRUE(g.node(l)->ProposeMemberChangeSync(Make(MemberChange::Type::kUpdate, moved, ""), 2s)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      g.node(l)->ProposeMemberChangeSync(Make(MemberChange::Type::kUpdate, moved, "no-port"), 2s)
          .status()
          .IsInvalidArgument());

  g.Stop(moved);
  g.ForgetPort(moved);
  g.Open(moved, /*join=*/false, /*all_peers=*/true);  // on a port from the OS
  const std::string new_addr = Addr(g.port(moved));
  ASSERT_NE(new_addr, old_addr);
  ASSERT_OK(g.Put("k1", "v1").status());
  // Nobody told the others: they still send to the old port.
  EXPECT_EQ(Find(g.node(l)->GetStatus().members, moved)->peer_address, old_addr);
  EXPECT_EQ(Find(g.node(other)->GetStatus().members, moved)->peer_address, old_addr);

  const std::string before = ConfOf(g.node(l));
  auto up = g.Change(Make(MemberChange::Type::kUpdate, moved, new_addr, "127.0.0.1:5999"));
  ASSERT_OK(up.status());
  EXPECT_EQ(Find(up->members, moved)->peer_address, new_addr);
  EXPECT_EQ(Find(up->members, moved)->client_address, "127.0.0.1:5999");
  EXPECT_FALSE(Find(up->members, moved)->learner);
  EXPECT_EQ(ConfOf(g.node(l)), before);
  // The moved member catches up: the leader reaches it at the new port.
  ASSERT_TRUE(g.WaitValue(moved, "k1", "v1"));
  ASSERT_OK(g.Put("k2", "v2").status());
  ASSERT_TRUE(g.WaitValue(moved, "k2", "v2"));
  ASSERT_TRUE(Group::WaitFor(
      [&] { return Find(g.node(other)->GetStatus().members, moved)->peer_address == new_addr; }));
  EXPECT_EQ(ConfOf(g.node(moved)), before);

  // Persisted: the third member, restarted and told only its own address,
  // learns the moved member's new one from its address book.
  g.Stop(other);
  g.Open(other, /*join=*/false, /*all_peers=*/false);
  KvNodeStatus st = g.node(other)->GetStatus();
  EXPECT_EQ(Find(st.members, moved)->peer_address, new_addr);
  EXPECT_EQ(Find(st.members, moved)->client_address, "127.0.0.1:5999");

  // Restarted with its original command line (the moved member's old
  // address): with address_book_wins (tinykv-server's setting) the book's
  // new address stands; without it the stale one would (the control).
  g.Stop(other);
  const std::map<uint64_t, std::string> stale = {{static_cast<uint64_t>(moved), old_addr}};
  g.Open(other, false, true, stale, /*address_book_wins=*/false);
  EXPECT_EQ(Find(g.node(other)->GetStatus().members, moved)->peer_address, old_addr);
  g.Stop(other);
  g.Open(other, false, true, stale, /*address_book_wins=*/true);
  EXPECT_EQ(Find(g.node(other)->GetStatus().members, moved)->peer_address, new_addr);
}

}  // namespace
}  // namespace tinykv::replica
