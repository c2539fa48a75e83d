// ServerConfig validation: every bad setting is caught before anything opens,
// with a message that names the flag.
#include "tinykv/prod/server_config.h"
#include "tinykv/net/address.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "tinykv/testing/test_util.h"

namespace tinykv::prod {
namespace {

ServerConfig GoodConfig(const std::string& dir) {
  ServerConfig c;
  c.id = 2;
  c.data_dir = dir;
  c.initial_cluster = "1=127.0.0.1:2380,2=127.0.0.1:2381,3=127.0.0.1:2382";
  return c;
}

TEST(ServerConfig, InitialClusterParsesMembers) {
  auto peers = ParseInitialCluster("1=127.0.0.1:2380, 2=localhost:2381,3=10.0.0.3:7");
  ASSERT_OK(peers.status());
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ(peers->at(1), "127.0.0.1:2380");
  EXPECT_EQ(peers->at(2), "localhost:2381");
  EXPECT_EQ(peers->at(3), "10.0.0.3:7");
}

TEST(ServerConfig, InitialClusterRejectsMalformedMembers) {
  for (const char* bad : {"1=127.0.0.1", "x=127.0.0.1:1", "0=127.0.0.1:1", "1=a:1,1=b:2",
                          "1=a:1,,2=b:2", "1=a:99999", "1=a:0", "=a:1", "1"}) {
    auto r = ParseInitialCluster(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("--initial-cluster"), std::string::npos) << bad;
  }
}

// The server uses the project's one host:port parser (tinykv/net/address.h).
TEST(ServerConfig, HostPortSplitsAtLastColon) {
  auto hp = net::ParseHostPort("127.0.0.1:2379");
  ASSERT_OK(hp.status());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 2379);
  EXPECT_FALSE(net::ParseHostPort("127.0.0.1").ok());
  EXPECT_FALSE(net::ParseHostPort(":80").ok());
  EXPECT_FALSE(net::ParseHostPort("h:-1").ok());
  EXPECT_FALSE(net::ParseHostPort("h:12abc").ok());
  testing::TempDir tmp;
  ServerConfig c = GoodConfig(tmp.path().string());
  c.listen_client = "127.0.0.1:12abc";
  EXPECT_TRUE(ValidateServerConfig(c).IsInvalidArgument());
}

TEST(ServerConfig, GoodConfigValidatesAndCreatesDataDir) {
  testing::TempDir tmp;
  const auto dir = tmp.path() / "a" / "b";
  EXPECT_OK(ValidateServerConfig(GoodConfig(dir.string())));
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "the write probe must be removed";
}

TEST(ServerConfig, BadSettingsNameTheirFlag) {
  testing::TempDir tmp;
  const std::string dir = tmp.path().string();
  struct Case {
    std::function<void(ServerConfig&)> mutate;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {[](ServerConfig& c) { c.id = 0; }, "--id"},
      {[](ServerConfig& c) { c.id = 4; }, "--initial-cluster"},
      {[](ServerConfig& c) { c.data_dir.clear(); }, "--data-dir"},
      {[](ServerConfig& c) { c.listen_client = "nohost"; }, "--listen-client"},
      {[](ServerConfig& c) { c.listen_peer = "h:70000"; }, "--listen-peer"},
      {[](ServerConfig& c) { c.tick_ms = 0; }, "--tick-ms"},
      {[](ServerConfig& c) { c.election_ticks = 1; }, "--election-ticks"},
      {[](ServerConfig& c) { c.heartbeat_ticks = 0; }, "--heartbeat-ticks"},
      {[](ServerConfig& c) { c.snapshot_threshold = 0; }, "--snapshot-threshold"},
      {[](ServerConfig& c) { c.io_threads = 0; }, "--io-threads"},
      {[](ServerConfig& c) { c.log_format = "xml"; }, "--log-format"},
  };
  for (const auto& tc : cases) {
    ServerConfig c = GoodConfig(dir);
    tc.mutate(c);
    Status s = ValidateServerConfig(c);
    EXPECT_TRUE(s.IsInvalidArgument()) << tc.flag << ": " << s.ToString();
    EXPECT_NE(s.message().find(tc.flag), std::string::npos) << s.ToString();
  }
}

TEST(ServerConfig, DataDirThatIsAFileIsAnIOError) {
  testing::TempDir tmp;
  const auto file = tmp.path() / "file";
  std::ofstream(file) << "x";
  Status s = ValidateServerConfig(GoodConfig(file.string()));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("not a directory"), std::string::npos);
}

TEST(ServerConfig, UnwritableDataDirIsAnIOError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  testing::TempDir tmp;
  const auto dir = tmp.path() / "ro";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0500);
  Status s = ValidateServerConfig(GoodConfig(dir.string()));
  ::chmod(dir.c_str(), 0700);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

TEST(ServerConfig, NoInitialClusterMeansSingleNode) {
  testing::TempDir tmp;
  ServerConfig c = GoodConfig(tmp.path().string());
  c.initial_cluster.clear();
  EXPECT_OK(ValidateServerConfig(c));
}

}  // namespace
}  // namespace tinykv::prod
