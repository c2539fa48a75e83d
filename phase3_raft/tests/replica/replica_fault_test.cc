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

// Three nodes, each on its own FaultInjectionEnv, fsync on.
class FaultCluster : public node_test::KvNodes {
 public:
  FaultCluster()
      : KvNodes(
            3,
            [this](int i, KvNodeOptions& o) {
              o.sync = true;
              o.env = envs_[i].get();
            },
            /*start=*/false) {
    for (int i = 1; i <= 3; ++i) envs_[i] = std::make_unique<FaultInjectionEnv>(Env::Default());
    StartAll();
  }
  ~FaultCluster() { StopAll(); }  // before the envs go
  FaultInjectionEnv& env(int i) { return *envs_[i]; }
  Result<KvCommandResult> Put(KvNode* n, const std::string& k, const std::string& v) {
    KvCommand c;
    c.key = k;
    c.value = v;
    return n->ProposeSync(c, 2s);
  }

 private:
  std::map<int, std::unique_ptr<FaultInjectionEnv>> envs_;
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
