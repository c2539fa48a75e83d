// The Raft log against damaged files and a failing disk: every single-bit flip
// of a small log opens to the exact log or to Corruption (never to a shorter
// or different one), every truncation opens to the state of the last whole
// record, and failed writes (EIO, a full disk, failed fsyncs) return errors and
// leave a log that reopens cleanly.
#include <gtest/gtest.h>

#include "tinykv/common/fault_injection_env.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
using namespace raft;  // NOLINT: core types in tests
namespace {

Entry E(uint64_t index, uint64_t term, std::string data = "") {
  Entry e;
  e.index = index;
  e.term = term;
  e.data = data.empty() ? "d" + std::to_string(index) : std::move(data);
  return e;
}

// What a reopened log holds.
struct LogState {
  HardState hs;
  ConfState conf;
  uint64_t snap_index = 0;
  std::vector<Entry> entries;
  friend bool operator==(const LogState&, const LogState&) = default;
};

LogState Read(const DiskStorage& s) {
  LogState st;
  auto is = s.GetInitialState().value();
  st.hs = is.hard_state;
  st.conf = is.conf_state;
  st.snap_index = s.GetSnapshot().value().metadata.index;
  if (s.LastIndex() >= s.FirstIndex())
    st.entries = s.Entries(s.FirstIndex(), s.LastIndex() + 1, UINT64_MAX).value();
  return st;
}

std::filesystem::path OnlySegment(const std::filesystem::path& dir) {
  std::filesystem::path seg;
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    EXPECT_TRUE(seg.empty()) << "more than one segment";
    seg = de.path();
  }
  return seg;
}

// A small log, as a node writes it: bootstrap conf entries, a vote, entries
// of two terms (the second overwriting a conflicting suffix), commits.
std::string MakeLog(const std::filesystem::path& dir, LogState* final_state) {
  {
    DiskStorageOptions o;
    auto s = DiskStorage::Open(dir, o).value();
    EXPECT_OK(s->Save(HardState{1, 0, 2}, {E(1, 1), E(2, 1)}, true));
    EXPECT_OK(s->Save(HardState{2, 3, 2}, {}, true));
    EXPECT_OK(s->Save(std::nullopt, {E(3, 2), E(4, 2, std::string(40, 'x'))}, true));
    EXPECT_OK(s->Save(HardState{3, 1, 3}, {E(4, 3, "new4")}, true));
    *final_state = Read(*s);
  }
  std::string bytes;
  EXPECT_OK(ReadFileToString(Env::Default(), OnlySegment(dir).string(), &bytes));
  return bytes;
}

void Write(const std::filesystem::path& file, const std::string& bytes) {
  std::filesystem::remove(file);
  ASSERT_OK(WriteStringToFile(Env::Default(), Slice(bytes), file.string(), false));
}

TEST(DiskStorageCorruption, EveryBitFlipOpensToTheExactLogOrToCorruption) {
  ::tinykv::testing::TempDir dir;
  LogState want;
  const std::string good = MakeLog(dir.path() / "src", &want);
  ASSERT_EQ(want.entries.size(), 4u);
  ASSERT_EQ(want.entries.back().data, "new4");
  const auto seg_name = OnlySegment(dir.path() / "src").filename();
  int exact = 0, corruption = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      const auto d = dir.path() / "flip";
      std::filesystem::remove_all(d);
      std::filesystem::create_directories(d);
      Write(d / seg_name, bad);
      auto s = DiskStorage::Open(d);
      if (s.ok()) {
        ASSERT_EQ(Read(**s), want) << "byte " << i << " bit " << bit
                                   << ": opened to a different log";
        ++exact;
      } else {
        ASSERT_TRUE(s.status().IsCorruption())
            << "byte " << i << " bit " << bit << ": " << s.status().ToString();
        EXPECT_NE(s.status().ToString().find("offset"), std::string::npos) << s.status().ToString();
        ++corruption;
      }
    }
  }
  // Every flip is in checksummed bytes: none may go unnoticed.
  EXPECT_EQ(exact, 0);
  EXPECT_EQ(corruption, static_cast<int>(good.size() * 8));
}

TEST(DiskStorageCorruption, EveryTruncationOpensToTheLastWholeRecord) {
  ::tinykv::testing::TempDir dir;
  LogState want;
  const std::string good = MakeLog(dir.path() / "src", &want);
  const auto seg_name = OnlySegment(dir.path() / "src").filename();
  LogState previous;  // the state at the last cut that opened to something new
  size_t distinct = 0;
  for (size_t n = 0; n <= good.size(); ++n) {
    const auto d = dir.path() / "cut";
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    Write(d / seg_name, good.substr(0, n));
    auto s = DiskStorage::Open(d);
    ASSERT_OK(s.status()) << "cut at " << n;
    const LogState got = Read(**s);
    // Cutting further never adds anything back: each state is the previous
    // one or the previous one plus exactly the records now complete.
    if (n == 0 || !(got == previous)) {
      ++distinct;
      previous = got;
    }
    // Still appendable: a new write lands after the cut and survives reopening.
    if (n % 7 == 0) {
      const uint64_t next = got.entries.empty() ? 1 : got.entries.back().index + 1;
      ASSERT_OK((*s)->Save(std::nullopt, {E(next, std::max<uint64_t>(got.hs.term, 1))}, true));
      (*s).reset();  // closed, as by a restart
      auto again = DiskStorage::Open(d);
      ASSERT_OK(again.status()) << "after appending at cut " << n;
      ASSERT_EQ((*again)->LastIndex(), next) << "cut " << n;
    }
  }
  EXPECT_EQ(previous, want);
  EXPECT_GE(distinct, 6u);  // one per record boundary (magic, 4 saves' records)
}

TEST(DiskStorageFaults, FullDiskFailsTheWriteAndTheLogStaysClean) {
  ::tinykv::testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  DiskStorageOptions o;
  o.env = &env;
  {
    auto s = DiskStorage::Open(dir.path(), o).value();
    ASSERT_OK(s->Save(HardState{1, 0, 1}, {E(1, 1)}, true));
    env.SetDiskFullAfterBytes(10);  // the next record does not fit
    Status st = s->Save(HardState{1, 0, 2}, {E(2, 1, std::string(100, 'y'))}, true);
    ASSERT_TRUE(st.IsResourceExhausted()) << st.ToString();
    EXPECT_EQ(s->LastIndex(), 1u);  // nothing half-recorded in memory either
    env.SetDiskFull(false);         // space was freed
    ASSERT_OK(s->Save(HardState{1, 0, 2}, {E(2, 1, "after")}, true));
  }
  auto s = DiskStorage::Open(dir.path(), o).value();
  EXPECT_EQ(s->LastIndex(), 2u);
  EXPECT_EQ(s->Entries(2, 3, UINT64_MAX).value()[0].data, "after");
}

TEST(DiskStorageFaults, EioAndFailedFsyncAreErrorsNeverSilentSuccess) {
  ::tinykv::testing::TempDir dir;
  FaultInjectionEnv env(Env::Default());
  DiskStorageOptions o;
  o.env = &env;
  {
    auto s = DiskStorage::Open(dir.path(), o).value();
    ASSERT_OK(s->Save(HardState{1, 0, 1}, {E(1, 1)}, true));
    env.SetFailWrites(true);
    EXPECT_TRUE(s->Save(std::nullopt, {E(2, 1)}, true).IsIOError());
    // The failed write could not even be cut back (the disk refuses every
    // write): the log stays refused, never half-appended.
    env.SetFailWrites(false);
    EXPECT_TRUE(s->Save(std::nullopt, {E(2, 1)}, true).IsIOError());
  }
  // Reopened (a restart), it holds exactly what was durable.
  auto s = DiskStorage::Open(dir.path(), o).value();
  EXPECT_EQ(s->LastIndex(), 1u);
  const uint64_t syncs = env.sync_count();
  env.SetFailSyncs(true);
  EXPECT_TRUE(s->Save(std::nullopt, {E(2, 1)}, true).IsIOError());
  EXPECT_EQ(env.sync_count(), syncs);
  env.SetFailSyncs(false);
  // After a failed fsync the page cache cannot be trusted: the log stays
  // refused until it is reopened from what is on disk.
  EXPECT_TRUE(s->Save(std::nullopt, {E(2, 1)}, true).IsIOError());
  s.reset();
  // Reopened, the log is well-formed; whether the entry whose fsync failed is
  // in it is not known (it reached the OS), and it was never acknowledged.
  s = DiskStorage::Open(dir.path(), o).value();
  EXPECT_GE(s->LastIndex(), 1u);
  EXPECT_LE(s->LastIndex(), 2u);
  // A synced Save really syncs (the power-cut tests rely on it).
  const uint64_t before = env.sync_count();
  ASSERT_OK(s->Save(std::nullopt, {E(2, 1)}, true));
  EXPECT_EQ(env.sync_count(), before + 1);
}

}  // namespace
}  // namespace tinykv::replica
