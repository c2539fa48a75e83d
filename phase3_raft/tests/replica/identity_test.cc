// The data dir's identity record (data_dir.h "Identity").
#include <fstream>

#include <gtest/gtest.h>

#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

TEST(NodeIdentityTest, FirstOpenRecordsItLaterOpensCheckTheMemberId) {
  ::tinykv::testing::TempDir dir;
  auto a = CheckIdentity(dir.path(), 1, 0xabc);
  ASSERT_OK(a.status());
  EXPECT_EQ(*a, (NodeIdentity{1, 0xabc}));
  EXPECT_EQ(ReadIdentity(dir.path()).value(), std::optional<NodeIdentity>(NodeIdentity{1, 0xabc}));
  // Reopened by the same member: the record, whatever cluster id it now computes.
  EXPECT_EQ(CheckIdentity(dir.path(), 1, 0).value(), (NodeIdentity{1, 0xabc}));
  auto wrong = CheckIdentity(dir.path(), 2, 0);
  ASSERT_TRUE(wrong.status().IsInvalidArgument());
  EXPECT_NE(wrong.status().ToString().find("belongs to member 1"), std::string::npos)
      << wrong.status().ToString();
  EXPECT_NE(wrong.status().ToString().find("not to member 2"), std::string::npos);
  auto other_cluster = CheckIdentity(dir.path(), 1, 0xdef);
  ASSERT_TRUE(other_cluster.status().IsInvalidArgument());
  EXPECT_NE(other_cluster.status().ToString().find("cluster"), std::string::npos);
}

TEST(NodeIdentityTest, EveryDamagedByteIsCorruptionNeverAnotherIdentity) {
  ::tinykv::testing::TempDir dir;
  ASSERT_OK(WriteIdentity(dir.path(), NodeIdentity{3, 0x1234567890abcdefull}));
  const auto path = dir.path() / "identity";
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << bad;
      }
      auto r = ReadIdentity(dir.path());
      ASSERT_TRUE(r.status().IsCorruption()) << "byte " << i << " bit " << bit;
    }
  }
  for (size_t n = 0; n < good.size(); ++n) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << good.substr(0, n);
    }
    ASSERT_TRUE(ReadIdentity(dir.path()).status().IsCorruption()) << "truncated to " << n;
  }
}

TEST(NodeIdentityTest, ClusterIdDependsOnMembersAndToken) {
  const uint64_t id = ComputeClusterId({1, 2, 3}, "tinykv-cluster");
  EXPECT_NE(id, 0u);
  EXPECT_EQ(id, ComputeClusterId({3, 1, 2}, "tinykv-cluster"));  // any order
  EXPECT_NE(id, ComputeClusterId({1, 2, 3}, "other-token"));
  EXPECT_NE(id, ComputeClusterId({1, 2, 4}, "tinykv-cluster"));
  EXPECT_NE(id, ComputeClusterId({1, 2}, "tinykv-cluster"));
}

TEST(NodeIdentityTest, KvNodeRefusesADataDirOfAnotherMember) {
  ::tinykv::testing::TempDir dir;
  KvNodeOptions o;
  o.id = 1;
  o.data_dir = dir.path();
  o.peers = {{1, ""}};
  o.sync = false;
  {
    auto n = KvNode::Open(o);
    ASSERT_OK(n.status());
    EXPECT_EQ((*n)->identity().member_id, 1u);
    EXPECT_NE((*n)->identity().cluster_id, 0u);
    (*n)->Stop();
  }
  o.id = 2;
  o.peers = {{2, ""}};
  auto n = KvNode::Open(o);
  ASSERT_TRUE(n.status().IsInvalidArgument()) << n.status().ToString();
}

}  // namespace
}  // namespace tinykv::replica
