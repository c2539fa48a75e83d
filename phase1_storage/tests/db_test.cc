// DB behaviour through the public API (db.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::storage {
namespace {

using testing::TempDir;

class DBTest : public ::testing::Test {
 protected:
  DBTest() {
    options_.create_if_missing = true;
    Reopen();
  }
  void Reopen() {
    db_.reset();
    auto r = DB::Open(options_, dir_.path() / "db");
    ASSERT_OK(r);
    db_ = std::move(r).value();
  }
  std::string Get(const std::string& k, const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    auto r = db_->Get(ro, k);
    if (r.status().IsNotFound()) return "NOT_FOUND";
    if (!r.ok()) return "ERROR: " + r.status().ToString();
    return *r;
  }
  Status Put(const std::string& k, const std::string& v) { return db_->Put(WriteOptions(), k, v); }
  Status Del(const std::string& k) { return db_->Delete(WriteOptions(), k); }
  std::string Contents(const Snapshot* snap = nullptr) {
    ReadOptions ro;
    ro.snapshot = snap;
    auto it = db_->NewIterator(ro);
    std::string r;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      r += it->key().ToString() + "=" + it->value().ToString() + ",";
    }
    EXPECT_OK(it->status());
    return r;
  }
  std::string ContentsReverse() {
    auto it = db_->NewIterator(ReadOptions());
    std::string r;
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      r += it->key().ToString() + "=" + it->value().ToString() + ",";
    }
    EXPECT_OK(it->status());
    return r;
  }
  uint64_t Stat(const std::string& name) { return db_->Stats()[name]; }

  TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBTest, EmptyDatabaseReturnsNotFound) {
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  EXPECT_EQ("", Contents());
}

TEST_F(DBTest, PutGetDeleteOverwrite) {
  ASSERT_OK(Put("foo", "v1"));
  EXPECT_EQ("v1", Get("foo"));
  ASSERT_OK(Put("foo", "v2"));
  EXPECT_EQ("v2", Get("foo"));
  ASSERT_OK(Del("foo"));
  EXPECT_EQ("NOT_FOUND", Get("foo"));
  ASSERT_OK(Put("", "empty-key"));
  EXPECT_EQ("empty-key", Get(""));
}

TEST_F(DBTest, WriteBatchIsAppliedAtomically) {
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("a");
  b.Put("c", "3");
  ASSERT_OK(db_->Write(WriteOptions(), b));
  EXPECT_EQ("b=2,c=3,", Contents());
  EXPECT_EQ(4u, Stat("sequence"));
}

TEST_F(DBTest, GetFindsDataInMemtableTablesAndAfterReopen) {
  ASSERT_OK(Put("a", "va"));
  ASSERT_OK(db_->Flush());
  EXPECT_EQ(1u, Stat("flushes"));
  ASSERT_OK(Put("b", "vb"));
  EXPECT_EQ("va", Get("a"));
  EXPECT_EQ("vb", Get("b"));
  Reopen();
  EXPECT_EQ("va", Get("a"));
  EXPECT_EQ("vb", Get("b"));
  ASSERT_OK(Del("a"));
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("a"));
  EXPECT_EQ("b=vb,", Contents());
}

TEST_F(DBTest, IteratorSeekNextPrevAcrossMemtableAndTables) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("c", "3"));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(Put("b", "2"));
  ASSERT_OK(Put("c", "33"));
  ASSERT_OK(Put("e", "5"));
  ASSERT_OK(Del("a"));
  EXPECT_EQ("b=2,c=33,e=5,", Contents());
  EXPECT_EQ("e=5,c=33,b=2,", ContentsReverse());
  auto it = db_->NewIterator(ReadOptions());
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key().ToString());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("b", it->key().ToString());
  it->Next();
  EXPECT_EQ("c", it->key().ToString());
  it->Next();
  EXPECT_EQ("e", it->key().ToString());
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->Seek("d");
  EXPECT_EQ("e", it->key().ToString());
  it->Seek("f");
  EXPECT_FALSE(it->Valid());
  it->Seek("");
  EXPECT_EQ("b", it->key().ToString());
  it->Prev();
  EXPECT_FALSE(it->Valid());
}

TEST_F(DBTest, IteratorIsASnapshotAndDoesNotBlockWriters) {
  ASSERT_OK(Put("a", "1"));
  auto it = db_->NewIterator(ReadOptions());
  ASSERT_OK(Put("b", "2"));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(Put("a", "changed"));
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("a", it->key().ToString());
  EXPECT_EQ("1", it->value().ToString());
  it->Next();
  EXPECT_FALSE(it->Valid());
}

TEST_F(DBTest, SnapshotsSeeOldVersionsAcrossFlushAndCompaction) {
  ASSERT_OK(Put("k", "v1"));
  const Snapshot* s1 = db_->GetSnapshot();
  ASSERT_OK(Put("k", "v2"));
  ASSERT_OK(Del("x"));
  const Snapshot* s2 = db_->GetSnapshot();
  ASSERT_OK(Del("k"));
  EXPECT_EQ("v1", Get("k", s1));
  EXPECT_EQ("v2", Get("k", s2));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  EXPECT_EQ("v1", Get("k", s1));
  EXPECT_EQ("v2", Get("k", s2));
  EXPECT_EQ("k=v1,", Contents(s1));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  db_->ReleaseSnapshot(s1);
  db_->ReleaseSnapshot(s2);
}

TEST_F(DBTest, CompactRangeDropsTombstonesAndOverwrittenData) {
  for (int i = 0; i < 1000; ++i) ASSERT_OK(Put("key" + std::to_string(i), std::string(100, 'x')));
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  const uint64_t full = Stat("live-sst-bytes");
  for (int i = 0; i < 1000; ++i) ASSERT_OK(Del("key" + std::to_string(i)));
  ASSERT_OK(db_->Flush());
  EXPECT_GT(Stat("live-sst-bytes"), full);  // tombstones are on disk
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  EXPECT_EQ(0u, Stat("live-sst-bytes"));  // and gone after compaction
  EXPECT_EQ("", Contents());
}

TEST_F(DBTest, ObsoleteTablesAreDeletedOnceNoVersionUsesThem) {
  auto count_sst = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "db")) {
      if (e.path().extension() == ".sst") ++n;
    }
    return n;
  };
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) ASSERT_OK(Put("key" + std::to_string(i), std::to_string(round)));
    ASSERT_OK(db_->Flush());
  }
  // An iterator pins its version: its files survive a compaction...
  auto it = db_->NewIterator(ReadOptions());
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  EXPECT_EQ(1u, Stat("live-sst-files"));
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("2", it->value().ToString());
  it.reset();
  // ... and are deleted by the next cleanup once it is gone.
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  EXPECT_EQ(static_cast<int>(Stat("live-sst-files")), count_sst());
}

TEST_F(DBTest, CompactionKeepsTombstoneNeededBySnapshot) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  ASSERT_OK(Del("a"));
  const Snapshot* snap = db_->GetSnapshot();
  ASSERT_OK(Put("b", "2"));
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  EXPECT_EQ("NOT_FOUND", Get("a"));
  EXPECT_EQ("NOT_FOUND", Get("a", snap));
  EXPECT_EQ("b=2,", Contents());
  db_->ReleaseSnapshot(snap);
}

TEST_F(DBTest, CheckpointOpensWithTheData) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(Put("b", "2"));  // only in the WAL
  const auto cp = dir_.path() / "checkpoint";
  ASSERT_OK(db_->Checkpoint(cp));
  ASSERT_OK(Put("c", "3"));  // after the checkpoint
  EXPECT_TRUE(db_->Checkpoint(cp).IsAlreadyExists());
  Options o;
  auto r = DB::Open(o, cp);
  ASSERT_OK(r);
  auto it = (*r)->NewIterator(ReadOptions());
  std::string got;
  for (it->SeekToFirst(); it->Valid(); it->Next()) got += it->key().ToString() + ",";
  EXPECT_EQ("a,b,", got);
}

// A checkpoint taken while a writer runs holds a prefix of its writes: every
// key up to some point and none after (the copied WAL may end in a torn
// record, which recovery drops).
TEST_F(DBTest, CheckpointDuringWritesHoldsAPrefixOfThem) {
  options_.write_buffer_size = 64 << 10;  // flushes happen during the run
  Reopen();
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load() && i < 200000; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%08d", i);
      ASSERT_OK(db_->Put(WriteOptions(), key, std::string(50, 'v')));
      written.store(i + 1);
    }
  });
  while (written.load() < 2000) std::this_thread::yield();
  const auto cp = dir_.path() / "cp";
  ASSERT_OK(db_->Checkpoint(cp));
  const int at_checkpoint = written.load();
  stop.store(true);
  writer.join();
  auto r = DB::Open(Options(), cp);
  ASSERT_OK(r);
  auto it = (*r)->NewIterator(ReadOptions());
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%08d", n);
    ASSERT_EQ(std::string(key), it->key().ToString()) << "hole in the checkpoint";
  }
  ASSERT_OK(it->status());
  EXPECT_GE(n, 2000);
  EXPECT_LE(n, at_checkpoint + 1);
}

TEST_F(DBTest, OpenFailsWithoutCreateIfMissingAndWithErrorIfExists) {
  Options o;
  EXPECT_TRUE(DB::Open(o, dir_.path() / "nope").status().IsInvalidArgument());
  db_.reset();
  o.error_if_exists = true;
  EXPECT_TRUE(DB::Open(o, dir_.path() / "db").status().IsInvalidArgument());
}

TEST_F(DBTest, SecondOpenOfSameDirectoryIsRefused) {
  auto r = DB::Open(options_, dir_.path() / "db");
  EXPECT_FALSE(r.ok());
}

TEST_F(DBTest, ManyWritesFlushAndCompactInTheBackground) {
  options_.write_buffer_size = 64 << 10;
  options_.target_file_size = 64 << 10;
  options_.max_bytes_for_level_base = 256 << 10;
  Reopen();
  std::map<std::string, std::string> model;
  Random rnd(testing::SeedForTest());
  for (int i = 0; i < 20000; ++i) {
    const std::string k = "k" + std::to_string(rnd.Uniform(5000));
    const std::string v = std::to_string(i) + std::string(rnd.Uniform(100), 'v');
    ASSERT_OK(Put(k, v));
    model[k] = v;
  }
  ASSERT_OK(db_->WaitForBackgroundWork());
  EXPECT_GT(Stat("flushes"), 5u);
  EXPECT_GT(Stat("compactions") + Stat("trivial-moves"), 0u);
  for (const auto& [k, v] : model) ASSERT_EQ(v, Get(k));
  Reopen();
  auto it = db_->NewIterator(ReadOptions());
  auto m = model.begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(m->first, it->key().ToString());
    ASSERT_EQ(m->second, it->value().ToString());
  }
  EXPECT_EQ(m, model.end());
}

// Seek compaction (version_set.h): lookups that read an upper file in vain
// before finding the key below charge that file; when its budget (at least
// 100) runs out it is compacted down, though no size trigger fired.
TEST_F(DBTest, WastedLookupsCompactAnUpperFileDown) {
  options_.bloom_bits_per_key = 0;  // no filter: every probe reads a block
  Reopen();
  auto key = [](int i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "k%04d", i);
    return std::string(buf);
  };
  for (int i = 0; i < 1000; ++i) ASSERT_OK(Put(key(i), "old" + std::to_string(i)));
  ASSERT_OK(db_->CompactRange(std::nullopt, std::nullopt));
  for (int i = 0; i < 1000; i += 10) ASSERT_OK(Put(key(i), "new" + std::to_string(i)));
  ASSERT_OK(db_->Flush());
  ASSERT_OK(db_->WaitForBackgroundWork());
  // The overwrites form one small file above the old data.
  auto levels = [&] {
    std::vector<uint64_t> files;
    for (int level = 0; level < options_.num_levels; ++level) {
      files.push_back(Stat("num-files-at-level" + std::to_string(level)));
    }
    return files;
  };
  const std::vector<uint64_t> before = levels();
  int upper = 0;
  while (upper < options_.num_levels && before[upper] == 0) ++upper;
  ASSERT_LT(upper, options_.num_levels);
  ASSERT_EQ(1u, before[upper]) << db_->StatsString();
  ASSERT_EQ(0u, Stat("seek-compactions"));
  // Keys that only the lower level holds, but inside the upper file's range.
  for (int round = 0; round < 3; ++round) {
    for (int i = 1; i < 990; i += 10) ASSERT_EQ("old" + std::to_string(i), Get(key(i)));
  }
  ASSERT_OK(db_->WaitForBackgroundWork());
  EXPECT_EQ(1u, Stat("seek-compactions"));
  const std::vector<uint64_t> after = levels();
  EXPECT_EQ(0u, after[upper]) << db_->StatsString();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ((i % 10 == 0 ? "new" : "old") + std::to_string(i), Get(key(i)));
  }
}

// Readers charge seeks (no bloom filter, so every probe of an upper file
// reads a block) while a writer forces flushes and compactions, so seek
// budgets run out while versions change under them. Every read must still
// see its key's only value. (Run under ThreadSanitizer as well.)
TEST_F(DBTest, ReadersChargingSeeksDuringCompactionsReadCorrectly) {
  options_.bloom_bits_per_key = 0;
  options_.write_buffer_size = 32 << 10;
  options_.target_file_size = 32 << 10;
  options_.max_bytes_for_level_base = 128 << 10;
  Reopen();
  auto stable = [](int i) { return "s" + std::to_string(i); };
  for (int i = 0; i < 2000; ++i) ASSERT_OK(Put(stable(i), "v" + std::to_string(i)));
  ASSERT_OK(db_->Flush());
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      Random rnd(testing::SeedForTest() + t);
      while (!stop.load()) {
        const int i = static_cast<int>(rnd.Uniform(2000));
        auto r = db_->Get(ReadOptions(), stable(i));
        if (!r.ok() || *r != "v" + std::to_string(i)) errors.fetch_add(1);
      }
    });
  }
  Random rnd(testing::SeedForTest());
  for (int i = 0; i < 6000; ++i) {
    // Keys interleave with the stable ones, so new files overlap them.
    ASSERT_OK(Put("s" + std::to_string(rnd.Uniform(2000)) + "x", std::string(100, 'w')));
  }
  stop.store(true);
  for (auto& th : readers) th.join();
  ASSERT_OK(db_->WaitForBackgroundWork());
  EXPECT_EQ(0, errors.load());
  EXPECT_GT(Stat("compactions") + Stat("trivial-moves"), 0u);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ("v" + std::to_string(i), Get(stable(i)));
}

TEST_F(DBTest, ConcurrentWritersAreGroupCommittedAndAllVisible) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      WriteOptions wo;
      wo.sync = (t == 0);  // mix sync and non-sync writers
      for (int i = 0; i < kPerThread; ++i) {
        if (wo.sync && i % 50 != 0) continue;
        ASSERT_OK(db_->Put(wo, std::to_string(t) + "-" + std::to_string(i), "v"));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ("v", Get(std::to_string(t) + "-" + std::to_string(i)));
  }
  EXPECT_LE(Stat("write-groups"), Stat("writes"));
}

TEST_F(DBTest, WriteStallDoesNotDeadlock) {
  options_.write_buffer_size = 16 << 10;
  options_.level0_compaction_trigger = 2;
  options_.level0_slowdown_writes_trigger = 3;
  options_.level0_stop_writes_trigger = 4;
  Reopen();
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3000; ++i) {
        ASSERT_OK(db_->Put(WriteOptions(), std::to_string(t) + "/" + std::to_string(i),
                           std::string(64, 'x')));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_OK(db_->WaitForBackgroundWork());
  EXPECT_EQ(std::string(64, 'x'), Get("2/2999"));
}

TEST_F(DBTest, StatsStringMentionsLevels) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(db_->Flush());
  const std::string s = db_->StatsString();
  EXPECT_NE(std::string::npos, s.find("Level"));
  EXPECT_EQ(1u, Stat("live-sst-files"));
}

TEST_F(DBTest, DestroyDBRemovesEverything) {
  ASSERT_OK(Put("a", "1"));
  db_.reset();
  ASSERT_OK(DestroyDB(dir_.path() / "db"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "db"));
}

}  // namespace
}  // namespace tinykv::storage
