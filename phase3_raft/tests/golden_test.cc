// Golden trace tests (docs/style.md, "Tests"): a scripted scenario's trace lines are
// compared with phase3_raft/tests/testdata/<name>.txt. The files double as a
// readable transcript of what Raft does. After an intended behaviour change:
//   TINYKV_REWRITE_GOLDEN=1 build/ci/phase3_raft/tinykv_raft_tests --gtest_filter='RaftGolden*'
// and commit only diffs you understand.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tinykv/raft/sim_cluster.h"

#ifndef TINYKV_RAFT_TESTDATA
#error "TINYKV_RAFT_TESTDATA must point at phase3_raft/tests/testdata"
#endif

namespace tinykv::raft::sim {
namespace {

void CheckGolden(const std::string& name, const SimCluster& c) {
  std::string got;
  for (const auto& e : c.trace()) got += e.ToString() + "\n";
  const std::string path = std::string(TINYKV_RAFT_TESTDATA) + "/" + name + ".txt";
  if (std::getenv("TINYKV_REWRITE_GOLDEN") != nullptr) {
    std::ofstream(path) << got;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing " << path << " (run with TINYKV_REWRITE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "trace of " << name << " changed; see " << path;
}

TEST(RaftGolden, ElectionPartitionAndHeal) {
  SimOptions o;
  o.n = 3;
  o.seed = 1;
  SimCluster c(o);
  while (!c.Leader()) c.Tick();
  const uint64_t l = *c.Leader();
  ASSERT_TRUE(c.Propose("a").ok());
  ASSERT_TRUE(c.Propose("b").ok());
  c.Tick(2);
  std::vector<uint64_t> rest;
  for (uint64_t id : c.NodeIds()) {
    if (id != l) rest.push_back(id);
  }
  c.Partition({{l}, rest});
  c.Tick(40);
  c.Heal();
  c.Tick(20);
  CheckGolden("election_partition_heal", c);
}

TEST(RaftGolden, SnapshotAndMembership) {
  SimOptions o;
  o.n = 3;
  o.seed = 2;
  o.trace_messages = true;
  SimCluster c(o);
  while (!c.Leader()) c.Tick();
  const uint64_t l = *c.Leader();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.Propose("v" + std::to_string(i)).ok());
  c.Tick(2);
  ASSERT_TRUE(c.Compact(l, c.Node(l)->applied_index).ok());
  auto r = c.AddMember(4, /*learner=*/true);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(c.WaitApplied(r->first, r->second, 50).ok());
  c.Tick(3);
  CheckGolden("snapshot_membership", c);
}

}  // namespace
}  // namespace tinykv::raft::sim
