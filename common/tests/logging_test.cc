#include "tinykv/common/logging.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

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

TEST(Logging, SameComponentSameLogger) { EXPECT_EQ(Get("storage").get(), Get("storage").get()); }

}  // namespace
}  // namespace tinykv::logging
