// Replicas whose disk fails: a failed fsync or a write that returns EIO stops
// the replica (it acknowledges nothing more, says why in its status and
// answers Unavailable), the rest of the group goes on, and the stopped
// replica recovers from what is durable when restarted.
#include <thread>

#include <gtest/gtest.h>

#include "node_test_util.h"
#include "tinykv/common/fault_injection_env.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;

class FaultCluster {
 public:
  FaultCluster() {
    for (int i = 1; i <= 3; ++i) envs_[i] = std::make_unique<FaultInjectionEnv>(Env::Default());
    for (int i = 1; i <= 3; ++i) Start(i);
  }
  ~FaultCluster() {
    for (auto& [i, n] : nodes_)
      if (n) n->Stop();
  }
  void Start(int i) {
    KvNodeOptions o;
    o.id = i;
    o.data_dir = dir_.path() / ("n" + std::to_string(i));
    for (int j = 1; j <= 3; ++j) o.peers[j] = "";
    o.tick_ms = 20;
    o.sync = true;
    o.io_threads = 1;
    o.env = envs_[i].get();
    nodes_[i] = KvNode::Open(o).value();
    for (auto& [j, n] : nodes_) {
      if (!n) continue;
      for (auto& [k, m] : nodes_)
        if (m && j != k) n->SetPeerAddress(k, "127.0.0.1:" + std::to_string(m->peer_port()));
    }
  }
  void Stop(int i) {
    nodes_[i]->Stop();
    nodes_[i].reset();
  }
  KvNode* node(int i) { return nodes_[i].get(); }
  FaultInjectionEnv& env(int i) { return *envs_[i]; }
  int Leader(std::set<int> excluding = {}, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& [i, n] : nodes_)
        if (n && !excluding.count(i) && n->GetStatus().role == "leader") return i;
      std::this_thread::sleep_for(10ms);
    }
    return 0;
  }
  Result<KvCommandResult> Put(KvNode* n, const std::string& k, const std::string& v) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return n->ProposeSync(c, 2s);
  }
  Result<KvCommandResult> PutAnywhere(const std::string& k, const std::string& v,
                                      std::set<int> excluding = {}) {
    return node_test::RetryAtLeader<KvCommandResult>(
        [&]() -> KvNode* {
          const int l = Leader(excluding);
          return l == 0 ? nullptr : nodes_[l].get();
        },
        [&](KvNode* n) { return Put(n, k, v); },
        [](const Status& s) { return s.IsNotLeader() || s.IsAborted() || s.IsUnavailable(); },
        100);
  }

 private:
  ::tinykv::testing::TempDir dir_;
  std::map<int, std::unique_ptr<FaultInjectionEnv>> envs_;
  std::map<int, std::unique_ptr<KvNode>> nodes_;
};

TEST(ReplicaDiskFaults, LeaderWhoseFsyncFailsStopsAcknowledgingAndTheOthersGoOn) {
  FaultCluster c;
  ASSERT_OK(c.PutAnywhere("before", "1").status());
  const int l = c.Leader();
  ASSERT_NE(l, 0);
  c.env(l).SetFailSyncs(true);
  auto r = c.Put(c.node(l), "during", "x");
  ASSERT_FALSE(r.ok()) << "acknowledged a write its leader could not fsync";
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("disk error"), std::string::npos) << r.status().ToString();
  auto st = c.node(l)->GetStatus();
  EXPECT_NE(st.error.find("fdatasync"), std::string::npos) << st.error;
  // New writes on it are refused at once, with the same reason.
  auto again = c.Put(c.node(l), "later", "y");
  EXPECT_TRUE(again.status().IsUnavailable()) << again.status().ToString();
  // Its reads still work (the state machine is fine).
  EXPECT_EQ(c.node(l)->Get("before").value(), std::optional<std::string>("1"));
  // It sends nothing more, so the other two elect a leader and go on.
  ASSERT_OK(c.PutAnywhere("after", "2", {l}).status());
  // Restarted with a healthy disk, it recovers from what was durable and catches up.
  c.Stop(l);
  c.env(l).SetFailSyncs(false);
  c.Start(l);
  EXPECT_TRUE(node_test::WaitValue(c.node(l), "after", "2", 10s));
  EXPECT_TRUE(c.node(l)->GetStatus().error.empty());
}

TEST(ReplicaDiskFaults, FollowerWhoseWritesReturnEioStopsWithoutBlockingTheGroup) {
  FaultCluster c;
  ASSERT_OK(c.PutAnywhere("a", "1").status());
  const int l = c.Leader();
  const int f = l % 3 + 1;
  c.env(f).SetFailWrites(true);
  for (int i = 0; i < 20; ++i) ASSERT_OK(c.PutAnywhere("k" + std::to_string(i), "v").status());
  // The follower noticed on its next append and stopped.
  ASSERT_TRUE(::tinykv::testing::WaitUntil(
      [&] { return !c.node(f)->GetStatus().error.empty(); }, 10s));
  EXPECT_NE(c.node(f)->GetStatus().error.find("Input/output error"), std::string::npos)
      << c.node(f)->GetStatus().error;
  c.Stop(f);
  c.env(f).SetFailWrites(false);
  c.Start(f);
  EXPECT_TRUE(node_test::WaitValue(c.node(f), "k19", "v", 10s));
}

}  // namespace
}  // namespace tinykv::replica
