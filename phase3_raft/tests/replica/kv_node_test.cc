// KvNode: three real nodes in one process over loopback TCP with real files.
#include "tinykv/replica/kv_node.h"

#include "tinykv/replica/data_dir.h"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "node_test_util.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
using namespace raft;  // NOLINT: core types in tests
namespace {

using namespace std::chrono_literals;

class Cluster {
 public:
  explicit Cluster(int n, uint64_t snapshot_threshold = 10000) : n_(n), threshold_(snapshot_threshold) {
    nodes_.resize(n + 1);
    for (int i = 1; i <= n; ++i) Start(i);
  }
  ~Cluster() {
    for (auto& nd : nodes_)
      if (nd) nd->Stop();
  }

  void Start(int i) {
    KvNodeOptions o;
    o.id = i;
    o.data_dir = dir_.path() / ("n" + std::to_string(i));
    for (int j = 1; j <= n_; ++j) o.peers[j] = "";
    o.tick_ms = 20;
    o.election_ticks = 10;
    o.snapshot_threshold = threshold_;
    o.sync = false;
    o.io_threads = 1;
    auto r = KvNode::Open(o);
    TINYKV_CHECK(r.ok()) << r.status().ToString();
    nodes_[i] = std::move(r).value();
    for (int j = 1; j <= n_; ++j) {
      if (!nodes_[j]) continue;
      for (int k = 1; k <= n_; ++k)
        if (nodes_[k] && k != j) nodes_[j]->SetPeerAddress(k, "127.0.0.1:" + std::to_string(nodes_[k]->peer_port()));
    }
  }
  void Stop(int i) {
    nodes_[i]->Stop();
    nodes_[i].reset();
  }
  KvNode* node(int i) { return nodes_[i].get(); }
  std::filesystem::path data_dir(int i) const { return dir_.path() / ("n" + std::to_string(i)); }

  // Waits for a leader among the running nodes.
  int Leader(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (int i = 1; i <= n_; ++i)
        if (nodes_[i] && nodes_[i]->GetStatus().role == "leader") return i;
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }

  Result<KvCommandResult> Put(const std::string& k, const std::string& v) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return Propose(c);
  }
  Result<KvCommandResult> Propose(const KvCommand& c) {
    return node_test::RetryAtLeader<KvCommandResult>(
        [&]() -> KvNode* {
          const int l = Leader();
          return l == 0 ? nullptr : nodes_[l].get();
        },
        [&](KvNode* n) { return n->ProposeSync(c, 3s); },
        [](const Status& s) { return s.IsNotLeader() || s.IsAborted(); }, 100);
  }
  bool WaitValue(int i, const std::string& k, const std::optional<std::string>& v,
                 std::chrono::milliseconds timeout = 10s) {
    return node_test::WaitValue(nodes_[i].get(), k, v, timeout);
  }

 private:
  testing::TempDir dir_;
  int n_;
  uint64_t threshold_;
  std::vector<std::unique_ptr<KvNode>> nodes_;
};

TEST(KvNodeTest, ThreeNodesElectALeaderAndReplicateWrites) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  for (int i = 0; i < 20; ++i) ASSERT_OK(c.Put("k" + std::to_string(i), "v" + std::to_string(i)).status());
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(c.WaitValue(i, "k19", "v19")) << "node " << i;
  auto st = c.node(l)->GetStatus();
  EXPECT_EQ(st.leader, static_cast<uint64_t>(l));
  EXPECT_EQ(st.members.size(), 3u);
  EXPECT_GE(st.applied_index, 21u);
  // A follower refuses writes and names the leader.
  int f = l % 3 + 1;
  KvCommand cmd;
  cmd.key = "x";
  auto r = c.node(f)->ProposeSync(cmd, 1s);
  ASSERT_TRUE(r.status().IsNotLeader()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("leader=" + std::to_string(l)), std::string::npos);
  // ReadBarrier on the leader succeeds; on a follower it is NotLeader.
  EXPECT_OK(c.node(l)->ReadBarrierSync(3s));
  EXPECT_TRUE(c.node(f)->ReadBarrierSync(1s).IsNotLeader());
}

TEST(KvNodeTest, CasIsDecidedByTheReplicatedState) {
  Cluster c(3);
  KvCommand cas;
  cas.op = KvCommand::Op::kCas;
  cas.key = "lock";
  cas.value = "a";
  auto r = c.Propose(cas);
  ASSERT_OK(r.status());
  EXPECT_TRUE(r->succeeded);
  cas.value = "b";
  r = c.Propose(cas);  // expected absent, but it is "a" now
  ASSERT_OK(r.status());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->current, std::optional<std::string>("a"));
}

TEST(KvNodeTest, LeaderFailoverAndRestartKeepAcknowledgedWrites) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(c.Put("before", "1").status());
  c.Stop(l);
  int l2 = c.Leader();
  ASSERT_NE(l2, 0);
  ASSERT_NE(l2, l);
  ASSERT_OK(c.Put("after", "2").status());
  c.Start(l);
  EXPECT_TRUE(c.WaitValue(l, "after", "2"));
  EXPECT_TRUE(c.WaitValue(l, "before", "1"));
  // Restart everything: state comes back from disk.
  for (int i = 1; i <= 3; ++i) c.Stop(i);
  for (int i = 1; i <= 3; ++i) c.Start(i);
  ASSERT_NE(c.Leader(), 0);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(c.WaitValue(i, "after", "2")) << i;
  ASSERT_OK(c.Put("third", "3").status());
}

TEST(KvNodeTest, PartitionedLeaderIsReplacedAndCatchesUp) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(c.Put("k", "1").status());
  std::set<uint64_t> others;
  for (int i = 1; i <= 3; ++i)
    if (i != l) others.insert(i);
  c.node(l)->SetDroppedPeers(others);
  for (int i : others) c.node(i)->SetDroppedPeers({static_cast<uint64_t>(l)});
  // The isolated leader cannot commit; its proposal times out or aborts.
  KvCommand cmd;
  cmd.key = "lost";
  cmd.value = "x";
  auto r = c.node(l)->ProposeSync(cmd, 300ms);
  EXPECT_FALSE(r.ok());
  // The majority elects a new leader and commits.
  int l2 = 0;
  for (int tries = 0; tries < 500 && l2 == 0; ++tries) {
    for (int i : others)
      if (c.node(i)->GetStatus().role == "leader") l2 = i;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(l2, 0);
  KvCommand put;
  put.key = "k";
  put.value = "2";
  ASSERT_OK(c.node(l2)->ProposeSync(put, 5s).status());
  for (int i = 1; i <= 3; ++i) c.node(i)->SetDroppedPeers({});
  EXPECT_TRUE(c.WaitValue(l, "k", "2"));
  EXPECT_TRUE(c.WaitValue(l, "lost", std::nullopt, 100ms));
}

TEST(KvNodeTest, LaggingFollowerCatchesUpFromASnapshot) {
  Cluster c(3, /*snapshot_threshold=*/50);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  int lag = l % 3 + 1;
  c.Stop(lag);
  for (int i = 0; i < 300; ++i) ASSERT_OK(c.Put("k" + std::to_string(i), std::to_string(i)).status());
  auto st = c.node(l)->GetStatus();
  EXPECT_GT(st.snapshot_index, 0u);
  EXPECT_GT(st.first_index, 1u);  // the log was compacted
  c.Start(lag);
  EXPECT_TRUE(c.WaitValue(lag, "k299", "299", 20s));
  EXPECT_TRUE(c.WaitValue(lag, "k0", "0"));
  EXPECT_GT(c.node(lag)->GetStatus().snapshot_index, 0u);
}

TEST(KvNodeTest, WritesCommitDespiteRandomMessageLoss) {
  Cluster c(3);
  ASSERT_NE(c.Leader(), 0);
  for (int i = 1; i <= 3; ++i) c.node(i)->SetDropProbability(0.2);
  for (int i = 0; i < 30; ++i) ASSERT_OK(c.Put("k" + std::to_string(i), "v").status()) << i;
  for (int i = 1; i <= 3; ++i) c.node(i)->SetDropProbability(0);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(c.WaitValue(i, "k29", "v")) << i;
}

TEST(KvNodeTest, NodeRestartsAfterATornLogWriteAndCatchesUp) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(c.Put("a", "1").status());
  int f = l % 3 + 1;
  ASSERT_TRUE(c.WaitValue(f, "a", "1"));
  c.Stop(f);
  // A crash in the middle of appending a record: a header promising more
  // bytes than were written.
  std::filesystem::path last;
  for (const auto& de : std::filesystem::directory_iterator(GroupDir(c.data_dir(f), 1) / "raft"))
    if (last.empty() || de.path() > last) last = de.path();
  {
    std::ofstream out(last, std::ios::binary | std::ios::app);
    const char torn[] = {0x11, 0x22, 0x33, 0x44, 0x7f, 0x00, 0x00, 0x00, 0x01, 'x', 'y'};
    out.write(torn, sizeof(torn));
  }
  const auto size_with_torn = std::filesystem::file_size(last);
  ASSERT_OK(c.Put("b", "2").status());
  c.Start(f);
  EXPECT_LT(std::filesystem::file_size(last), size_with_torn + 1);  // truncated, then appended
  EXPECT_TRUE(c.WaitValue(f, "b", "2"));
  EXPECT_TRUE(c.WaitValue(f, "a", "1"));
}

TEST(KvNodeTest, TransferLeadershipMovesTheLeader) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  ASSERT_OK(c.Put("k", "v").status());
  int to = l % 3 + 1;
  ASSERT_OK(c.node(l)->TransferLeadership(to, 5s));
  EXPECT_EQ(c.Leader(), to);
}

TEST(KvNodeTest, StopCancelsAndLaterCallsAreCancelled) {
  Cluster c(3);
  int l = c.Leader();
  ASSERT_NE(l, 0);
  c.node(l)->Stop();
  KvCommand cmd;
  cmd.key = "k";
  EXPECT_TRUE(c.node(l)->ProposeSync(cmd, 1s).status().IsCancelled());
  EXPECT_TRUE(c.node(l)->ReadBarrierSync(1s).IsCancelled());
}

}  // namespace
}  // namespace tinykv::replica
