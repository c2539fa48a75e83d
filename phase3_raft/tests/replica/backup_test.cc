// Backup files (backup.h): the decoder refuses every damaged input with
// Corruption (every truncation, every single-bit flip, and well-sealed files
// whose structure is wrong); a real checkpoint round-trips, summarizes and
// restores into a data dir a KvStateMachine and DiskStorage open at index + 1
// with the new membership.
#include "tinykv/replica/backup.h"

#include <gtest/gtest.h>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/kv_state_machine.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

namespace fs = std::filesystem;

Backup Sample() {
  Backup b;
  b.index = 42;
  b.term = 3;
  b.cluster_id = 0xabcdef;
  b.member_id = 2;
  b.files = {{"CURRENT", "MANIFEST-1\n"}, {"MANIFEST-1", std::string(100, 'm')}, {"empty", ""}};
  return b;
}

// Re-seals `body` (everything but the checksum) with a correct checksum, so
// only the structure checks can refuse it.
std::string Seal(std::string body) {
  PutFixed32(&body, crc32c::Mask(crc32c::Value(body.data(), body.size())));
  return body;
}

std::string Unsealed(const Backup& b) {
  std::string s = EncodeBackup(b);
  s.resize(s.size() - 4);
  return s;
}

TEST(BackupFormatTest, RoundTrips) {
  const Backup b = Sample();
  Result<Backup> d = DecodeBackup(Slice(EncodeBackup(b)));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->index, 42u);
  EXPECT_EQ(d->term, 3u);
  EXPECT_EQ(d->cluster_id, 0xabcdefu);
  EXPECT_EQ(d->member_id, 2u);
  ASSERT_EQ(d->files.size(), 3u);
  EXPECT_EQ(d->files[1].name, "MANIFEST-1");
  EXPECT_EQ(d->files[1].data, std::string(100, 'm'));
  EXPECT_EQ(d->files[2].data, "");
}

TEST(BackupFormatTest, EveryTruncationIsCorruption) {
  const std::string s = EncodeBackup(Sample());
  for (size_t n = 0; n < s.size(); ++n) {
    Result<Backup> d = DecodeBackup(Slice(s.data(), n));
    ASSERT_TRUE(d.status().IsCorruption()) << "length " << n << ": " << d.status().ToString();
  }
  // And trailing garbage after a whole file.
  EXPECT_TRUE(DecodeBackup(Slice(s + "x")).status().IsCorruption());
}

TEST(BackupFormatTest, EverySingleBitFlipIsCorruption) {
  const std::string s = EncodeBackup(Sample());
  for (size_t i = 0; i < s.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = s;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      ASSERT_TRUE(DecodeBackup(Slice(bad)).status().IsCorruption()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(BackupFormatTest, WellSealedButMalformedIsCorruption) {
  auto refused = [](const std::string& body, const char* what) {
    Result<Backup> d = DecodeBackup(Slice(Seal(body)));
    EXPECT_TRUE(d.status().IsCorruption()) << what;
    EXPECT_NE(d.status().ToString().find("not a valid tinykv snapshot file"), std::string::npos)
        << what << ": " << d.status().ToString();
  };
  std::string v = Unsealed(Sample());
  v[8] = 2;  // version
  refused(v, "version 2");
  Backup b = Sample();
  b.files[0].name = "../escape";
  refused(Unsealed(b), "a path outside the directory");
  b = Sample();
  b.files[0].name = "";
  refused(Unsealed(b), "an empty name");
  b = Sample();
  b.files[1].name = b.files[0].name;
  refused(Unsealed(b), "a name twice");
  b = Sample();
  b.files.clear();
  refused(Unsealed(b), "no files");
  b = Sample();
  b.index = 0;
  refused(Unsealed(b), "index 0");
  // A file size beyond the end (no huge allocation: checked against what is there).
  std::string big = Unsealed(Sample());
  const size_t size_at = 8 + 4 + 32 + 4 + 4 + std::string("CURRENT").size();
  EncodeFixed64(&big[size_at], ~0ull);
  refused(big, "a huge size");
  // A huge file count with nothing behind it.
  std::string count = Unsealed(Sample());
  EncodeFixed32(&count[8 + 4 + 32], 0xffffffffu);
  refused(count, "a huge count");
  refused(Unsealed(Sample()) + "junk", "bytes after the last file");
}

KvCommand Put(std::string k, std::string v) {
  KvCommand c;
  c.op = KvCommand::Op::kPut;
  c.key = std::move(k);
  c.value = std::move(v);
  return c;
}

TEST(BackupRestoreTest, ACheckpointSummarizesAndRestoresAsANewMember) {
  ::tinykv::testing::TempDir dir;
  Env* env = Env::Default();
  Backup b;
  uint64_t hash = 0;
  {
    auto sm = KvStateMachine::Open(dir.path() / "src", env);
    ASSERT_TRUE(sm.ok()) << sm.status().ToString();
    Membership old;
    old.conf.voters = {1, 2, 3};
    old.book[1].peer = "127.0.0.1:1";
    ASSERT_TRUE((*sm)->ApplyConfChange(1, 1, old).ok());
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE((*sm)->ApplyCommand(2 + i, 2, Put("k" + std::to_string(i), "v")).ok());
    ASSERT_TRUE((*sm)->Checkpoint(dir.path() / "cp").ok());
    b.index = (*sm)->applied_index();
    b.term = (*sm)->applied_term();
    b.cluster_id = 7;
    b.member_id = 1;
    auto h = (*sm)->Hash();
    ASSERT_TRUE(h.ok());
    hash = *h;
  }
  ASSERT_TRUE(ReadCheckpointFiles(env, dir.path() / "cp", &b).ok());
  const std::string file = EncodeBackup(b);
  ASSERT_TRUE(WriteBackupFile(env, dir.path() / "b.snap", Slice(file)).ok());
  Result<Backup> read = ReadBackupFile(env, dir.path() / "b.snap");
  ASSERT_TRUE(read.ok()) << read.status().ToString();

  Result<BackupSummary> sum = SummarizeBackup(env, *read, dir.path());
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->keys, 20u);
  EXPECT_EQ(sum->index, 21u);
  EXPECT_EQ(sum->hash, hash) << "the summary's hash is the state hash";

  RestoreOptions ro;
  ro.data_dir = dir.path() / "new";
  ro.member_id = 5;
  ro.members = {{5, "127.0.0.1:7005"}, {6, "127.0.0.1:7006"}};
  ro.cluster_token = "t";
  // Refused: the member is not in the new cluster.
  RestoreOptions wrong = ro;
  wrong.member_id = 1;
  EXPECT_TRUE(RestoreBackup(env, *read, wrong).IsInvalidArgument());
  EXPECT_FALSE(fs::exists(ro.data_dir));
  ASSERT_TRUE(RestoreBackup(env, *read, ro).ok());
  // Refused: written once.
  EXPECT_TRUE(RestoreBackup(env, *read, ro).IsInvalidArgument());

  auto id = ReadIdentity(ro.data_dir, env);
  ASSERT_TRUE(id.ok() && id->has_value());
  EXPECT_EQ((*id)->member_id, 5u);
  EXPECT_EQ((*id)->cluster_id, RestoredClusterId(ro));
  EXPECT_NE((*id)->cluster_id, 7u);
  const fs::path group = GroupDir(ro.data_dir, 1);
  {
    auto sm = KvStateMachine::Open(group / "kv", env);
    ASSERT_TRUE(sm.ok()) << sm.status().ToString();
    EXPECT_EQ((*sm)->applied_index(), 22u);
    auto m = (*sm)->membership();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->conf.voters, (std::vector<uint64_t>{5, 6}));
    EXPECT_EQ(m->book.at(6).peer, "127.0.0.1:7006");
    auto v = (*sm)->Get("k19");
    ASSERT_TRUE(v.ok() && v->has_value());
    EXPECT_EQ(**v, "v");
  }
  auto log = DiskStorage::Open(group / "raft");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto snap = (*log)->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.index, 22u);
  EXPECT_EQ(snap->metadata.term, 2u);
  EXPECT_EQ(snap->metadata.conf_state.voters, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ((*log)->LastIndex(), 22u);
  EXPECT_TRUE(fs::is_directory(group / "snap" / "22-2"));
}

}  // namespace
}  // namespace tinykv::replica
