// Recovery and durability: WAL corruption in both recovery modes, torn
// tails, damaged SSTables and MANIFESTs, missing files, simulated power
// loss and injected I/O errors (docs/style.md, "Tests").
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "db_impl.h"
#include "env.h"
#include "fault_injection_env.h"
#include "filename.h"
#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() { options_.create_if_missing = true; }
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

  testing::TempDir dir_;
  Options options_;
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
  FaultInjectionEnv env(Env::Default());
  options_.write_buffer_size = 32 << 10;  // flushes and compactions happen
  Open(&env);
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
  ASSERT_OK(env.DropUnsyncedData());
  Open(&env);
  for (const auto& k : synced) {
    auto r = db_->Get(ReadOptions(), k);
    ASSERT_OK(r) << k;
  }
}

TEST_F(RecoveryTest, FailedSyncMakesWritesFailUntilReopen) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  WriteOptions sync;
  sync.sync = true;
  ASSERT_OK(db_->Put(sync, "a", "1"));
  env.SetFailSyncs(true);
  EXPECT_TRUE(db_->Put(sync, "b", "2").IsIOError());
  env.SetFailSyncs(false);
  // Sticky: the WAL state is unknown, so even non-sync writes fail now.
  EXPECT_FALSE(db_->Put(WriteOptions(), "c", "3").ok());
  EXPECT_EQ(1u, db_->Stats()["background-errors"]);
  Open(&env);
  auto r = db_->Get(ReadOptions(), "a");
  ASSERT_OK(r);
  ASSERT_OK(db_->Put(sync, "d", "4"));
}

TEST_F(RecoveryTest, FailedWalSwitchIsNotStickyAndLosesNothing) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  ASSERT_OK(db_->Put(WriteOptions(), "a", "1"));
  env.SetFailWrites(true);  // creating the next WAL fails
  EXPECT_TRUE(db_->Flush().IsIOError());
  env.SetFailWrites(false);
  ASSERT_OK(db_->Put(WriteOptions(), "b", "2"));
  ASSERT_OK(db_->Flush());
  Open(&env);
  EXPECT_EQ(2u, Keys().size());
}

TEST_F(RecoveryTest, FailedFlushIsStickyAndDoesNotLoseData) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  for (int i = 0; i < 100; ++i) ASSERT_OK(db_->Put(WriteOptions(), Key(i), "v"));
  env.SetFailWritesToSuffix(".sst");
  EXPECT_TRUE(db_->Flush().IsIOError());
  env.SetFailWritesToSuffix("");
  // The background error is sticky: writes fail until the DB is reopened.
  EXPECT_TRUE(db_->Put(WriteOptions(), "x", "y").IsIOError());
  EXPECT_EQ(1u, db_->Stats()["background-errors"]);
  Open(&env);
  EXPECT_EQ(100u, Keys().size());
}

}  // namespace
}  // namespace tinykv::storage
