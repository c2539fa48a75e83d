// Data directories written by the single-group version of TinyKV open as
// group 1 of today's layout (data_dir.h), keep their data, configuration and
// snapshots, and go on replicating. The fixture was made by that version
// (testdata/single_group_layout.md).
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "node_test_util.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using namespace std::chrono_literals;

TEST(SingleGroupLayoutUpgrade, OldDataDirsOpenAsGroupOneAndKeepReplicating) {
  ::tinykv::testing::TempDir dir;
  const std::string cmd = "tar -xzf " TINYKV_RAFT_TESTDATA "/single_group_layout.tar.gz -C " +
                          dir.path().string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(IsSingleGroupLayout(dir.path() / ("n" + std::to_string(i))));
    EXPECT_EQ(GroupDir(dir.path() / ("n" + std::to_string(i)), 1),
              dir.path() / ("n" + std::to_string(i)));
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
    nodes[i] = KvNode::Open(o).value();
  }
  for (int i = 1; i <= 3; ++i)
    for (int j = 1; j <= 3; ++j)
      if (i != j) nodes[i]->SetPeerAddress(j, "127.0.0.1:" + std::to_string(nodes[j]->peer_port()));
  // Everything the old version applied is there on every node, before any
  // new leader exists.
  for (int i = 1; i <= 3; ++i) {
    KvNode* n = nodes[i].get();
    auto st = n->GetStatus();
    EXPECT_EQ(st.applied_index, 107u) << i;
    EXPECT_EQ(st.snapshot_index, 90u) << i;
    EXPECT_EQ(st.group, 1u);
    EXPECT_EQ(n->Get("k000").value(), std::optional<std::string>("cas")) << i;
    EXPECT_EQ(n->Get("k050").value(), std::nullopt) << i;
    EXPECT_EQ(n->Get("k099").value(), std::optional<std::string>("v099")) << i;
    EXPECT_EQ(n->Get("last").value(), std::optional<std::string>("written")) << i;
    EXPECT_EQ(n->Scan("k", "l", 1000).value().size(), 99u) << i;
    ASSERT_EQ(st.members.size(), 3u);
  }
  // It elects a leader and replicates new writes.
  KvCommand c;
  c.key = "after-upgrade";
  c.value = "yes";
  auto r = node_test::RetryAtLeader<KvCommandResult>(
      [&]() -> KvNode* {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
          for (auto& [i, n] : nodes)
            if (n->GetStatus().role == "leader") return n.get();
          std::this_thread::sleep_for(10ms);
        }
        return nullptr;
      },
      [&](KvNode* n) { return n->ProposeSync(c, 3s); },
      [](const Status& s) { return s.IsNotLeader() || s.IsAborted(); }, 100);
  ASSERT_OK(r.status());
  EXPECT_GT(r->index, 107u);
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(node_test::WaitValue(nodes[i].get(), "after-upgrade", "yes", 10s)) << i;
  // Nothing was moved: group 1 still lives at the root, no groups/ dir appeared.
  for (auto& [i, n] : nodes) n->Stop();
  for (int i = 1; i <= 3; ++i)
    EXPECT_FALSE(std::filesystem::exists(dir.path() / ("n" + std::to_string(i)) / "groups")) << i;
}

}  // namespace
}  // namespace tinykv::replica
