#include "tinykv/common/logging.h"

#include <fstream>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tinykv/testing/test_util.h"

namespace tinykv::logging {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Logging, RejectsUnknownLevelAndFormat) {
  EXPECT_TRUE(Init({.level = "loud"}).IsInvalidArgument());
  EXPECT_TRUE(Init({.level = "info", .format = "xml"}).IsInvalidArgument());
}

TEST(Logging, JsonFormatWritesOneObjectPerLine) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.json";
  ASSERT_OK(Init({.level = "debug", .format = "json", .file = file.string()}));
  auto log = Get("raft");
  log->info("node=2 term=5 became leader");
  log->debug("detail");
  log->trace("hidden");
  log->flush();
  const std::string out = ReadFile(file);
  EXPECT_NE(out.find(R"("logger":"raft")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("msg":"node=2 term=5 became leader")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("level":"debug")"), std::string::npos) << out;
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  ASSERT_OK(Init({.level = "info", .format = "text"}));
}

std::vector<nlohmann::json> ParseLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(nlohmann::json::parse(line));  // throws (fails the test) if not JSON
  }
  return lines;
}

TEST(Logging, JsonFieldsAreTypedMembersOfTheLine) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.json";
  ASSERT_OK(Init({.level = "info", .format = "json", .file = file.string()}));
  auto log = Get("replica");
  Log(log, spdlog::level::warn, "slow fdatasync",
      {{"node", uint64_t{2}},
       {"group", 1},
       {"term", uint64_t{7}},
       {"took", std::chrono::milliseconds(1500)},
       {"ok", false},
       {"error", "disk full"}});
  Log(log, spdlog::level::debug, "dropped", {{"node", 1}});  // below the level
  log->flush();
  const auto lines = ParseLines(ReadFile(file));
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["logger"], "replica");
  EXPECT_EQ(j["msg"], "slow fdatasync");
  EXPECT_TRUE(j["node"].is_number_unsigned());
  EXPECT_EQ(j["node"], 2);
  EXPECT_EQ(j["group"], 1);
  EXPECT_EQ(j["term"], 7);
  EXPECT_DOUBLE_EQ(j["took"].get<double>(), 1500.0);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"], "disk full");
  EXPECT_TRUE(j["ts"].get<std::string>().ends_with("Z")) << j;
  ASSERT_OK(Init({.level = "info", .format = "text"}));
}

TEST(Logging, HostileStringsStillMakeOneValidJsonObjectPerLine) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.json";
  ASSERT_OK(Init({.level = "info", .format = "json", .file = file.string()}));
  auto log = Get("server");
  const std::string key("a\"b\nc\\d\x00\x01\xff\xfe}{", 13);
  // A field value, a field name and the message itself, all hostile; and a
  // field named like a reserved member, which must not replace it.
  Log(log, spdlog::level::info, key, {{"key", key}, {key, 1}, {"msg", "forged"}});
  log->info("plain \"quoted\" \n line \xff");
  log->flush();
  const std::string out = ReadFile(file);
  const auto lines = ParseLines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  EXPECT_EQ(lines[0]["key"].get<std::string>().substr(0, 7), "a\"b\nc\\d");
  EXPECT_NE(lines[0]["key"].get<std::string>().find(std::string("\0\x01", 2)), std::string::npos);
  EXPECT_EQ(lines[0]["field.msg"], "forged");
  EXPECT_EQ(lines[0]["msg"].get<std::string>().substr(0, 3), "a\"b");
  EXPECT_EQ(lines[1]["msg"].get<std::string>().substr(0, 14), "plain \"quoted\"");
  ASSERT_OK(Init({.level = "info", .format = "text"}));
}

TEST(Logging, TextPutsContextFieldsFirstAndQuotesUnsafeValues) {
  EXPECT_EQ(RenderText("became leader", {{"node", 2}, {"term", 5}}), "node=2 term=5 became leader");
  EXPECT_EQ(RenderText("stopped", {{"applied", 7}, {"node", 1}, {"group", 1}}),
            "node=1 group=1 stopped applied=7");
  EXPECT_EQ(RenderText("refused", {{"node", 1}, {"error", "no space"}, {"key", "a\nb"},
                                   {"peer", ""}, {"took", std::chrono::microseconds(1500)}}),
            R"(node=1 refused error="no space" key="a\nb" peer="" took=1.500)");
  EXPECT_EQ(RenderText("ok", {}), "ok");
}

TEST(Logging, TextFormatWritesTheRenderedLine) {
  testing::TempDir dir;
  const auto file = dir.path() / "log.txt";
  ASSERT_OK(Init({.level = "info", .format = "text", .file = file.string()}));
  Log(Get("server"), spdlog::level::info, "ready", {{"node", 1}, {"client", "127.0.0.1:1"}});
  Get("server")->flush();
  EXPECT_NE(ReadFile(file).find("[server] node=1 ready client=127.0.0.1:1"), std::string::npos)
      << ReadFile(file);
  ASSERT_OK(Init({.level = "info", .format = "text"}));
}

TEST(Logging, SameComponentSameLogger) { EXPECT_EQ(Get("storage").get(), Get("storage").get()); }

}  // namespace
}  // namespace tinykv::logging
