// VersionCache alone (what it keeps and evicts) and inside MvccStateMachine
// (it changes no record: the same commands give the same state with the
// cache, with a tiny one that evicts all the time, and with none).
#include "tinykv/txn/version_cache.h"

#include <gtest/gtest.h>

#include <random>

#include "mvcc_test_util.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/mvcc_state_machine.h"

namespace tinykv::txn {
namespace {

using ::tinykv::testing::TempDir;
using Op = replica::KvCommand::Op;

CommittedVersion Put(const std::string& key, uint64_t ts, uint64_t version) {
  Write w{WriteKind::kPut, ts, std::string(100, 'v'), PutMeta{ts - version + 1, version, 0}};
  return CommittedVersion{key, CommitRecord{ts, w}};
}

TEST(VersionCache, KeepsTheNewestRecordOfAKeyWithoutItsValue) {
  VersionCache c;
  EXPECT_FALSE(c.Find(Slice("a")));
  c.Note({Put("a", 10, 1), Put("b", 11, 1)});
  c.Note({Put("a", 12, 2)});
  auto a = c.Find(Slice("a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->commit_ts, 12u);
  EXPECT_EQ(a->write.meta->version, 2u);
  EXPECT_FALSE(a->write.value);  // the value is never kept
  c.Note({CommittedVersion{"a", CommitRecord{13, Write{WriteKind::kDelete, 13}}}});
  EXPECT_EQ(c.Find(Slice("a"))->write.kind, WriteKind::kDelete);
  EXPECT_EQ(c.size(), 2u);
  c.Clear();
  EXPECT_FALSE(c.Find(Slice("b")));
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(VersionCache, EvictsTheLeastRecentlyWrittenPastItsBytes) {
  VersionCache probe;
  probe.Note({Put("k0000", 1, 1)});
  const size_t per_entry = probe.bytes();
  VersionCache c(10 * per_entry);
  for (int i = 0; i < 10; ++i) c.Note({Put("k000" + std::to_string(i), 10 + i, 1)});
  EXPECT_EQ(c.size(), 10u);
  c.Note({Put("k0000", 30, 2)});  // written again: now the most recent
  c.Note({Put("k0010", 31, 1)});  // one over: the oldest written (k0001) goes
  EXPECT_EQ(c.size(), 10u);
  EXPECT_LE(c.bytes(), c.capacity_bytes());
  EXPECT_FALSE(c.Find(Slice("k0001")));
  EXPECT_TRUE(c.Find(Slice("k0000")));
  EXPECT_TRUE(c.Find(Slice("k0002")));
  VersionCache off(0);
  off.Note({Put("a", 1, 1)});
  EXPECT_EQ(off.size(), 0u);
}

// An encoded kv write (mvcc_test_util.h's, with a lease and prev_kv).
std::string KvWrite(Op op, const std::string& key, const std::string& value, uint64_t ts,
                    uint64_t lease = 0, bool prev_kv = false,
                    std::optional<std::string> expected = std::nullopt) {
  KvWriteCmd c = testing::KvWrite(op, key, value, std::move(expected), ts, 0, 0);
  c.lease = lease;
  c.prev_kv = prev_kv;
  return EncodeTxnCommand(c);
}

// A random run of every command that writes versions -- kv puts, deletes,
// cas, delete-range, transactions (prewrite + commit), one-phase writes,
// leases granted, attached and revoked, and GC -- over a few keys, fed in
// runs to ApplyBatch so that runs share one reader.
std::vector<std::vector<std::string>> RandomRuns(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return static_cast<uint64_t>(rng() % n); };
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "f"};
  std::vector<std::vector<std::string>> runs;
  uint64_t ts = 100;
  uint64_t lease = 0;
  for (int r = 0; r < 200; ++r) {
    std::vector<std::string> run;
    const uint64_t n = 1 + pick(6);
    for (uint64_t i = 0; i < n; ++i) {
      const std::string& k = keys[pick(keys.size())];
      const std::string v = "v" + std::to_string(ts);
      switch (pick(10)) {
        case 0: case 1: case 2:
          run.push_back(KvWrite(Op::kPut, k, v, ++ts, 0, pick(2) == 0));
          break;
        case 3:
          run.push_back(KvWrite(Op::kDelete, k, "", ++ts));
          break;
        case 4:
          ++ts;  // expects the value some earlier write of the run may have put
          run.push_back(KvWrite(Op::kCas, k, v, ts, 0, false, "v" + std::to_string(ts - 2)));
          break;
        case 5:
          run.push_back(KvWrite(Op::kDeleteRange, k, "d", ++ts));
          break;
        case 6: {
          const uint64_t start = ++ts;
          run.push_back(EncodeTxnCommand(
              PrewriteCmd{{{MutationKind::kPut, k, v}, {MutationKind::kDelete, k + "x", ""}}, k,
                          start, 3000}));
          run.push_back(EncodeTxnCommand(CommitCmd{start, ++ts, {k, k + "x"}}));
          break;
        }
        case 7:
          run.push_back(
              EncodeTxnCommand(OnePhaseWriteCmd{Mutation{MutationKind::kPut, k, v}, ++ts}));
          break;
        case 8:
          if (lease == 0) {
            lease = 1000 + ts;
            run.push_back(EncodeTxnCommand(LeaseGrantCmd{lease, 60}));
          } else if (pick(3) == 0) {
            run.push_back(EncodeTxnCommand(LeaseRevokeCmd{lease, ++ts}));
            lease = 0;
          } else {
            run.push_back(KvWrite(Op::kPut, k, v, ++ts, lease));
          }
          break;
        case 9:
          if (pick(4) == 0) run.push_back(EncodeTxnCommand(GcCmd{ts - pick(20)}));
          break;
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

// The cache is a pure optimization: three state machines fed the same runs
// -- the default cache, one so small it evicts almost every entry, none --
// hold the same records (their hashes cover every record's bytes, the
// metadata included) and answer every command the same.
TEST(VersionCacheInStateMachine, ChangesNoRecordAndNoAnswer) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir d_full, d_tiny, d_none;
    auto full = MvccStateMachine::Open(d_full.path()).value();
    auto tiny = MvccStateMachine::Open(d_tiny.path(), nullptr, 300).value();
    auto none = MvccStateMachine::Open(d_none.path(), nullptr, 0).value();
    uint64_t index = 0;
    for (const std::vector<std::string>& run : RandomRuns(seed)) {
      std::vector<replica::CommittedCommand> cmds;
      for (const std::string& c : run) cmds.push_back({++index, 1, c});
      auto a = full->ApplyBatch(cmds);
      auto b = tiny->ApplyBatch(cmds);
      auto c = none->ApplyBatch(cmds);
      ASSERT_OK(a);
      ASSERT_OK(b);
      ASSERT_OK(c);
      for (size_t i = 0; i < cmds.size(); ++i) {
        ASSERT_EQ((*a)[i].result, (*c)[i].result) << "entry " << cmds[i].index;
        ASSERT_EQ((*b)[i].result, (*c)[i].result) << "entry " << cmds[i].index;
      }
    }
    EXPECT_GT(full->version_cache_size(), 0u);
    EXPECT_EQ(none->version_cache_size(), 0u);
    EXPECT_EQ(full->Hash().value(), none->Hash().value());
    EXPECT_EQ(tiny->Hash().value(), none->Hash().value());
  }
}

// A replaced engine empties the cache. The key's versions 1 and 2 are
// checkpointed; a third is put; installing the checkpoint takes the engine
// back to version 2, so the next put is version 3 again. Negative control:
// without the Clear in LoadMeta, the cache still holds version 3 and the
// put becomes version 4.
TEST(VersionCacheInStateMachine, AnInstalledSnapshotIsNotContinuedFromTheOldState) {
  TempDir dir, ckpt;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  ASSERT_OK(sm->Apply(1, 1, Slice(KvWrite(Op::kPut, "k", "1", 10))));
  ASSERT_OK(sm->Apply(2, 1, Slice(KvWrite(Op::kPut, "k", "2", 11))));
  ASSERT_OK(sm->Checkpoint(ckpt.path() / "c"));
  ASSERT_OK(sm->Apply(3, 1, Slice(KvWrite(Op::kPut, "k", "3", 12))));
  EXPECT_EQ(sm->Get("k", kMaxTs).value().meta.version, 3u);
  ASSERT_OK(sm->Install(ckpt.path() / "c"));
  EXPECT_EQ(sm->version_cache_size(), 0u);
  ASSERT_OK(sm->Apply(3, 1, Slice(KvWrite(Op::kPut, "k", "3'", 13))));
  const ReadResult r = sm->Get("k", kMaxTs).value();
  EXPECT_EQ(r.value, "3'");
  EXPECT_EQ(r.meta.version, 3u);
  EXPECT_EQ(r.meta.create_ts, 10u);
}

}  // namespace
}  // namespace tinykv::txn
