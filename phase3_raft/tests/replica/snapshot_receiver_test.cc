// SnapshotReceiver (src/replica/snapshot_receiver.h): the checks raft.FetchSnapshot
// applies to the chunks a peer sends.
#include "replica/snapshot_receiver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tinykv/common/env.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica::internal {
namespace {

using tinykv::testing::IsOk;

class SnapshotReceiverTest : public ::testing::Test {
 protected:
  std::string Read(const std::string& name) {
    std::string s;
    EXPECT_TRUE(IsOk(ReadFileToString(Env::Default(), (into_ / name).string(), &s)));
    return s;
  }
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      names.push_back(e.path().lexically_relative(dir_.path()).string());
    }
    for (const auto& e : std::filesystem::directory_iterator(into_)) {
      names.push_back(e.path().lexically_relative(dir_.path()).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  tinykv::testing::TempDir dir_;
  const std::filesystem::path into_ = dir_.path() / "snap";
  SnapshotReceiver rx_{Env::Default(), into_};
};

TEST_F(SnapshotReceiverTest, WritesEachFileFromItsChunksInOrder) {
  ASSERT_TRUE(IsOk(rx_.Start()));
  ASSERT_TRUE(IsOk(rx_.Accept({"000005.sst", 0, "abc", 0})));
  ASSERT_TRUE(IsOk(rx_.Accept({"CURRENT", 0, "MANIFEST-000002\n", 1})));
  EXPECT_TRUE(rx_.Finish().IsCorruption()) << "000005.sst has not ended";
  ASSERT_TRUE(IsOk(rx_.Accept({"000005.sst", 3, "de", 1})));
  EXPECT_TRUE(IsOk(rx_.Finish()));
  EXPECT_EQ(Read("000005.sst"), "abcde");
  EXPECT_EQ(Read("CURRENT"), "MANIFEST-000002\n");
}

TEST_F(SnapshotReceiverTest, StartReplacesWhatAnEarlierAttemptLeft) {
  std::filesystem::create_directories(into_);
  ASSERT_TRUE(IsOk(WriteStringToFile(Env::Default(), "old", (into_ / "stale").string(), false)));
  ASSERT_TRUE(IsOk(rx_.Start()));
  EXPECT_EQ(Listing(), std::vector<std::string>{"snap"});
}

TEST_F(SnapshotReceiverTest, ChunksOutOfOrderOrAfterTheEndAreCorruption) {
  ASSERT_TRUE(IsOk(rx_.Start()));
  EXPECT_TRUE(rx_.Accept({"f", 1, "x", 0}).IsCorruption()) << "a gap before the first chunk";
  EXPECT_EQ(Listing(), std::vector<std::string>{"snap"}) << "a refused chunk creates nothing";
  ASSERT_TRUE(IsOk(rx_.Accept({"f", 0, "ab", 0})));
  EXPECT_TRUE(rx_.Accept({"f", 1, "b", 0}).IsCorruption()) << "an overlap";
  ASSERT_TRUE(IsOk(rx_.Accept({"f", 2, "c", 1})));
  EXPECT_TRUE(rx_.Accept({"f", 3, "d", 0}).IsCorruption()) << "after the last chunk";
}

// Names come from a peer: only one plain path component, so nothing lands
// outside the directory and each name is one file. The NUL case was found by
// fuzz/peer_protocol_fuzzer.cc (corpus: regress_nul_in_snapshot_file_name).
TEST_F(SnapshotReceiverTest, FileNamesAreOnePlainPathComponent) {
  ASSERT_TRUE(IsOk(rx_.Start()));
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("../escape"),
        std::string("/tmp/escape"), std::string("sub/file"), std::string("CURi\0\0\0", 7),
        std::string("a\0b", 3)}) {
    EXPECT_FALSE(SnapshotReceiver::IsValidFileName(bad)) << bad;
    EXPECT_TRUE(rx_.Accept({bad, 0, "x", 1}).IsCorruption()) << bad;
  }
  EXPECT_EQ(Listing(), std::vector<std::string>{"snap"});
  for (const std::string good : {"CURRENT", "MANIFEST-000002", "000005.sst", "...", ".hidden"}) {
    EXPECT_TRUE(SnapshotReceiver::IsValidFileName(good)) << good;
  }
}

}  // namespace
}  // namespace tinykv::replica::internal
