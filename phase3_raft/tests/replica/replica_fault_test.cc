// Replicas whose disk fails: a failed fsync or a write that returns EIO stops
// the replica (it acknowledges nothing more, says why in its status and
// answers Unavailable), the rest of the group goes on, and the stopped
// replica recovers from what is durable when restarted. A full disk
// (ENOSPC) stops it the same way and raises the NOSPACE alarm: it stays
// stopped after space returns, until the alarm is disarmed, and then
// resumes in place, without a restart.
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

// What the latch is for: a replica that resumed by itself once the disk
// took writes again (the behaviour before the alarm) would take the write
// made after space returns, before any disarm, and fail the test there.
TEST(ReplicaDiskFaults, FullDiskEverywhereRaisesNospaceKeepsReadsAndResumesOnDisarm) {
  FaultCluster c;
  for (int i = 0; i < 20; ++i) ASSERT_OK(c.PutAnywhere("pre" + std::to_string(i), "v").status());
  const int l = c.Leader();
  ASSERT_NE(l, 0);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(node_test::WaitValue(c.node(i), "pre19", "v", 10s));
  for (int i = 1; i <= 3; ++i) c.env(i).SetDiskFull(true);
  auto r = c.Put(c.node(l), "during", "x");
  ASSERT_FALSE(r.ok()) << "acknowledged a write its leader could not persist";
  EXPECT_TRUE(r.status().IsResourceExhausted()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("NOSPACE alarm: no space left"), std::string::npos)
      << r.status().ToString();
  // A follower stops as soon as it must persist something (its vote in the
  // election the leader's silence starts); one that never wins a pre-vote
  // persists nothing and just waits. Either way nobody can lead.
  ASSERT_TRUE(::tinykv::testing::WaitUntil(
      [&] {
        int stopped = 0;
        for (int i = 1; i <= 3; ++i)
          stopped += c.node(i)->GetStatus().error.find("No space left") != std::string::npos;
        return stopped >= 2;
      },
      20s))
      << "errors: 1=" << c.node(1)->GetStatus().error << " 2=" << c.node(2)->GetStatus().error
      << " 3=" << c.node(3)->GetStatus().error;
  for (int i = 1; i <= 3; ++i) {
    auto w = c.Put(c.node(i), "refused", "x");
    EXPECT_FALSE(w.ok()) << "node " << i << " acknowledged a write with every disk full";
    EXPECT_NE(c.node(i)->GetStatus().role, "leader") << "node " << i;
  }
  // Local reads are served throughout.
  for (int i = 1; i <= 3; ++i)
    EXPECT_EQ(c.node(i)->Get("pre7").value(), std::optional<std::string>("v")) << "node " << i;
  // Disarming while the disk is still full is refused, and the alarm stays.
  int alarmed = 0;
  for (int i = 1; i <= 3; ++i) {
    if (!c.node(i)->GetStatus().nospace) continue;
    ++alarmed;
    Status d = c.node(i)->DisarmNoSpaceSync();
    EXPECT_TRUE(d.IsResourceExhausted()) << d.ToString();
    EXPECT_NE(d.ToString().find("still has no room"), std::string::npos) << d.ToString();
    EXPECT_TRUE(c.node(i)->GetStatus().nospace) << "node " << i;
  }
  EXPECT_GE(alarmed, 2);
  // Space returns, but the alarm holds: nothing resumes by itself.
  for (int i = 1; i <= 3; ++i) c.env(i).SetDiskFull(false);
  for (int i = 1; i <= 3; ++i) {
    if (!c.node(i)->GetStatus().nospace) continue;
    auto w = c.Put(c.node(i), "before-disarm", "x");
    EXPECT_TRUE(w.status().IsResourceExhausted()) << "node " << i << ": " << w.status().ToString();
    EXPECT_TRUE(c.node(i)->GetStatus().nospace) << "node " << i;
  }
  // The disarm: the same processes resume, elect a leader and take writes.
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(c.node(i)->DisarmNoSpaceSync());
    EXPECT_FALSE(c.node(i)->GetStatus().nospace) << "node " << i;
  }
  ASSERT_OK(c.PutAnywhere("post", "1").status());
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(node_test::WaitValue(c.node(i), "post", "1", 10s)) << "node " << i;
    EXPECT_TRUE(::tinykv::testing::WaitUntil([&] { return c.node(i)->GetStatus().error.empty(); }, 10s))
        << c.node(i)->GetStatus().error;
    for (int k = 0; k < 20; ++k)
      EXPECT_EQ(c.node(i)->Get("pre" + std::to_string(k)).value(), std::optional<std::string>("v"));
  }
  // The write refused with the disk full was never acknowledged; whether it
  // committed later is unknown to its client, as with any failed write.
}

TEST(ReplicaDiskFaults, FollowerWhoseDiskFillsMidWriteCatchesUpInPlaceAfterTheDisarm) {
  FaultCluster c;
  ASSERT_OK(c.PutAnywhere("a", "1").status());
  const int l = c.Leader();
  const int f = l % 3 + 1;
  // A few KiB more, then ENOSPC: the write that crosses the limit is partial
  // (the Raft log's or the engine's, whichever comes first).
  c.env(f).SetDiskFullAfterBytes(3000);
  for (int i = 0; i < 50; ++i)
    ASSERT_OK(c.PutAnywhere("k" + std::to_string(i), std::string(100, 'v')).status());
  ASSERT_TRUE(::tinykv::testing::WaitUntil(
      [&] { return c.node(f)->GetStatus().error.find("No space left") != std::string::npos; }, 10s))
      << c.node(f)->GetStatus().error;
  const uint64_t stuck_at = c.node(f)->GetStatus().applied_index;
  EXPECT_LT(stuck_at, c.node(l)->GetStatus().applied_index);
  EXPECT_TRUE(c.node(f)->GetStatus().nospace);
  // The others never filled: no alarm there, and the group went on.
  EXPECT_FALSE(c.node(l)->GetStatus().nospace);
  ASSERT_OK(c.node(l)->DisarmNoSpaceSync());  // nothing raised: nothing to do
  c.env(f).SetDiskFull(false);
  ASSERT_OK(c.node(f)->DisarmNoSpaceSync());
  EXPECT_TRUE(node_test::WaitValue(c.node(f), "k49", std::string(100, 'v'), 15s));
  EXPECT_TRUE(c.node(f)->GetStatus().error.empty()) << c.node(f)->GetStatus().error;
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(c.node(f)->Get("k" + std::to_string(i)).value(),
              std::optional<std::string>(std::string(100, 'v')));
}

}  // namespace
}  // namespace tinykv::replica
