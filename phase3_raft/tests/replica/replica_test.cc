// Replica over a StateMachine that is not KV-shaped (an append-only log), and
// many Raft groups per process over shared PeerHosts.
#include "tinykv/replica/replica.h"

#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "append_log_state_machine.h"
#include "node_test_util.h"
#include "replica/peer_protocol.h"
#include "tinykv/net/client.h"
#include "tinykv/raft/codec.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;
using testing::AppendLogStateMachine;

// n PeerHosts ("processes") on loopback, each knowing the others' addresses.
class Hosts {
 public:
  explicit Hosts(int n) {
    for (int i = 1; i <= n; ++i) {
      PeerHostOptions o;
      o.node_id = i;
      o.io_threads = 1;
      hosts_[i] = PeerHost::Start(o).value();
    }
    for (auto& [i, h] : hosts_)
      for (auto& [j, other] : hosts_)
        if (i != j) h->SetAddress(j, other->address());
  }
  ~Hosts() {
    for (auto& [i, h] : hosts_) h->Stop();
  }
  PeerHost* get(int i) { return hosts_.at(i).get(); }
  std::map<uint64_t, std::string> Peers() {
    std::map<uint64_t, std::string> p;
    for (auto& [i, h] : hosts_) p[i] = h->address();
    return p;
  }

 private:
  std::map<int, std::unique_ptr<PeerHost>> hosts_;
};

template <typename Node>
Node* WaitLeader(const std::map<int, std::unique_ptr<Node>>& nodes,
                 std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& [i, n] : nodes)
      if (n && n->GetStatus().role == "leader") return n.get();
    std::this_thread::sleep_for(10ms);
  }
  return nullptr;
}

bool Transient(const Status& s) { return s.IsNotLeader() || s.IsAborted() || s.IsBusy(); }

// --- the append-only log --------------------------------------------------

class LogGroup {
 public:
  LogGroup(Hosts& hosts, const std::filesystem::path& dir, int n, uint64_t threshold)
      : hosts_(hosts), dir_(dir), n_(n), threshold_(threshold) {
    for (int i = 1; i <= n; ++i) Start(i);
  }
  ~LogGroup() {
    for (auto& [i, r] : replicas_)
      if (r) r->Stop();
  }
  void Start(int i) {
    ReplicaOptions o;
    o.group = 7;
    o.dir = dir_ / ("n" + std::to_string(i));
    o.peers = hosts_.Peers();
    o.tick_ms = 20;
    o.snapshot_threshold = threshold_;
    o.sync = false;
    auto sm = AppendLogStateMachine::Open(o.dir / "log").value();
    sms_[i] = sm.get();
    replicas_[i] = Replica::Open(o, hosts_.get(i), std::move(sm)).value();
  }
  void Stop(int i) {
    replicas_[i]->Stop();
    replicas_[i].reset();
    sms_[i] = nullptr;
  }
  Result<std::string> Append(const std::string& item) {
    return node_test::RetryAtLeader<std::string>(
        [&]() -> Replica* { return WaitLeader(replicas_); },
        [&](Replica* r) { return r->ProposeSync(item, 3s); }, Transient, 100);
  }
  bool WaitItems(int i, size_t n, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (sms_[i] && replicas_[i] && replicas_[i]->GetStatus().applied_index > 0 &&
          sms_[i]->items().size() >= n)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  AppendLogStateMachine* sm(int i) { return sms_[i]; }
  Replica* replica(int i) { return replicas_[i].get(); }
  std::map<int, std::unique_ptr<Replica>>& replicas() { return replicas_; }

 private:
  Hosts& hosts_;
  std::filesystem::path dir_;
  int n_;
  uint64_t threshold_;
  std::map<int, std::unique_ptr<Replica>> replicas_;
  std::map<int, AppendLogStateMachine*> sms_;
};

TEST(ReplicaTest, AnAppendOnlyLogReplicatesWithOpaqueCommandsAndResults) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  LogGroup g(hosts, dir.path(), 3, 10000);
  for (int k = 1; k <= 20; ++k) {
    auto r = g.Append("item-" + std::to_string(k));
    ASSERT_OK(r.status());
    EXPECT_EQ(*r, std::to_string(k));  // the state machine's own result: the position
  }
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(g.WaitItems(i, 20)) << "replica " << i;
    auto items = g.sm(i)->items();
    ASSERT_EQ(items.size(), 20u);
    EXPECT_EQ(items.front(), "item-1");
    EXPECT_EQ(items.back(), "item-20");
    auto m = g.sm(i)->membership();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->conf.voters, (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(g.replica(i)->GetStatus().group, 7u);
  }
}

// A replica that missed more than the log keeps catches up from a snapshot:
// the generic Checkpoint/Install path, made, shipped and installed without
// knowing what is inside.
TEST(ReplicaTest, AnAppendOnlyLogCatchesUpFromASnapshot) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  LogGroup g(hosts, dir.path(), 3, /*threshold=*/20);
  ASSERT_OK(g.Append("first").status());
  ASSERT_TRUE(g.WaitItems(3, 1));
  g.Stop(3);
  for (int k = 0; k < 120; ++k) ASSERT_OK(g.Append("x" + std::to_string(k)).status());
  Replica* leader = WaitLeader(g.replicas());
  ASSERT_NE(leader, nullptr);
  ASSERT_GT(leader->GetStatus().first_index, 3u) << "the log was not compacted";
  g.Start(3);
  ASSERT_TRUE(g.WaitItems(3, 121, 20s));
  auto items = g.sm(3)->items();
  EXPECT_EQ(items.front(), "first");
  EXPECT_EQ(items.back(), "x119");
  EXPECT_GT(g.replica(3)->GetStatus().snapshot_index, 0u);
}

// The state hash check over a state machine that is not KV-shaped: the
// replicas agree, and one whose state is altered is found by name.
TEST(ReplicaTest, AnAppendOnlyLogIsHashedAndAnAlteredReplicaIsFlagged) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  LogGroup g(hosts, dir.path(), 3, 10000);
  for (int k = 1; k <= 10; ++k) ASSERT_OK(g.Append("item-" + std::to_string(k)).status());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(g.WaitItems(i, 10)) << "replica " << i;
  auto check = [&] {
    return node_test::RetryAtLeader<HashCheckReport>(
        [&]() -> Replica* { return WaitLeader(g.replicas()); },
        [&](Replica* r) { return r->CheckStateHashSync(10s); }, Transient, 100);
  };
  auto rep = check();
  ASSERT_OK(rep.status());
  EXPECT_TRUE(rep->corrupt.empty());
  EXPECT_EQ(rep->hashes.size(), 3u);
  ASSERT_TRUE(rep->majority.has_value());
  const int x = static_cast<int>(WaitLeader(g.replicas())->id() % 3 + 1);
  g.sm(x)->TEST_AlterItem(3, "altered");
  rep = check();
  ASSERT_OK(rep.status());
  EXPECT_EQ(rep->corrupt, std::vector<uint64_t>{static_cast<uint64_t>(x)});
  ASSERT_TRUE(::tinykv::testing::WaitUntil(
      [&] { return !g.replica(x)->GetStatus().alarm.empty(); }, 10s));
  EXPECT_TRUE(g.replica(x)->Alarm().IsUnavailable());
  ASSERT_OK(g.Append("after").status());  // the other two go on
}

// --- many groups per process ------------------------------------------------

// 3 hosts x 3 groups of KvNodes: node i of group g is (host i, group g).
class MultiGroup {
 public:
  MultiGroup(Hosts& hosts, const std::filesystem::path& dir) {
    for (uint64_t g = 1; g <= 3; ++g)
      for (int i = 1; i <= 3; ++i) {
        KvNodeOptions o;
        o.id = i;
        o.group = g;
        o.host = hosts.get(i);
        o.data_dir = dir / ("n" + std::to_string(i));
        o.peers = hosts.Peers();
        o.tick_ms = 20;
        o.sync = false;
        nodes_[g][i] = KvNode::Open(o).value();
      }
  }
  ~MultiGroup() {
    for (auto& [g, ns] : nodes_)
      for (auto& [i, n] : ns) n->Stop();
  }
  std::map<int, std::unique_ptr<KvNode>>& group(uint64_t g) { return nodes_[g]; }
  Result<KvCommandResult> Put(uint64_t g, const std::string& k, const std::string& v,
                              int tries = 100) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return node_test::RetryAtLeader<KvCommandResult>(
        [&]() -> KvNode* { return WaitLeader(nodes_[g], 2s); },
        [&](KvNode* n) { return n->ProposeSync(c, 1s); }, Transient, tries);
  }

 private:
  std::map<uint64_t, std::map<int, std::unique_ptr<KvNode>>> nodes_;
};

TEST(ReplicaMultiGroupTest, GroupsShareHostsButNotLogsLeadersOrData) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  MultiGroup mg(hosts, dir.path());
  for (uint64_t g = 1; g <= 3; ++g) ASSERT_OK(mg.Put(g, "owner", "group" + std::to_string(g)).status());
  // Independent leaders: move group g's leadership to node g.
  for (uint64_t g = 1; g <= 3; ++g) {
    KvNode* l = WaitLeader(mg.group(g));
    ASSERT_NE(l, nullptr);
    if (l->GetStatus().id != g) {
      ASSERT_OK(l->TransferLeadership(g, 5s)) << "group " << g;
    }
  }
  for (uint64_t g = 1; g <= 3; ++g) {
    EXPECT_EQ(mg.group(g)[static_cast<int>(g)]->GetStatus().role, "leader") << "group " << g;
    for (int i = 1; i <= 3; ++i) {
      EXPECT_TRUE(node_test::WaitValue(mg.group(g)[i].get(), "owner", "group" + std::to_string(g), 5s));
      EXPECT_EQ(mg.group(g)[i]->GetStatus().group, g);
    }
  }
  // Each group's files live in its own directory of the node's data dir.
  for (uint64_t g = 1; g <= 3; ++g)
    EXPECT_TRUE(std::filesystem::is_directory(GroupDir(dir.path() / "n1", g) / "raft")) << g;
  // One peer port per process carries every group.
  auto st = hosts.get(1)->stats();
  EXPECT_GT(st.messages_received, 0u);
  EXPECT_EQ(st.messages_refused, 0u);
}

TEST(ReplicaMultiGroupTest, AFaultInOneGroupDoesNotStallTheOthers) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  MultiGroup mg(hosts, dir.path());
  for (uint64_t g = 1; g <= 3; ++g) ASSERT_OK(mg.Put(g, "k", "before").status());
  // Group 2 loses quorum: every member of it drops all of its group's traffic.
  for (int i = 1; i <= 3; ++i) mg.group(2)[i]->SetDroppedPeers({1, 2, 3});
  // Writes to group 2 now fail (its leader cannot reach a majority) ...
  KvCommand c;
  c.key = "k";
  c.value = "during";
  KvNode* l2 = WaitLeader(mg.group(2), 1s);
  if (l2 != nullptr) {
    auto r = l2->ProposeSync(c, 500ms);
    EXPECT_FALSE(r.ok());
  }
  // ... while groups 1 and 3, on the same hosts and peer ports, keep committing.
  for (int k = 0; k < 50; ++k) {
    ASSERT_OK(mg.Put(1, "n" + std::to_string(k), "v").status()) << k;
    ASSERT_OK(mg.Put(3, "n" + std::to_string(k), "v").status()) << k;
  }
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(node_test::WaitValue(mg.group(1)[i].get(), "n49", "v", 5s));
    EXPECT_TRUE(node_test::WaitValue(mg.group(3)[i].get(), "n49", "v", 5s));
    EXPECT_EQ(mg.group(2)[i]->Get("n0").value(), std::nullopt);
  }
  // Healed, group 2 recovers.
  for (int i = 1; i <= 3; ++i) mg.group(2)[i]->SetDroppedPeers({});
  ASSERT_OK(mg.Put(2, "k", "after").status());
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(node_test::WaitValue(mg.group(2)[i].get(), "k", "after", 5s));
}

// The host checks every message before any replica sees it: for a group it
// does not host, naming another sender than its batch, or undecodable.
TEST(ReplicaMultiGroupTest, HostRefusesMessagesForUnknownGroupsAndForgedSenders) {
  ::tinykv::testing::TempDir dir;
  Hosts hosts(3);
  MultiGroup mg(hosts, dir.path());
  ASSERT_OK(mg.Put(1, "k", "v").status());
  net::ClientOptions co;  // a connection that says it is node 2 (peer_host_test.cc: handshake)
  co.hello = net::EncodeMessage(internal::PeerHello{internal::kPeerHelloVersion, 0, 2});
  auto rpc = net::RpcClient::Create(co).value();
  raft::Message hb;
  hb.type = raft::MessageType::kMsgHeartbeat;
  hb.from = 2;
  hb.to = 1;
  hb.term = 1;
  std::string enc;
  raft::EncodeMessage(hb, &enc);
  internal::RaftBatchRequest req;
  req.from = 2;
  req.to = 1;
  req.messages.push_back({9, enc});                   // group 9: not hosted
  req.messages.push_back({1, "\x07garbage"});         // undecodable
  raft::Message forged = hb;
  forged.from = 3;                                    // not the batch's sender
  std::string enc2;
  raft::EncodeMessage(forged, &enc2);
  req.messages.push_back({1, enc2});
  const uint64_t before = hosts.get(1)->stats().messages_refused;
  auto r = rpc->CallSync<internal::RaftBatchMethod>(hosts.get(1)->address(), req);
  ASSERT_OK(r.status());
  EXPECT_EQ(hosts.get(1)->stats().messages_refused, before + 3);
  internal::RaftBatchRequest wrong_to = req;
  wrong_to.to = 2;
  EXPECT_TRUE(rpc->CallSync<internal::RaftBatchMethod>(hosts.get(1)->address(), wrong_to)
                  .status()
                  .IsInvalidArgument());
  ASSERT_OK(mg.Put(1, "k2", "v2").status());  // the group is unaffected
}

}  // namespace
}  // namespace tinykv::replica
