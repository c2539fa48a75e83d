// ServerConfig validation: every bad setting is caught before anything opens,
// with a message that names the flag.
#include "tinykv/prod/server_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "tinykv/net/address.h"
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

// Addresses may be URLs: https:// asks for TLS and is refused without the
// TLS flags (never a silent downgrade), http:// is refused when they are set,
// other schemes always.
TEST(ServerConfig, AddressSchemesMustAgreeWithTheTlsFlags) {
  testing::TempDir tmp;
  ServerConfig c = GoodConfig(tmp.path().string());
  c.listen_peer = "https://127.0.0.1:2380";
  Status s = ValidateServerConfig(c);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("--listen-peer: 'https://127.0.0.1:2380' asks for TLS, but "
                             "--peer-cert-file"),
            std::string::npos)
      << s.ToString();
  c = GoodConfig(tmp.path().string());
  c.initial_cluster = "1=127.0.0.1:2380,2=https://127.0.0.1:2381";
  s = ValidateServerConfig(c);
  EXPECT_NE(s.message().find("--initial-cluster: 'https://127.0.0.1:2381' asks for TLS"),
            std::string::npos)
      << s.ToString();
  c = GoodConfig(tmp.path().string());
  c.listen_client = "http://127.0.0.1:2379";  // plaintext said out loud: fine without TLS
  EXPECT_OK(ValidateServerConfig(c));
  c.cert_file = tmp.path().string() + "/server.pem";  // ... but not with TLS on
  EXPECT_NE(ValidateServerConfig(c).message().find("asks for plaintext"), std::string::npos);
  c = GoodConfig(tmp.path().string());
  c.listen_client = "unix://x:1";
  EXPECT_NE(ValidateServerConfig(c).message().find("unsupported scheme"), std::string::npos);
  auto r = ParseInitialCluster("1=https://10.0.0.1:2380,2=10.0.0.2:2380");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->at(1), "10.0.0.1:2380");
  EXPECT_EQ(AddressOf("https://10.0.0.1:2380/"), "10.0.0.1:2380");
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
      {[](ServerConfig& c) { c.corrupt_check_interval_ms = -1; }, "--corrupt-check-interval-ms"},
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

// ---- The config file (ParseConfigFile) ----

const ConfigSchema& TestSchema() {
  static const ConfigSchema schema = {
      {"id", ConfigValueType::kUnsigned},
      {"data-dir", ConfigValueType::kString},
      {"log-level", ConfigValueType::kString},
      {"tick-ms", ConfigValueType::kInteger},
      {"enable-fault-injection", ConfigValueType::kBool},
  };
  return schema;
}

Result<std::vector<ConfigSetting>> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseConfigFile(in, "server.toml", TestSchema());
}

TEST(ServerConfigFile, GoodFileYieldsEverySettingUnquoted) {
  auto r = Parse(
      "# a comment\n"
      "; another\n"
      "\n"
      "id = 3\n"
      "data-dir = \"/var/lib/tinykv # not a comment\"   # a comment\n"
      "log-level='debug'\r\n"
      "tick-ms = -5\n"
      "enable-fault-injection = true\n");
  ASSERT_OK(r.status());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].key, "id");
  EXPECT_EQ((*r)[0].value, "3");
  EXPECT_EQ((*r)[0].line, 4);
  EXPECT_EQ((*r)[1].value, "/var/lib/tinykv # not a comment");
  EXPECT_EQ((*r)[2].value, "debug");
  EXPECT_EQ((*r)[3].value, "-5");
  EXPECT_EQ((*r)[4].value, "true");
}

// Each bad line is refused with the file, its line number and the key (or the
// line itself when it has no key) in the message.
TEST(ServerConfigFile, EveryMalformedLineIsRefusedWithItsLineAndKey) {
  struct Case {
    std::string line;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {"log-levle = \"debug\"", {"unknown key 'log-levle'", "did you mean 'log-level'"}},
      {"data_dir = \"/x\"", {"unknown key 'data_dir'", "did you mean 'data-dir'"}},
      {"listen = \"x\"", {"unknown key 'listen'"}},
      {"this is not toml", {"expected key = value", "'this is not toml'"}},
      {"= 5", {"expected key = value"}},
      {"[server]", {"section headers are not supported", "[server]"}},
      {"[[servers]]", {"section headers are not supported"}},
      {"tick-ms = \"fast\"", {"tick-ms: expected an integer", "'fast'"}},
      {"tick-ms = 1.5", {"tick-ms: expected an integer"}},
      {"tick-ms = 99999999999", {"tick-ms: expected an integer"}},
      {"id = -1", {"id: expected an unsigned integer"}},
      {"enable-fault-injection = yes", {"enable-fault-injection: expected true or false"}},
      {"data-dir =", {"data-dir: no value"}},
      {"data-dir = \"/x", {"data-dir: unterminated string"}},
      {"data-dir = \"/x\" extra", {"data-dir: unexpected 'extra'"}},
      {"data-dir = /a b", {"data-dir: '/a b' must be quoted"}},
      {"log-level = [\"a\", \"b\"]", {"log-level: takes one value, not a list"}},
  };
  for (const auto& tc : cases) {
    auto r = Parse("id = 1\n\n" + tc.line + "\n");
    ASSERT_TRUE(r.status().IsInvalidArgument()) << tc.line << ": " << r.status().ToString();
    const std::string msg(r.status().message());
    EXPECT_EQ(msg.rfind("server.toml:3: ", 0), 0u) << msg;
    for (const auto& needle : tc.needles) {
      EXPECT_NE(msg.find(needle), std::string::npos) << "want '" << needle << "' in: " << msg;
    }
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

TEST(ServerConfigFile, AKeyGivenTwiceIsRefused) {
  auto r = Parse("tick-ms = 5\nid = 1\ntick-ms = 6\n");
  ASSERT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("server.toml:3: tick-ms: given twice (first on line 1)"),
            std::string::npos)
      << r.status().ToString();
}

TEST(ServerConfigFile, EmptyFileHasNoSettings) {
  auto r = Parse("");
  ASSERT_OK(r.status());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace tinykv::prod
