// VersionEdit encoding round-trips; malformed input is Corruption. MANIFEST
// replay (VersionSet::RecoverFrom) rejects states the engine never writes.
#include <gtest/gtest.h>

#include "tinykv/storage/options.h"
#include "tinykv/testing/memory_files.h"
#include "tinykv/testing/test_util.h"
#include "version_edit.h"
#include "version_set.h"
#include "wal_writer.h"

namespace tinykv::storage {
namespace {

std::string IKey(const std::string& user, uint64_t seq, ValueType t) {
  std::string k;
  AppendInternalKey(&k, user, seq, t);
  return k;
}

TEST(VersionEdit, EncodeDecodeRoundTrip) {
  VersionEdit edit;
  edit.SetComparatorName("tinykv.InternalKeyComparator");
  edit.SetLogNumber(7);
  edit.SetNextFile(100);
  edit.SetLastSequence(123456789);
  for (int i = 0; i < 4; ++i) {
    edit.AddFile(i, 10 + i, 4096 * i, IKey("a" + std::to_string(i), 5, kTypeValue),
                 IKey("z" + std::to_string(i), 9, kTypeDeletion));
    edit.RemoveFile(i + 1, 50 + i);
    edit.SetCompactPointer(i, IKey("m", 3, kTypeValue));
  }
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  ASSERT_OK(parsed.DecodeFrom(encoded));
  std::string encoded2;
  parsed.EncodeTo(&encoded2);
  EXPECT_EQ(encoded, encoded2);
  EXPECT_EQ(edit.DebugString(), parsed.DebugString());
}

TEST(VersionEdit, TruncatedOrUnknownInputIsCorruption) {
  VersionEdit edit;
  edit.SetLogNumber(7);
  edit.AddFile(1, 10, 4096, IKey("a", 5, kTypeValue), IKey("b", 6, kTypeValue));
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit parsed;
  for (size_t n = 1; n < encoded.size(); ++n) {
    Status s = parsed.DecodeFrom(Slice(encoded.data(), n));
    // Some prefixes end exactly between fields and decode fine; the rest
    // must be Corruption, never a crash.
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption());
    }
  }
  EXPECT_TRUE(parsed.DecodeFrom(Slice("\x63\x01", 2)).IsCorruption());  // tag 99
  // A level beyond the maximum.
  EXPECT_TRUE(parsed.DecodeFrom(Slice("\x06\x63\x01", 3)).IsCorruption());
}

// A MANIFEST of `edits` (after a valid snapshot: L1 holds #5 [a, f]) replayed
// into a fresh VersionSet.
Status Replay(const std::vector<VersionEdit>& edits, VersionSet* vset) {
  VersionEdit snap;
  snap.SetComparatorName("tinykv.InternalKeyComparator");
  snap.SetLogNumber(3);
  snap.SetNextFile(20);
  snap.SetLastSequence(100);
  snap.AddFile(1, 5, 1000, IKey("a", 10, kTypeValue), IKey("f", 11, kTypeValue));
  testing::StringWritableFile out;
  wal::Writer writer(&out);
  std::string record;
  snap.EncodeTo(&record);
  EXPECT_OK(writer.AddRecord(record));
  for (const auto& e : edits) {
    record.clear();
    e.EncodeTo(&record);
    EXPECT_OK(writer.AddRecord(record));
  }
  testing::MemorySequentialFile file(out.contents());
  return vset->RecoverFrom(&file, "db/MANIFEST-000002", 2);
}

class VersionSetRecover : public ::testing::Test {
 protected:
  Status Replay(const VersionEdit& e) { return storage::Replay({e}, &vset_); }
  Options options_;
  VersionSet vset_{"db", &options_, nullptr, Env::Default()};
};

TEST_F(VersionSetRecover, AcceptsWhatTheEngineWrites) {
  VersionEdit e;
  e.SetLogNumber(4);
  e.RemoveFile(1, 5);
  e.AddFile(2, 7, 1000, IKey("a", 10, kTypeValue), IKey("f", 11, kTypeValue));
  ASSERT_OK(Replay(e));
  EXPECT_EQ(4u, vset_.LogNumber());
  EXPECT_EQ(0, vset_.NumLevelFiles(1));
  EXPECT_EQ(1, vset_.current()->NumFiles(2));
  EXPECT_EQ(100u, vset_.LastSequence());
}

TEST_F(VersionSetRecover, OverlappingFilesInALevelAreCorruption) {
  VersionEdit e;
  e.AddFile(1, 7, 10, IKey("e", 1, kTypeValue), IKey("g", 1, kTypeValue));
  Status s = Replay(e);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-000002: overlapping files in level 1"));
}

TEST_F(VersionSetRecover, ATableInTwoLevelsIsCorruption) {
  VersionEdit e;
  e.AddFile(3, 5, 10, IKey("x", 1, kTypeValue), IKey("y", 1, kTypeValue));
  Status s = Replay(e);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("table #5 is in two levels")) << s.ToString();
}

TEST_F(VersionSetRecover, SmallestKeyAfterLargestIsCorruption) {
  VersionEdit e;
  e.AddFile(0, 7, 10, IKey("y", 1, kTypeValue), IKey("b", 1, kTypeValue));
  Status s = Replay(e);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("smallest key after largest")) << s.ToString();
}

TEST_F(VersionSetRecover, FileNumbersNotBelowNextFileAreCorruption) {
  VersionEdit table;
  table.AddFile(0, 20, 10, IKey("a", 1, kTypeValue), IKey("b", 1, kTypeValue));
  Status s = Replay(table);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("table number 20 is not below next-file 20"));
  VersionEdit log;
  log.SetLogNumber(25);
  VersionSet fresh("db", &options_, nullptr, Env::Default());
  s = storage::Replay({log}, &fresh);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("log number 25")) << s.ToString();
}

TEST_F(VersionSetRecover, AFileBeyondNumLevelsIsCorruptionNamingTheOffset) {
  VersionEdit e;
  e.AddFile(options_.num_levels, 7, 10, IKey("a", 1, kTypeValue), IKey("b", 1, kTypeValue));
  Status s = Replay(e);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-000002: offset ")) << s.ToString();
}

TEST_F(VersionSetRecover, MissingEntriesAreCorruption) {
  testing::StringWritableFile out;
  wal::Writer writer(&out);
  VersionEdit e;
  e.SetComparatorName("tinykv.InternalKeyComparator");
  e.SetNextFile(9);
  std::string record;
  e.EncodeTo(&record);
  ASSERT_OK(writer.AddRecord(record));
  testing::MemorySequentialFile file(out.contents());
  Status s = vset_.RecoverFrom(&file, "db/MANIFEST-000002", 2);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("no log-number entry")) << s.ToString();
}

}  // namespace
}  // namespace tinykv::storage
