// DiskStorage: the durable raft log survives reopen exactly, tolerates a torn
// tail, reports corruption with file and offset, truncates conflicting
// suffixes and removes segments below the snapshot.
#include "tinykv/replica/disk_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
using namespace raft;  // NOLINT: core types in tests
namespace {

namespace fs = std::filesystem;

Entry E(uint64_t index, uint64_t term, std::string data = "") {
  return Entry{term, index, EntryType::kNormal, data.empty() ? "v" + std::to_string(index) : data};
}

std::vector<Entry> All(const DiskStorage& s) {
  if (s.LastIndex() < s.FirstIndex()) return {};
  auto r = s.Entries(s.FirstIndex(), s.LastIndex() + 1, kNoLimit);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Entry>{};
}

fs::path OnlySegment(const fs::path& dir) {
  std::vector<fs::path> segs;
  for (const auto& de : fs::directory_iterator(dir)) segs.push_back(de.path());
  std::sort(segs.begin(), segs.end());
  return segs.back();
}

TEST(DiskStorageTest, ReopenReproducesEntriesHardStateAndConf) {
  testing::TempDir dir;
  ConfState cs;
  cs.voters = {1, 2, 3};
  {
    auto s = DiskStorage::Open(dir.path()).value();
    EXPECT_TRUE(s->IsEmpty());
    ASSERT_OK(s->Bootstrap(cs));
    ASSERT_OK(s->Save(HardState{2, 1, 0}, {E(1, 1), E(2, 2), E(3, 2)}, true));
    ASSERT_OK(s->Save(HardState{2, 1, 3}, {}, false));
    EXPECT_EQ(s->stats().fsyncs, 2u);  // bootstrap + one per synced Save
  }
  auto s = DiskStorage::Open(dir.path()).value();
  EXPECT_FALSE(s->IsEmpty());
  auto is = s->GetInitialState().value();
  EXPECT_EQ(is.hard_state, (HardState{2, 1, 3}));
  EXPECT_EQ(is.conf_state, cs);
  EXPECT_EQ(s->FirstIndex(), 1u);
  EXPECT_EQ(s->LastIndex(), 3u);
  EXPECT_EQ(All(*s), (std::vector<Entry>{E(1, 1), E(2, 2), E(3, 2)}));
  EXPECT_EQ(s->Term(0).value(), 0u);
}

TEST(DiskStorageTest, ConflictingSuffixIsTruncatedAcrossReopen) {
  testing::TempDir dir;
  {
    auto s = DiskStorage::Open(dir.path()).value();
    ASSERT_OK(s->Bootstrap(ConfState{{1}, {}, {}, {}, false}));
    ASSERT_OK(s->Save(std::nullopt, {E(1, 1), E(2, 1), E(3, 1), E(4, 1)}, true));
    ASSERT_OK(s->Save(std::nullopt, {E(3, 2, "new3")}, true));
    EXPECT_EQ(s->LastIndex(), 3u);
  }
  auto s = DiskStorage::Open(dir.path()).value();
  EXPECT_EQ(All(*s), (std::vector<Entry>{E(1, 1), E(2, 1), E(3, 2, "new3")}));
}

TEST(DiskStorageTest, TornTailIsDroppedAndLogStaysAppendable) {
  testing::TempDir dir;
  {
    auto s = DiskStorage::Open(dir.path()).value();
    ASSERT_OK(s->Bootstrap(ConfState{{1}, {}, {}, {}, false}));
    ASSERT_OK(s->Save(HardState{1, 1, 0}, {E(1, 1), E(2, 1)}, true));
    ASSERT_OK(s->Save(std::nullopt, {E(3, 1, std::string(100, 'x'))}, true));
  }
  const fs::path seg = OnlySegment(dir.path());
  const auto size = fs::file_size(seg);
  for (uint64_t cut : {1ull, 50ull, 105ull}) {  // a torn write: the last record cut short
    testing::TempDir copy;
    fs::copy_file(seg, copy.path() / seg.filename());
    fs::resize_file(copy.path() / seg.filename(), size - cut);
    {
      auto s = DiskStorage::Open(copy.path());
      ASSERT_TRUE(s.ok()) << "cut " << cut << ": " << s.status().ToString();
      EXPECT_EQ((*s)->LastIndex(), 2u) << "cut " << cut;
      ASSERT_OK((*s)->Save(std::nullopt, {E(3, 1, "again")}, true));
    }
    auto again = DiskStorage::Open(copy.path()).value();
    EXPECT_EQ(again->LastIndex(), 3u);
    EXPECT_EQ(again->Entries(3, 4, kNoLimit).value()[0].data, "again");
  }
}

TEST(DiskStorageTest, CorruptionInTheMiddleIsReportedWithFileAndOffset) {
  testing::TempDir dir;
  {
    auto s = DiskStorage::Open(dir.path()).value();
    ASSERT_OK(s->Bootstrap(ConfState{{1}, {}, {}, {}, false}));
    ASSERT_OK(s->Save(std::nullopt, {E(1, 1, std::string(64, 'a'))}, true));
    ASSERT_OK(s->Save(std::nullopt, {E(2, 1, std::string(64, 'b'))}, true));
  }
  const fs::path seg = OnlySegment(dir.path());
  std::string data;
  {
    std::ifstream in(seg, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t pos = data.find(std::string(64, 'a'));
  ASSERT_NE(pos, std::string::npos);
  data[pos + 10] ^= 0x01;  // flip a bit inside the first entry's payload
  {
    std::ofstream out(seg, std::ios::binary | std::ios::trunc);
    out << data;
  }
  auto s = DiskStorage::Open(dir.path());
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption()) << s.status().ToString();
  EXPECT_NE(s.status().ToString().find(seg.filename().string()), std::string::npos)
      << s.status().ToString();
  EXPECT_NE(s.status().ToString().find("offset"), std::string::npos) << s.status().ToString();
}

TEST(DiskStorageTest, SnapshotCompactsAndRemovesOldSegments) {
  testing::TempDir dir;
  DiskStorageOptions o;
  o.segment_bytes = 1024;
  ConfState cs{{1, 2, 3}, {}, {}, {}, false};
  {
    auto s = DiskStorage::Open(dir.path(), o).value();
    ASSERT_OK(s->Bootstrap(cs));
    for (uint64_t i = 1; i <= 100; ++i) ASSERT_OK(s->Save(HardState{1, 1, i}, {E(i, 1, std::string(50, 'z'))}, true));
    EXPECT_GT(s->stats().segments, 3u);
    ASSERT_OK(s->CreateSnapshot(90, cs, "snapdata", 80));
    EXPECT_EQ(s->FirstIndex(), 81u);
    EXPECT_GT(s->stats().segments_removed, 0u);
  }
  auto s = DiskStorage::Open(dir.path(), o).value();
  auto snap = s->GetSnapshot().value();
  EXPECT_EQ(snap.metadata.index, 90u);
  EXPECT_EQ(snap.metadata.term, 1u);
  EXPECT_EQ(snap.data, "snapdata");
  EXPECT_EQ(s->FirstIndex(), 91u);
  EXPECT_EQ(s->LastIndex(), 100u);
  EXPECT_EQ(s->GetInitialState().value().hard_state.commit, 100u);
  ASSERT_OK(s->Save(std::nullopt, {E(101, 2)}, true));
}

TEST(DiskStorageTest, ReceivedSnapshotReplacesTheLog) {
  testing::TempDir dir;
  ConfState cs{{1, 2, 3}, {}, {}, {}, false};
  {
    auto s = DiskStorage::Open(dir.path()).value();
    ASSERT_OK(s->Bootstrap(cs));
    ASSERT_OK(s->Save(std::nullopt, {E(1, 1), E(2, 1)}, true));
    Snapshot snap;
    snap.metadata = SnapshotMetadata{cs, 50, 3};
    snap.data = "d";
    ASSERT_OK(s->ApplySnapshot(snap));
    EXPECT_TRUE(s->ApplySnapshot(snap).IsInvalidArgument());
    ASSERT_OK(s->Save(HardState{3, 0, 50}, {E(51, 3)}, true));
  }
  auto s = DiskStorage::Open(dir.path()).value();
  EXPECT_EQ(s->FirstIndex(), 51u);
  EXPECT_EQ(s->LastIndex(), 51u);
  EXPECT_EQ(s->Term(50).value(), 3u);
  EXPECT_TRUE(IsCompacted(s->Term(10).status()));
}

}  // namespace
}  // namespace tinykv::replica
