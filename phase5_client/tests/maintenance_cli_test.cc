// `tinykv compaction` and `tinykv defrag` (cli/maintenance_command.h):
// etcdctl's output lines, and the commands run in-process against a real
// 3-member cluster: reads and watches below the compacted revision fail as
// compacted (exit 2), the state at it stays whole, a repeated or bad
// compaction is a usage error, defrag answers for every member, move-leader
// moves the leadership (and refuses unknown members, learners, bad ids).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "cli/maintenance_command.h"
#include "cli_cluster_fixture.h"

namespace tinykv::cli {
namespace {

TEST(MaintenanceCli, OutputIsEtcdctls) {
  EXPECT_EQ(RenderCompaction({75704, 3}, OutputFormat::kSimple), "compacted revision 75704\n");
  EXPECT_EQ(RenderCompaction({75704, 3}, OutputFormat::kJson),
            "{\"compact_revision\":75704,\"removed\":3}\n");
  EXPECT_EQ(RenderDefragment("127.0.0.1:2379", {2, 4096, 1024}, OutputFormat::kSimple),
            "Finished defragmenting member[127.0.0.1:2379] (4096 -> 1024 bytes)\n");
  EXPECT_EQ(RenderDefragment("127.0.0.1:2379", {2, 4096, 1024}, OutputFormat::kJson),
            "{\"endpoint\":\"127.0.0.1:2379\",\"memberID\":2,\"bytes_before\":4096,"
            "\"bytes_after\":1024}\n");
  EXPECT_EQ(RenderMoveLeader({1, 3}, OutputFormat::kSimple), "Leadership transferred from 1 to 3\n");
  EXPECT_EQ(RenderMoveLeader({1, 3}, OutputFormat::kJson), "{\"from\":1,\"to\":3}\n");
}

using MaintenanceCliCluster = CliClusterTest;

TEST_F(MaintenanceCliCluster, CompactionMakesOlderRevisionsUnreadable) {
  auto cl = NewClient();
  auto a = cl->PutWithRevision("k", "v1");
  auto b = cl->PutWithRevision("k", "v2");
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string rev_a = std::to_string(a->revision);
  const std::string rev_b = std::to_string(b->revision);
  std::string out, err;
  // Before: the old revision reads.
  ASSERT_EQ(Run({"get", "k", "--rev", rev_a}, &out, &err), 0) << err;
  EXPECT_EQ(out, "k\nv1\n");
  ASSERT_EQ(Run({"compaction", rev_b}, &out, &err), 0) << err;
  EXPECT_EQ(out, "compacted revision " + rev_b + "\n");
  // After: below it is gone (etcdctl: exit non-zero with "has been compacted") ...
  EXPECT_EQ(Run({"get", "k", "--rev", rev_a}, &out, &err), 2);
  EXPECT_NE(err.find("required revision " + rev_a + " has been compacted (compact revision " +
                     rev_b),
            std::string::npos)
      << err;
  EXPECT_EQ(Run({"get", "k", "--prefix", "--rev", rev_a}, &out, &err), 2) << out;
  EXPECT_EQ(Run({"watch", "k", "--rev", rev_b}, &out, &err), 2);
  EXPECT_NE(err.find("has been compacted"), std::string::npos) << err;
  // ... at it the state is whole.
  ASSERT_EQ(Run({"get", "k", "--rev", rev_b}, &out, &err), 0) << err;
  EXPECT_EQ(out, "k\nv2\n");
  // Again, below, zero, or in the future: usage errors, nothing changes.
  EXPECT_EQ(Run({"compaction", rev_b}, &out, &err), 2);
  EXPECT_NE(err.find("compacted already (compact revision " + rev_b + ")"), std::string::npos)
      << err;
  EXPECT_EQ(Run({"compaction", rev_a}, &out, &err), 2);
  EXPECT_EQ(Run({"compaction", "0"}, &out, &err), 2);
  EXPECT_EQ(Run({"compaction", std::to_string(b->revision << 4)}, &out, &err), 2);
  EXPECT_NE(err.find("in the future"), std::string::npos) << err;
  EXPECT_EQ(Run({"compaction", "abc"}, &out, &err), 2);
  EXPECT_EQ(Run({"compaction"}, &out, &err), 2);
  ASSERT_EQ(Run({"compaction", std::to_string(b->revision + 1), "--physical", "-w", "json"}, &out,
                &err),
            0)
      << err;
  EXPECT_EQ(out.rfind("{\"compact_revision\":" + std::to_string(b->revision + 1) + ",", 0), 0u)
      << out;
}

TEST_F(MaintenanceCliCluster, DefragAnswersForEveryMember) {
  std::string out, err;
  ASSERT_EQ(Run({"defrag"}, &out, &err), 0) << err;
  for (const std::string& e : cluster_->endpoints())
    EXPECT_NE(out.find("Finished defragmenting member[" + e + "] ("), std::string::npos) << out;
  ASSERT_EQ(Run({"defrag", "--cluster", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  EXPECT_NE(out.find("\"memberID\":"), std::string::npos) << out;
  EXPECT_EQ(Run({"defrag", "-w", "table"}, &out, &err), 2);
}

TEST_F(MaintenanceCliCluster, MoveLeaderHandsTheLeadershipToTheTarget) {
  const uint64_t leader = cluster_->Leader();
  ASSERT_NE(leader, 0u);
  const uint64_t target = leader % 3 + 1;
  std::string out, err;
  ASSERT_EQ(Run({"move-leader", std::to_string(target)}, &out, &err), 0) << err;
  EXPECT_EQ(out, "Leadership transferred from " + std::to_string(leader) + " to " +
                     std::to_string(target) + "\n");
  EXPECT_EQ(cluster_->Leader(), target);
  // The cluster serves on under its new leader.
  auto cl = NewClient();
  ASSERT_OK(cl->Put("after", "move"));
  // By address, and to the leader itself (etcd answers ok: nothing moves).
  const uint64_t next = target % 3 + 1;
  ASSERT_EQ(Run({"move-leader", cluster_->endpoint(next), "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "{\"from\":" + std::to_string(target) + ",\"to\":" + std::to_string(next) +
                     "}\n");
  ASSERT_EQ(Run({"move-leader", std::to_string(next)}, &out, &err), 0) << err;
  EXPECT_EQ(out, "Leadership transferred from " + std::to_string(next) + " to " +
                     std::to_string(next) + "\n");
}

TEST_F(MaintenanceCliCluster, MoveLeaderRefusesWhatCannotLead) {
  std::string out, err;
  // An unknown member: not found, exit 1.
  EXPECT_EQ(Run({"move-leader", "9"}, &out, &err), 1);
  EXPECT_NE(err.find("member 9 not found"), std::string::npos) << err;
  // Bad ids and flags: usage errors, exit 2.
  EXPECT_EQ(Run({"move-leader", "0"}, &out, &err), 2);
  EXPECT_NE(err.find("member id must be >= 1"), std::string::npos) << err;
  EXPECT_EQ(Run({"move-leader", "8211f1d0f64f3269"}, &out, &err), 2);
  EXPECT_NE(err.find("is neither an id nor an address"), std::string::npos) << err;
  EXPECT_EQ(Run({"move-leader"}, &out, &err), 2);
  EXPECT_EQ(Run({"move-leader", "1", "2"}, &out, &err), 2);
  EXPECT_EQ(Run({"move-leader", "1", "-w", "table"}, &out, &err), 2);
  // A learner cannot lead: exit 2, nothing moves.
  ASSERT_OK(cluster_->AddNode(4));
  auto cl = NewClient();
  ASSERT_OK(cl->MemberAdd(4, cluster_->PeerAddress(4), cluster_->endpoint(4), true).status());
  const uint64_t leader = cluster_->Leader();
  EXPECT_EQ(Run({"move-leader", "4"}, &out, &err), 2);
  EXPECT_NE(err.find("member 4 is a learner"), std::string::npos) << err;
  EXPECT_EQ(cluster_->Leader(), leader);
}

// A target the leader cannot reach never leads: the transfer times out, the
// CLI says so and exits 3 at its deadline; the leadership stays.
TEST_F(MaintenanceCliCluster, MoveLeaderToAnUnreachableMemberTimesOut) {
  const uint64_t leader = cluster_->Leader();
  ASSERT_NE(leader, 0u);
  const uint64_t target = leader % 3 + 1, other = target % 3 + 1;
  cluster_->Partition({{leader, other}, {target}});
  std::string endpoints = cluster_->endpoint(leader) + "," + cluster_->endpoint(other);
  std::istringstream in;
  std::ostringstream out, err;
  const int code = RunCli({"--endpoints", endpoints, "--command-timeout", "2s", "move-leader",
                           std::to_string(target)},
                          {}, in, out, err);
  cluster_->Heal();
  EXPECT_EQ(code, 3) << out.str();
  EXPECT_EQ(out.str(), "");
  EXPECT_NE(err.str().find("leadership did not move to " + std::to_string(target)),
            std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace tinykv::cli
