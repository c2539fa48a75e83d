// `tinykv lease ...` and `put --lease` (cli/lease_command.h): the hex ids as
// etcdctl spells them, etcdctl's output lines, and the commands run
// in-process (RunCli) against a real 3-member cluster; bad ids exit 2.
#include <gtest/gtest.h>

#include <sstream>

#include "cli/commands.h"
#include "cli/lease_command.h"
#include "local_cluster_fixture.h"

namespace tinykv::cli {
namespace {

TEST(LeaseCli, IdsAreHexAsEtcdctlSpellsThem) {
  EXPECT_EQ(LeaseIdString(0x694d5765fc71500bULL), "694d5765fc71500b");
  EXPECT_EQ(ParseLeaseId("694d5765fc71500b").value(), 0x694d5765fc71500bULL);
  EXPECT_EQ(ParseLeaseId("0x1F").value(), 0x1fu);
  for (const char* bad : {"", "0", "xyz", "12345678901234567", "8000000000000000", "-1", "0x"}) {
    auto r = ParseLeaseId(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("expecting ID in Hex"), std::string::npos) << bad;
  }
}

TEST(LeaseCli, OutputIsEtcdctls) {
  EXPECT_EQ(RenderLeaseGrant({0x694d5765fc71500bULL, 10}, OutputFormat::kSimple),
            "lease 694d5765fc71500b granted with TTL(10s)\n");
  EXPECT_EQ(RenderLeaseGrant({0x1f, 10}, OutputFormat::kJson), "{\"ID\":31,\"TTL\":10}\n");
  client::LeaseTimeToLiveResponse t{0x1f, 500, 493, {"zoo2", "zoo1"}};
  EXPECT_EQ(RenderLeaseTimeToLive(t, false, OutputFormat::kSimple, BytesEncoding::kAuto),
            "lease 1f granted with TTL(500s), remaining(493s)\n");
  EXPECT_EQ(RenderLeaseTimeToLive(t, true, OutputFormat::kSimple, BytesEncoding::kAuto),
            "lease 1f granted with TTL(500s), remaining(493s), attached keys([zoo2 zoo1])\n");
  EXPECT_EQ(RenderLeaseTimeToLive(t, true, OutputFormat::kJson, BytesEncoding::kAuto),
            "{\"ID\":31,\"TTL\":493,\"grantedTTL\":500,\"keys\":[\"zoo2\",\"zoo1\"]}\n");
  EXPECT_EQ(RenderLeaseList({0x1f, 0x20}, OutputFormat::kSimple), "found 2 leases\n1f\n20\n");
  EXPECT_EQ(RenderLeaseKeepAlive({0x1f, 10}, OutputFormat::kSimple),
            "lease 1f keepalived with TTL(10)\n");
  EXPECT_EQ(RenderLeaseRevoke(0x1f, {}, OutputFormat::kSimple), "lease 1f revoked\n");
}

class LeaseCliCluster : public client::LocalClusterTest {
 protected:
  int Run(std::vector<std::string> args, std::string* out_text, std::string* err_text = nullptr) {
    std::string endpoints;
    for (const std::string& e : cluster_->endpoints()) endpoints += (endpoints.empty() ? "" : ",") + e;
    std::istringstream in;
    std::ostringstream out, err;
    args.insert(args.begin(), {"--endpoints", endpoints, "--command-timeout", "10s"});
    const int code = RunCli(args, {}, in, out, err);
    *out_text = out.str();
    if (err_text != nullptr) *err_text = err.str();
    return code;
  }
};

TEST_F(LeaseCliCluster, GrantPutTimeToLiveKeepAliveListRevoke) {
  std::string out, err;
  ASSERT_EQ(Run({"lease", "grant", "60"}, &out), 0) << out;
  ASSERT_EQ(out.rfind("lease ", 0), 0u) << out;
  const std::string id = out.substr(6, out.find(' ', 6) - 6);
  EXPECT_EQ(out, "lease " + id + " granted with TTL(60s)\n");
  EXPECT_EQ(Run({"put", "k1", "v1", "--lease", id}, &out), 0);
  EXPECT_EQ(out, "OK\n");
  EXPECT_EQ(Run({"put", "k2", "v2", "--lease", id}, &out), 0);
  EXPECT_EQ(Run({"lease", "timetolive", id, "--keys"}, &out), 0);
  EXPECT_EQ(out.rfind("lease " + id + " granted with TTL(60s), remaining(", 0), 0u) << out;
  EXPECT_NE(out.find("attached keys([k1 k2])"), std::string::npos) << out;
  EXPECT_EQ(Run({"lease", "keep-alive", id, "--once"}, &out), 0);
  EXPECT_EQ(out, "lease " + id + " keepalived with TTL(60)\n");
  EXPECT_EQ(Run({"lease", "list"}, &out), 0);
  EXPECT_EQ(out, "found 1 leases\n" + id + "\n");
  EXPECT_EQ(Run({"lease", "revoke", id}, &out), 0);
  EXPECT_EQ(out, "lease " + id + " revoked\n");
  EXPECT_EQ(Run({"get", "k1"}, &out, &err), 1) << "the revoke left the key";
  EXPECT_EQ(Run({"lease", "timetolive", id}, &out), 1);
  EXPECT_EQ(out, "lease " + id + " already expired\n");
  // etcd's error for a lease that does not exist; not a crash, exit 1 (not found).
  EXPECT_EQ(Run({"put", "k3", "v", "--lease", id}, &out, &err), 1);
  EXPECT_NE(err.find("etcdserver: requested lease not found"), std::string::npos) << err;
  EXPECT_EQ(Run({"lease", "revoke", id}, &out, &err), 1);
  EXPECT_NE(err.find("etcdserver: requested lease not found"), std::string::npos) << err;
}

TEST_F(LeaseCliCluster, BadIdsAndTtlsAreUsageErrors) {
  std::string out, err;
  EXPECT_EQ(Run({"lease", "revoke", "nothex"}, &out, &err), 2);
  EXPECT_NE(err.find("expecting ID in Hex"), std::string::npos) << err;
  EXPECT_EQ(Run({"put", "k", "v", "--lease", "zz"}, &out, &err), 2);
  EXPECT_EQ(Run({"lease", "grant", "0"}, &out, &err), 2);
  EXPECT_EQ(Run({"lease", "grant", "ten"}, &out, &err), 2);
  EXPECT_EQ(Run({"lease"}, &out, &err), 2);
}

}  // namespace
}  // namespace tinykv::cli
