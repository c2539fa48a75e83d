// Recovery and durability: WAL corruption in both recovery modes, torn
// tails, damaged SSTables and MANIFESTs, missing files, simulated power
// loss and injected I/O errors (docs/style.md, "Tests"). The exhaustive tests state the
// rule of wal_reader.h for each log of the engine: after any one flipped
// bit, or a cut at any offset, Open either returns exactly the data written
// or Corruption -- never fewer keys, never other values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "db_impl.h"
#include "filename.h"
#include "tinykv/common/env.h"
#include "tinykv/common/fault_injection_env.h"
#include "tinykv/storage/db.h"
#include "tinykv/testing/memory_files.h"
#include "tinykv/testing/test_util.h"
#include "wal_reader.h"
#include "wal_writer.h"
#include "write_batch_internal.h"

namespace tinykv::storage {
namespace {

using KeyValues = std::map<std::string, std::string>;
// A database directory as bytes (file name -> contents), to restore many
// damaged variants from.
using DirImage = std::map<std::string, std::string>;

// Where each record of a log file (WAL or MANIFEST) starts and ends.
struct RecordSpan {
  uint64_t begin;
  uint64_t end;
};
std::vector<RecordSpan> RecordSpans(const std::string& contents) {
  testing::MemorySequentialFile file(contents);
  wal::Reader reader(&file, "log");
  std::vector<RecordSpan> spans;
  Slice record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch)) {
    spans.push_back({reader.last_record_offset(), reader.end_of_last_record()});
  }
  EXPECT_OK(reader.status());
  return spans;
}

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() {
    options_.create_if_missing = true;
    // Power cuts are simulated (DropUnsyncedData); real fsyncs only cost time.
    fault_env_.SetSkipRealSyncs(true);
  }
  std::string dbname() const { return (dir_.path() / "db").string(); }
  Status TryOpen(Env* env = nullptr) {
    db_.reset();
    auto r = DBImpl::OpenWithEnv(options_, dbname(), env != nullptr ? env : Env::Default());
    if (!r.ok()) return r.status();
    db_ = std::move(r).value();
    return Status::OK();
  }
  void Open(Env* env = nullptr) { ASSERT_OK(TryOpen(env)); }
  std::vector<std::string> Files(FileType want) {
    std::vector<std::string> names;
    std::vector<std::string> out;
    EXPECT_OK(Env::Default()->GetChildren(dbname(), &names));
    for (const auto& n : names) {
      uint64_t number;
      FileType type;
      if (ParseFileName(n, &number, &type) && type == want) out.push_back(dbname() + "/" + n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  void FlipByte(const std::string& fname, size_t offset) {
    std::string c;
    ASSERT_OK(ReadFileToString(Env::Default(), fname, &c));
    ASSERT_LT(offset, c.size());
    c[offset] ^= 0x5a;
    ASSERT_OK(WriteStringToFile(Env::Default(), c, fname, false));
  }
  void Truncate(const std::string& fname, size_t drop) {
    std::string c;
    ASSERT_OK(ReadFileToString(Env::Default(), fname, &c));
    ASSERT_OK(WriteStringToFile(Env::Default(), c.substr(0, c.size() - drop), fname, false));
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    auto it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    EXPECT_OK(it->status());
    return keys;
  }
  static std::string Key(int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "k%04d", i);
    return buf;
  }
  // Writes keys 0..n-1, one WAL record each, and closes the DB.
  void WriteKeysAndClose(int n, size_t value_size = 10) {
    Open();
    for (int i = 0; i < n; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), std::string(value_size, 'v')));
    db_.reset();
  }
  static std::string Value(int i) { return "value-" + std::to_string(i); }
  static KeyValues Expected(int n) {
    KeyValues kv;
    for (int i = 0; i < n; ++i) kv[Key(i)] = Value(i);
    return kv;
  }

  DirImage Image() {
    DirImage image;
    std::vector<std::string> names;
    EXPECT_OK(Env::Default()->GetChildren(dbname(), &names));
    for (const auto& n : names) {
      if (n == "LOCK") continue;
      EXPECT_OK(ReadFileToString(Env::Default(), dbname() + "/" + n, &image[n]));
    }
    return image;
  }
  // Makes the directory hold exactly `image` (and maybe a LOCK), rewriting
  // only what differs: creating files is most of the cost of a trial.
  void Restore(const DirImage& image) {
    db_.reset();
    Env* env = Env::Default();
    if (!env->FileExists(dbname())) {
      ASSERT_OK(env->CreateDir(dbname()));
    }
    std::vector<std::string> names;
    ASSERT_OK(env->GetChildren(dbname(), &names));
    for (const auto& n : names) {
      if (n != "LOCK" && image.count(n) == 0) {
        ASSERT_OK(fault_env_.RemoveFile(dbname() + "/" + n));
      }
    }
    for (const auto& [name, contents] : image) {
      const std::string fname = dbname() + "/" + name;
      std::string now;
      if (env->FileExists(fname) && ReadFileToString(env, fname, &now).ok()) {
        if (now == contents) continue;
        if (now.size() == contents.size()) {
          // Overwrite in place: truncating and rewriting makes ext4 write the
          // file back on close (its replace-by-truncate heuristic).
          std::fstream f(fname, std::ios::in | std::ios::out | std::ios::binary);
          ASSERT_TRUE(f.is_open()) << fname;
          f.write(contents.data(), static_cast<std::streamsize>(contents.size()));
          ASSERT_TRUE(f.good()) << fname;
          continue;
        }
      }
      ASSERT_OK(WriteStringToFile(env, contents, fname, false));
    }
  }
  static std::string NameOf(const DirImage& image, FileType want) {
    for (const auto& [name, contents] : image) {
      uint64_t number;
      FileType type;
      if (ParseFileName(name, &number, &type) && type == want && !contents.empty()) return name;
    }
    ADD_FAILURE() << "no such file";
    return "";
  }
  // Opens the database (through fault_env_) and reads all of it.
  Status OpenAndRead(KeyValues* got) {
    got->clear();
    Status s = TryOpen(&fault_env_);
    if (!s.ok()) return s;
    auto it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      (*got)[it->key().ToString()] = it->value().ToString();
    }
    return it->status();
  }
  // Asserts the outcome the rule allows: exactly `expect`, or Corruption
  // naming `damaged` and an offset. Returns whether it opened.
  ::testing::AssertionResult RightDataOrCorruption(const KeyValues& expect,
                                                    const std::string& damaged, bool* opened) {
    KeyValues got;
    Status s = OpenAndRead(&got);
    *opened = s.ok();
    if (s.ok()) {
      if (got == expect) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure()
             << "opened with " << got.size() << " keys, expected exactly " << expect.size();
    }
    if (!s.IsCorruption()) return ::testing::AssertionFailure() << "not Corruption: " << s.ToString();
    if (s.ToString().find(damaged) == std::string::npos ||
        s.ToString().find("offset ") == std::string::npos) {
      return ::testing::AssertionFailure() << "does not name " << damaged << " and an offset: "
                                           << s.ToString();
    }
    return ::testing::AssertionSuccess();
  }
  // 50 keys flushed to a table, as the MANIFEST tests need: the MANIFEST
  // then ends in the flush's edit (the table, the new log number). With
  // `keep_old_log`, the log that held the keys is put back, as if the
  // process had died after the edit was synced but before that log was
  // deleted.
  DirImage FlushedDatabase(bool keep_old_log) {
    db_.reset();
    EXPECT_OK(fault_env_.RemoveDirRecursively(dbname()));
    Open(&fault_env_);
    for (int i = 0; i < 50; ++i) EXPECT_OK(db_->Put(WriteOptions(), Key(i), Value(i)));
    const DirImage before = Image();
    EXPECT_OK(db_->Flush());
    db_.reset();
    DirImage image = Image();
    if (keep_old_log) {
      const std::string log = NameOf(before, FileType::kLogFile);
      EXPECT_EQ(0u, image.count(log));
      image[log] = before.at(log);
    }
    return image;
  }
  // 8 keys, one WAL record each, in a closed database: a small WAL.
  DirImage SmallWalDatabase() {
    db_.reset();
    EXPECT_OK(fault_env_.RemoveDirRecursively(dbname()));
    Open(&fault_env_);
    for (int i = 0; i < 8; ++i) EXPECT_OK(db_->Put(WriteOptions(), Key(i), Value(i)));
    db_.reset();
    return Image();
  }
  // Flips every bit of `file` in turn; each time Open must give exactly
  // `expect` or Corruption naming the file. Returns how many flips opened.
  int FlipEveryBit(const DirImage& image, const std::string& file, const KeyValues& expect,
                   const std::string& context) {
    const std::string& bytes = image.at(file);
    int opened_count = 0;
    for (size_t pos = 0; pos < bytes.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        DirImage damaged = image;
        damaged[file][pos] = static_cast<char>(bytes[pos] ^ (1 << bit));
        Restore(damaged);
        bool opened = false;
        EXPECT_TRUE(RightDataOrCorruption(expect, file, &opened))
            << context << " byte " << pos << " bit " << bit;
        if (::testing::Test::HasFailure()) return -1;
        opened_count += opened;
      }
    }
    return opened_count;
  }

  testing::TempDir dir_;
  Options options_;
  // Declared before db_: a DB opened on it must be closed before it goes.
  FaultInjectionEnv fault_env_{Env::Default()};
  std::unique_ptr<DB> db_;
};

TEST_F(RecoveryTest, WalCorruptionFollowedByValidRecordsFailsOpenNamingFileAndOffset) {
  WriteKeysAndClose(100);
  auto logs = Files(FileType::kLogFile);
  ASSERT_EQ(1u, logs.size());
  // Each record: 7 header + 12 batch header + 1 tag + 1+5 key + 1+10 value = 37 bytes.
  FlipByte(logs[0], 50 * 37 + 20);
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(logs[0].substr(logs[0].rfind('/') + 1)));
  EXPECT_NE(std::string::npos, s.ToString().find("offset " + std::to_string(50 * 37)));
}

TEST_F(RecoveryTest, PointInTimeRecoveryKeepsExactlyThePrefixBeforeTheDamage) {
  WriteKeysAndClose(100);
  FlipByte(Files(FileType::kLogFile)[0], 50 * 37 + 20);
  options_.wal_recovery_mode = WalRecoveryMode::kPointInTime;
  Open();
  auto keys = Keys();
  ASSERT_EQ(50u, keys.size());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Key(i), keys[static_cast<size_t>(i)]);
  // New writes after a point-in-time recovery are durable too.
  ASSERT_OK(db_->Put(WriteOptions(), "after", "1"));
  options_.wal_recovery_mode = WalRecoveryMode::kAbsoluteConsistency;
  Open();
  EXPECT_EQ(51u, Keys().size());
}

TEST_F(RecoveryTest, TornWalTailIsDroppedSilently) {
  WriteKeysAndClose(20);
  Truncate(Files(FileType::kLogFile)[0], 5);
  Open();
  EXPECT_EQ(19u, Keys().size());
}

TEST_F(RecoveryTest, TornTailBeforeAnEmptyNewerLogIsStillATornTail) {
  // A crash during recovery leaves the old log (torn) and a new, empty one.
  WriteKeysAndClose(20);
  auto logs = Files(FileType::kLogFile);
  ASSERT_EQ(1u, logs.size());
  Truncate(logs[0], 5);
  uint64_t number;
  FileType type;
  ASSERT_TRUE(ParseFileName(logs[0].substr(logs[0].rfind('/') + 1), &number, &type));
  ASSERT_OK(WriteStringToFile(Env::Default(), "", LogFileName(dbname(), number + 100), true));
  Open();
  EXPECT_EQ(19u, Keys().size());
}

TEST_F(RecoveryTest, TornTailInAnOlderNonEmptyLogIsCorruption) {
  WriteKeysAndClose(20);
  auto logs = Files(FileType::kLogFile);
  uint64_t number;
  FileType type;
  ASSERT_TRUE(ParseFileName(logs[0].substr(logs[0].rfind('/') + 1), &number, &type));
  std::string contents;
  ASSERT_OK(ReadFileToString(Env::Default(), logs[0], &contents));
  // A newer log holding valid records, and a torn older one.
  ASSERT_OK(WriteStringToFile(Env::Default(), contents, LogFileName(dbname(), number + 100), true));
  Truncate(logs[0], 5);
  Status s = TryOpen();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(RecoveryTest, RecoveryIsRepeatableAndKeepsSequenceNumbersIncreasing) {
  WriteKeysAndClose(10);
  Open();
  const uint64_t seq = db_->Stats()["sequence"];
  EXPECT_EQ(10u, seq);
  ASSERT_OK(db_->Put(WriteOptions(), Key(0), "new"));
  Open();
  Open();
  auto r = db_->Get(ReadOptions(), Key(0));
  ASSERT_OK(r);
  EXPECT_EQ("new", *r);
  EXPECT_EQ(11u, db_->Stats()["sequence"]);
}

TEST_F(RecoveryTest, CorruptSSTableBlockIsReportedByGetAndIteratorNamingTheFile) {
  Open();
  for (int i = 0; i < 200; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), std::string(100, 'v')));
  ASSERT_OK(db_->Flush());
  db_.reset();
  auto tables = Files(FileType::kTableFile);
  ASSERT_EQ(1u, tables.size());
  FlipByte(tables[0], 10);  // inside the first data block
  Open();
  const std::string base = tables[0].substr(tables[0].rfind('/') + 1);
  auto r = db_->Get(ReadOptions(), Key(0));
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(std::string::npos, r.status().ToString().find(base)) << r.status().ToString();
  auto it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption());
  EXPECT_NE(std::string::npos, it->status().ToString().find(base));
}

// A mapped table's data block is verified on its first read only (table.h);
// ReadOptions::verify_checksums re-verifies it. The byte is flipped in place
// while the DB is open, which the engine never does to its own files: this
// shows what each read mode checks, not a supported way to edit a table.
TEST_F(RecoveryTest, VerifyChecksumsReVerifiesAnAlreadyVerifiedMappedBlock) {
  Open();
  for (int i = 0; i < 200; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), std::string(100, 'v')));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(db_->Get(ReadOptions(), Key(0)));  // the first data block, now verified
  auto tables = Files(FileType::kTableFile);
  ASSERT_EQ(1u, tables.size());
  {
    std::fstream f(tables[0], std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open());
    f.seekg(30);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(30);
    f.write(&c, 1);
  }
  ReadOptions verify;
  verify.verify_checksums = true;
  auto r = db_->Get(verify, Key(0));
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(std::string::npos, r.status().ToString().find(".sst")) << r.status().ToString();
  auto it = db_->NewIterator(verify);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
  // Reopened, the first read of the block verifies it again and reports it.
  Open();
  EXPECT_TRUE(db_->Get(ReadOptions(), Key(0)).status().IsCorruption());
}

TEST_F(RecoveryTest, CorruptSSTableFooterIsReportedNamingTheFile) {
  Open();
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  ASSERT_OK(db_->Flush());
  db_.reset();
  auto tables = Files(FileType::kTableFile);
  auto size = Env::Default()->GetFileSize(tables[0]);
  ASSERT_OK(size);
  FlipByte(tables[0], *size - 3);  // the magic number
  Open();
  auto r = db_->Get(ReadOptions(), "a");
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(std::string::npos, r.status().ToString().find(".sst"));
}

TEST_F(RecoveryTest, MissingSSTableFailsOpenNamingTheFile) {
  Open();
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  ASSERT_OK(db_->Flush());
  db_.reset();
  auto tables = Files(FileType::kTableFile);
  ASSERT_OK(Env::Default()->RemoveFile(tables[0]));
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(tables[0].substr(tables[0].rfind('/') + 1)));
}

TEST_F(RecoveryTest, CorruptManifestFailsOpenNamingTheFile) {
  Open();
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(db_->Put(WriteOptions(), "b", "1"));
  ASSERT_OK(db_->Flush());
  db_.reset();
  auto manifests = Files(FileType::kDescriptorFile);
  ASSERT_EQ(1u, manifests.size());
  FlipByte(manifests[0], 10);  // inside the first (snapshot) record
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-"));
}

TEST_F(RecoveryTest, SyncedWritesSurviveSimulatedPowerLoss) {
  options_.write_buffer_size = 32 << 10;  // flushes and compactions happen
  Open(&fault_env_);
  Random rnd(testing::SeedForTest());
  std::vector<std::string> synced;
  for (int i = 0; i < 2000; ++i) {
    WriteOptions wo;
    wo.sync = rnd.OneIn(10);
    ASSERT_OK(db_->Put(wo, Key(i), std::string(100, 'v')));
    if (wo.sync) {
      // Everything up to and including a synced write is durable.
      for (int j = static_cast<int>(synced.size()); j <= i; ++j) synced.push_back(Key(j));
    }
  }
  db_.reset();
  ASSERT_OK(fault_env_.DropUnsyncedData());
  Open(&fault_env_);
  for (const auto& k : synced) {
    auto r = db_->Get(ReadOptions(), k);
    ASSERT_OK(r) << k;
  }
}

TEST_F(RecoveryTest, FailedSyncMakesWritesFailUntilReopen) {
  Open(&fault_env_);
  WriteOptions sync;
  sync.sync = true;
  ASSERT_OK(db_->Put(sync, "a", "1"));
  fault_env_.SetFailSyncs(true);
  EXPECT_TRUE(db_->Put(sync, "b", "2").IsIOError());
  fault_env_.SetFailSyncs(false);
  // Sticky: the WAL state is unknown, so even non-sync writes fail now.
  EXPECT_FALSE(db_->Put(WriteOptions(), "c", "3").ok());
  EXPECT_EQ(1u, db_->Stats()["background-errors"]);
  Open(&fault_env_);
  auto r = db_->Get(ReadOptions(), "a");
  ASSERT_OK(r);
  ASSERT_OK(db_->Put(sync, "d", "4"));
}

TEST_F(RecoveryTest, FailedWalSwitchIsNotStickyAndLosesNothing) {
  Open(&fault_env_);
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  fault_env_.SetFailWrites(true);  // creating the next WAL fails
  EXPECT_TRUE(db_->Flush().IsIOError());
  fault_env_.SetFailWrites(false);
  ASSERT_OK(db_->Put(WriteOptions(), "b", "2"));
  ASSERT_OK(db_->Flush());
  Open(&fault_env_);
  EXPECT_EQ(2u, Keys().size());
}

TEST_F(RecoveryTest, FailedFlushIsStickyAndDoesNotLoseData) {
  Open(&fault_env_);
  for (int i = 0; i < 100; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), "v"));
  fault_env_.SetFailWritesToSuffix(".sst");
  EXPECT_TRUE(db_->Flush().IsIOError());
  fault_env_.SetFailWritesToSuffix("");
  // The background error is sticky: writes fail until the DB is reopened.
  EXPECT_TRUE(db_->Put(WriteOptions(), "x", "y").IsIOError());
  EXPECT_EQ(1u, db_->Stats()["background-errors"]);
  Open(&fault_env_);
  EXPECT_EQ(100u, Keys().size());
}

// The reported bug: a flipped bit in the MANIFEST's last record (the flush's
// edit: the table and the new log number) was taken for a torn tail; Open
// then fell back to the state before the flush, whose log was deleted, and
// opened an empty database.
TEST_F(RecoveryTest, ManifestEveryBitFlipIsCorruptionOrTheFullDatabase) {
  for (bool keep_old_log : {false, true}) {
    const DirImage image = FlushedDatabase(keep_old_log);
    const std::string manifest = NameOf(image, FileType::kDescriptorFile);
    const std::string& bytes = image.at(manifest);
    ASSERT_LT(bytes.size(), 256u) << "the test is meant for a small MANIFEST";
    ASSERT_EQ(3u, RecordSpans(bytes).size());
    // Every byte of a log record is covered by its checksum: no flip goes
    // unnoticed, so none opens.
    EXPECT_EQ(0, FlipEveryBit(image, manifest, Expected(50),
                              "keep_old_log " + std::to_string(keep_old_log)));
  }
}

// A cut MANIFEST falls back to the state before its torn record only when
// that state is complete: with the flushed-away log gone it is not.
TEST_F(RecoveryTest, ManifestCutAtEveryOffsetOpensOnlyAStateThatIsComplete) {
  for (bool keep_old_log : {false, true}) {
    const DirImage image = FlushedDatabase(keep_old_log);
    const std::string manifest = NameOf(image, FileType::kDescriptorFile);
    const std::string& bytes = image.at(manifest);
    const auto spans = RecordSpans(bytes);
    ASSERT_EQ(3u, spans.size());
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      DirImage damaged = image;
      damaged[manifest] = bytes.substr(0, cut);
      Restore(damaged);
      KeyValues got;
      Status s = OpenAndRead(&got);
      const std::string where = "cut at " + std::to_string(cut) + " of " +
                                std::to_string(bytes.size()) + " keep_old_log " +
                                std::to_string(keep_old_log);
      if (cut == bytes.size() || (keep_old_log && cut >= spans[2].begin)) {
        // The whole file; or the flush's edit cut (the state before it: the
        // old log, still there, holds every key).
        ASSERT_OK(s) << where;
        ASSERT_EQ(Expected(50), got) << where;
        if (cut > spans[2].begin && cut < bytes.size()) {
          EXPECT_EQ(1u, db_->Stats()["recovery-torn-tails"]) << where;
        }
      } else {
        // Without the old log the state before the flush has lost its keys;
        // before the open's edit (log number) the state has no log at all.
        ASSERT_TRUE(s.IsCorruption()) << where << ": " << s.ToString();
      }
    }
  }
}

TEST_F(RecoveryTest, WalEveryBitFlipIsCorruptionOrTheFullDatabase) {
  const DirImage image = SmallWalDatabase();
  const std::string wal = NameOf(image, FileType::kLogFile);
  ASSERT_EQ(8u, RecordSpans(image.at(wal)).size());
  EXPECT_EQ(0, FlipEveryBit(image, wal, Expected(8), "WAL"));
}

// kPointInTime opts into keeping the records before a corrupt one: the
// outcome is then exactly a prefix of the writes, and Stats says so.
TEST_F(RecoveryTest, WalBitFlipUnderPointInTimeKeepsAnExactPrefixAndReportsIt) {
  const DirImage image = SmallWalDatabase();
  const std::string wal = NameOf(image, FileType::kLogFile);
  const std::string& bytes = image.at(wal);
  const auto spans = RecordSpans(bytes);
  options_.wal_recovery_mode = WalRecoveryMode::kPointInTime;
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    const int bit = static_cast<int>(pos % 8);
    DirImage damaged = image;
    damaged[wal][pos] = static_cast<char>(bytes[pos] ^ (1 << bit));
    Restore(damaged);
    KeyValues got;
    ASSERT_OK(OpenAndRead(&got)) << "byte " << pos;
    size_t record = 0;
    while (spans[record].end <= pos) ++record;
    ASSERT_EQ(Expected(static_cast<int>(record)), got) << "byte " << pos;
    EXPECT_EQ(1u, db_->Stats()["recovery-point-in-time-stops"]) << "byte " << pos;
  }
}

TEST_F(RecoveryTest, WalCutAtEveryOffsetKeepsEveryCompleteRecord) {
  const DirImage image = SmallWalDatabase();
  const std::string wal = NameOf(image, FileType::kLogFile);
  const std::string& bytes = image.at(wal);
  const auto spans = RecordSpans(bytes);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    DirImage damaged = image;
    damaged[wal] = bytes.substr(0, cut);
    Restore(damaged);
    KeyValues got;
    ASSERT_OK(OpenAndRead(&got)) << "cut at " << cut;
    size_t complete = 0;
    while (complete < spans.size() && spans[complete].end <= cut) ++complete;
    ASSERT_EQ(Expected(static_cast<int>(complete)), got) << "cut at " << cut;
    const bool torn = cut != 0 && (complete == 0 || spans[complete - 1].end != cut);
    EXPECT_EQ(torn ? 1u : 0u, db_->Stats()["recovery-torn-tails"]) << "cut at " << cut;
  }
}

TEST_F(RecoveryTest, MissingOldestLiveLogIsCorruption) {
  WriteKeysAndClose(20);  // the keys are only in the log the MANIFEST names
  auto logs = Files(FileType::kLogFile);
  ASSERT_EQ(1u, logs.size());
  ASSERT_OK(Env::Default()->RemoveFile(logs[0]));
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(logs[0].substr(logs[0].rfind('/') + 1)))
      << s.ToString();
}

TEST_F(RecoveryTest, GapInSequenceNumbersBetweenLogsIsCorruption) {
  WriteKeysAndClose(10);  // sequences 1..10
  auto logs = Files(FileType::kLogFile);
  ASSERT_EQ(1u, logs.size());
  uint64_t number;
  FileType type;
  ASSERT_TRUE(ParseFileName(logs[0].substr(logs[0].rfind('/') + 1), &number, &type));
  // A newer log, as a memtable switch makes, continuing at `first`.
  auto write_newer_log = [&](uint64_t first) {
    auto file = Env::Default()->NewWritableFile(LogFileName(dbname(), number + 100));
    ASSERT_OK(file);
    wal::Writer writer(file->get());
    for (int i = 0; i < 10; ++i) {
      WriteBatch b;
      b.Put(Key(10 + i), "v");
      WriteBatchInternal::SetSequence(&b, first + static_cast<uint64_t>(i));
      ASSERT_OK(writer.AddRecord(WriteBatchInternal::Contents(b)));
    }
    ASSERT_OK((*file)->Close());
  };
  const DirImage image = Image();
  write_newer_log(11);
  Open();
  EXPECT_EQ(20u, Keys().size());
  // The same, but as if a log holding sequences 11..20 had been lost.
  Restore(image);
  write_newer_log(21);
  Status s = TryOpen();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("sequence 21 where 11 was due")) << s.ToString();
}

// A full disk is ResourceExhausted (not a generic IOError), sticky like any
// WAL error; the half-written record is a torn tail, so after space is
// freed the database opens with every acknowledged write.
TEST_F(RecoveryTest, DiskFullDuringAWalAppendLosesNothingAcknowledged) {
  Open(&fault_env_);
  WriteOptions sync;
  sync.sync = true;
  for (int i = 0; i < 20; ++i) ASSERT_OK(db_->Put(sync, Key(i), Value(i)));
  fault_env_.SetDiskFullAfterBytes(50);
  Status s = db_->Put(sync, "big", std::string(500, 'b'));
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("No space left on device"));
  EXPECT_FALSE(db_->Put(WriteOptions(), "after", "x").ok());
  db_.reset();
  fault_env_.SetDiskFull(false);
  Open(&fault_env_);
  EXPECT_EQ(Expected(20), [&] {
    KeyValues kv;
    auto it = db_->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next()) kv[it->key().ToString()] = it->value().ToString();
    return kv;
  }());
  EXPECT_EQ(1u, db_->Stats()["recovery-torn-tails"]);
}

// A power cut that tears unsynced data (a random prefix, or zeros, of each
// file's unsynced tail; never-synced directory entries may vanish) after
// memtables switched, flushed and compacted. A tear is not corruption: Open
// keeps every synced write, and what it returns is a prefix of the writes.
// One case refuses: the cut came between a WAL switch and the background
// sync of the older log, and that log lost its tail while the newer one
// kept records -- none of them synced (a sync write waits for the older
// log's sync). Then Open is Corruption, and kPointInTime recovers as above.
TEST_F(RecoveryTest, TornPowerCutKeepsEverySyncedWriteAndAPrefixOfTheRest) {
  options_.write_buffer_size = 16 << 10;  // switches, flushes, compactions
  const uint64_t seed = testing::SeedForTest();
  int older_log_torn = 0;
  for (int round = 0; round < 12; ++round) {
    Random rnd(seed + static_cast<uint64_t>(round));
    db_.reset();
    ASSERT_OK(fault_env_.RemoveDirRecursively(dbname()));
    options_.wal_recovery_mode = WalRecoveryMode::kAbsoluteConsistency;
    Open(&fault_env_);
    int synced = 0;
    const int n = 600;
    for (int i = 0; i < n; ++i) {
      WriteOptions wo;
      wo.sync = rnd.OneIn(20);
      ASSERT_OK(db_->Put(wo, Key(i), Value(i) + std::string(rnd.Uniform(200), 'p')));
      if (wo.sync) synced = i + 1;
    }
    db_.reset();  // DropUnsyncedData needs the files idle; nothing was synced on close
    ASSERT_OK(fault_env_.DropUnsyncedData(&rnd));
    KeyValues got;
    Status s = OpenAndRead(&got);
    const std::string where = "round " + std::to_string(round) +
                              " (TINYKV_SEED=" + std::to_string(seed) + ")";
    if (s.IsCorruption()) {
      ASSERT_NE(std::string::npos, s.ToString().find("not the newest")) << where << ": " << s.ToString();
      ++older_log_torn;
      options_.wal_recovery_mode = WalRecoveryMode::kPointInTime;
      s = OpenAndRead(&got);
    }
    ASSERT_OK(s) << where;
    ASSERT_GE(got.size(), static_cast<size_t>(synced)) << where;
    size_t i = 0;
    for (const auto& [k, v] : got) {
      ASSERT_EQ(Key(static_cast<int>(i)), k) << "a hole in the recovered writes, " << where;
      ASSERT_EQ(Value(static_cast<int>(i)), v.substr(0, Value(static_cast<int>(i)).size())) << where;
      ++i;
    }
  }
  std::printf("older log torn (Corruption, then point-in-time) in %d of 12 rounds\n",
              older_log_torn);
}

}  // namespace
}  // namespace tinykv::storage
