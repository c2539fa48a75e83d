// `tinykv endpoint status|health|hashkv [--cluster]` and `tinykv version`
// (cli/endpoint_command.h, cli/commands.cc): the hashkv rendering, then the
// commands in-process against a real 3-member cluster -- the server's
// version in `version` and `endpoint status`, --cluster reaching every
// member from one endpoint, members that applied the same writes agreeing
// on their hash (and a different revision, a different history, giving
// another), the compacted and future revisions refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/endpoint_command.h"
#include "cli_cluster_fixture.h"

namespace tinykv::cli {
namespace {

using namespace std::chrono_literals;

TEST(EndpointCli, HashKvOutput) {
  std::vector<HashKvRow> rows;
  rows.push_back({"127.0.0.1:2379", client::HashKvResponse{1, 3009122015u, 5, 12}});
  rows.push_back({"127.0.0.1:9", Status::Unavailable("connection refused")});
  EXPECT_EQ(RenderHashKv(rows, OutputFormat::kSimple),
            "127.0.0.1:2379, 3009122015, 12, 5\n"
            "127.0.0.1:9, error: Unavailable: connection refused\n");
  EXPECT_EQ(RenderHashKv(rows, OutputFormat::kJson),
            "[{\"endpoint\":\"127.0.0.1:2379\",\"memberID\":1,\"hash\":3009122015,"
            "\"hash_revision\":12,\"compact_revision\":5},"
            "{\"endpoint\":\"127.0.0.1:9\",\"error\":\"Unavailable: connection refused\"}]\n");
  const std::string table = RenderHashKv(rows, OutputFormat::kTable);
  EXPECT_NE(table.find("| ENDPOINT       | HASH       | HASH REVISION | COMPACT REVISION |"),
            std::string::npos)
      << table;
}

class EndpointCliCluster : public CliClusterTest {
 protected:
  // `tinykv --endpoints ENDPOINTS --command-timeout 10s ARGS...`.
  int RunAt(const std::string& endpoints, std::vector<std::string> args, std::string* out_text,
            std::string* err_text) {
    std::istringstream in;
    std::ostringstream out, err;
    args.insert(args.begin(), {"--endpoints", endpoints, "--command-timeout", "10s"});
    const int code = RunCli(args, {}, in, out, err);
    *out_text = out.str();
    *err_text = err.str();
    return code;
  }
  // The hashes `endpoint hashkv --cluster [--rev REV]` prints (simple
  // output), once every member gives the same one -- they apply the log at
  // their own pace; empty if they did not agree within 10 s.
  std::set<std::string> AgreedHashes(const std::string& rev, std::string* line) {
    std::set<std::string> hashes;
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      std::string out, err;
      if (Run({"endpoint", "hashkv", "--cluster", "--rev", rev}, &out, &err) != 0) continue;
      hashes.clear();
      std::istringstream lines(out);
      for (std::string l; std::getline(lines, l);) {
        // ENDPOINT, HASH, HASH_REVISION, COMPACT_REVISION
        const size_t a = l.find(", ");
        hashes.insert(l.substr(a + 2));
        *line = l.substr(a + 2);
      }
      if (hashes.size() == 1) return hashes;
    }
    return {};
  }
};

TEST_F(EndpointCliCluster, VersionPrintsTheCliAndTheServer) {
  std::string out, err;
  ASSERT_EQ(Run({"version"}, &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("tinykv version: 0.", 0), 0u) << out;
  EXPECT_NE(out.find("\nserver version: 0."), std::string::npos) << out;
  ASSERT_EQ(Run({"version", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("{\"tinykv\":\"0.", 0), 0u) << out;
  EXPECT_NE(out.find(",\"server\":\"0."), std::string::npos) << out;
  // The server's version is the one the CLI was built with (one constant).
  const std::string cli = out.substr(11, out.find('"', 11) - 11);
  EXPECT_NE(out.find(",\"server\":\"" + cli + "\""), std::string::npos) << out;
  ASSERT_EQ(Run({"endpoint", "status", "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(out.find("\"version\":\"unknown\""), std::string::npos) << out;
  size_t n = 0;
  for (size_t p = out.find("\"version\":\"" + cli + "\""); p != std::string::npos;
       p = out.find("\"version\":\"" + cli + "\"", p + 1))
    ++n;
  EXPECT_EQ(n, 3u) << out;
  ASSERT_EQ(Run({"endpoint", "status", "-w", "table"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("| VERSION |"), std::string::npos) << out;
  // No server: the CLI's own line, the error, exit 3.
  EXPECT_EQ(RunAt("127.0.0.1:1", {"--dial-timeout", "300ms", "version"}, &out, &err), 3);
  EXPECT_EQ(out, "tinykv version: " + cli + "\n");
  EXPECT_NE(err.find("Error: no server answered"), std::string::npos) << err;
  EXPECT_EQ(Run({"version", "-w", "table"}, &out, &err), 2);
  EXPECT_EQ(Run({"version", "extra"}, &out, &err), 2);
}

TEST_F(EndpointCliCluster, ClusterFlagReachesEveryMemberFromOne) {
  const std::string one = cluster_->endpoint(1);
  std::string out, err;
  for (const char* cmd : {"status", "health", "hashkv"}) {
    ASSERT_EQ(RunAt(one, {"endpoint", cmd}, &out, &err), 0) << cmd << ": " << err;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << cmd << ": " << out;
    ASSERT_EQ(RunAt(one, {"endpoint", cmd, "--cluster"}, &out, &err), 0) << cmd << ": " << err;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << cmd << ": " << out;
    for (const std::string& e : cluster_->endpoints())
      EXPECT_NE(out.find(e), std::string::npos) << cmd << ": " << out;
  }
  // --cluster through an endpoint that does not answer: the member list's error.
  EXPECT_EQ(RunAt("127.0.0.1:1", {"--dial-timeout", "300ms", "endpoint", "status", "--cluster"},
                  &out, &err),
            3);
  EXPECT_NE(err.find("Error: "), std::string::npos) << err;
}

TEST_F(EndpointCliCluster, MembersThatAppliedTheSameWritesAgreeOnTheirHash) {
  auto cl = NewClient();
  ASSERT_OK(cl->Put("a", "1"));
  auto b = cl->PutWithRevision("b", "2");
  ASSERT_OK(b.status());
  ASSERT_OK(cl->Delete("a"));
  auto c = cl->PutWithRevision("c", "3");
  ASSERT_OK(c.status());
  const std::string rev_b = std::to_string(b->revision);
  const std::string rev_c = std::to_string(c->revision);
  std::string at_b, at_c, now;
  ASSERT_EQ(AgreedHashes(rev_b, &at_b).size(), 1u) << "members disagree at " << rev_b;
  ASSERT_EQ(AgreedHashes(rev_c, &at_c).size(), 1u) << "members disagree at " << rev_c;
  ASSERT_EQ(AgreedHashes("0", &now).size(), 1u);
  // "HASH, HASH_REVISION, COMPACT_REVISION": the revision asked for, none compacted.
  EXPECT_NE(at_b.find(", " + rev_b + ", 0"), std::string::npos) << at_b;
  EXPECT_EQ(now, at_c) << "0 hashes every version: the newest is c's";
  // A different history (the delete and c's put) hashes differently.
  EXPECT_NE(at_b.substr(0, at_b.find(',')), at_c.substr(0, at_c.find(',')));
  // JSON, one entry per member.
  std::string out, err;
  ASSERT_EQ(Run({"endpoint", "hashkv", "--rev", rev_c, "-w", "json"}, &out, &err), 0) << err;
  EXPECT_EQ(out.rfind("[{\"endpoint\":", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '{'), 3) << out;
  EXPECT_NE(out.find("\"hash_revision\":" + rev_c + ",\"compact_revision\":0}"), std::string::npos)
      << out;

  // After a compaction at c: below it is the compacted error (exit 2), at it
  // the members still agree.
  ASSERT_EQ(Run({"compaction", rev_c}, &out, &err), 0) << err;
  EXPECT_EQ(Run({"endpoint", "hashkv", "--rev", rev_b}, &out, &err), 2);
  EXPECT_NE(err.find("required revision " + rev_b + " has been compacted (compact revision " +
                     rev_c),
            std::string::npos)
      << err;
  std::string compacted;
  ASSERT_EQ(AgreedHashes(rev_c, &compacted).size(), 1u);
  EXPECT_NE(compacted.find(", " + rev_c + ", " + rev_c), std::string::npos) << compacted;
  // A revision in the future, and bad flags.
  EXPECT_EQ(Run({"endpoint", "hashkv", "--rev", std::to_string(c->revision << 4)}, &out, &err),
            2);
  EXPECT_NE(err.find("is in the future"), std::string::npos) << err;
  EXPECT_EQ(Run({"endpoint", "hashkv", "--rev", "x"}, &out, &err), 2);
  EXPECT_EQ(Run({"endpoint", "hashkv", "-w", "fields"}, &out, &err), 2);
}

}  // namespace
}  // namespace tinykv::cli
