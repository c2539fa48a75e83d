// The plain KV API's writes on MVCC (KvWriteCmd) and the transaction
// heartbeat (HeartbeatCmd), against the MVCC layout: the answer, the
// versions left, and that a refused or repeated command writes nothing.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"
#include "tinykv/common/coding.h"

namespace tinykv::txn {
namespace {

using testing::KvCas;
using testing::KvDelete;
using testing::KvDeleteRange;
using testing::KvPut;
using testing::MvccEngine;
using testing::Put;
using testing::Ts;
using Kind = KeyError::Kind;

PrewriteCmd Prewrite(std::vector<Mutation> m, std::string primary, uint64_t start_ts,
                     uint64_t ttl_ms = 3000) {
  return PrewriteCmd{std::move(m), std::move(primary), start_ts, ttl_ms};
}

// A successful kv write; its result.
TxnCommandResult Ok(MvccEngine& e, const KvWriteCmd& c) {
  TxnCommandResult r = e.Run(c);
  EXPECT_TRUE(r.errors.empty()) << KeyErrorToString(r.errors.at(0));
  EXPECT_EQ(r.commit_ts, c.commit_ts);
  return r;
}

// --- key metadata and prev_kv ------------------------------------------------

// etcd's KeyValue fields: a key's create revision is its first put since it
// last did not exist, its version counts the puts since (1 on creation),
// its mod revision is the newest put, its lease the put's. A delete ends
// the key's life; the next put starts a new one. Every read answers them
// from the version it reads, so reads in the past see the past's.
TEST(MvccKvWrite, PutsCarryTheKeysLifeAndReadsReportIt) {
  MvccEngine e;
  Ok(e, KvPut("k", "a", Ts(10)));
  Ok(e, KvPut("k", "b", Ts(20)));
  KvWriteCmd leased = KvPut("k", "c", Ts(30));
  leased.lease = 7;
  ASSERT_TRUE(e.Run(LeaseGrantCmd{7, 10}).errors.empty());
  Ok(e, leased);
  EXPECT_EQ(e.Get("k", Ts(10)).meta, (KeyMeta{Ts(10), Ts(10), 1, 0}));
  EXPECT_EQ(e.Get("k", Ts(25)).meta, (KeyMeta{Ts(10), Ts(20), 2, 0}));
  EXPECT_EQ(e.Get("k", kMaxTs).meta, (KeyMeta{Ts(10), Ts(30), 3, 7}));
  Ok(e, KvDelete("k", Ts(40)));
  EXPECT_FALSE(e.Get("k", kMaxTs).value);
  Ok(e, KvPut("k", "new life", Ts(50)));
  EXPECT_EQ(e.Get("k", kMaxTs).meta, (KeyMeta{Ts(50), Ts(50), 1, 0}));
  // A cas is a put; a scan reports each key's.
  Ok(e, KvCas("k", "new life", "again", Ts(60)));
  Ok(e, KvPut("j", "x", Ts(70)));
  ScanResult scan = e.Scan("", "", kMaxTs, 10);
  ASSERT_EQ(scan.pairs.size(), 2u);
  ASSERT_EQ(scan.metas.size(), 2u);
  EXPECT_EQ(scan.metas[0], (KeyMeta{Ts(70), Ts(70), 1, 0}));  // "j"
  EXPECT_EQ(scan.metas[1], (KeyMeta{Ts(50), Ts(60), 2, 0}));  // "k"
  // The record holds it: a put of kind 'p' (mvcc_record.h).
  EXPECT_EQ(e.WriteAt("k", Ts(60))->meta, (PutMeta{Ts(50), 2, 0}));
}

// A transaction's commit continues the metadata the same way, and a put
// written before metadata existed ('P') reads as its own creation.
TEST(MvccKvWrite, CommitsContinueTheLifeAndOldRecordsReadAsCreations) {
  MvccEngine e;
  Ok(e, KvPut("k", "a", Ts(10)));
  ASSERT_TRUE(e.Run(Prewrite({Put("k", "txn")}, "k", Ts(20))).errors.empty());
  ASSERT_TRUE(e.Run(CommitCmd{Ts(20), Ts(21), {"k"}}).errors.empty());
  EXPECT_EQ(e.Get("k", kMaxTs).meta, (KeyMeta{Ts(10), Ts(21), 2, 0}));
  EXPECT_EQ(KeyMetaOf(Ts(5), Write{WriteKind::kPut, Ts(5), std::string("v")}),
            (KeyMeta{Ts(5), Ts(5), 1, 0}));
  const Write legacy{WriteKind::kPut, Ts(5), std::string("v")};
  EXPECT_EQ(NextPutMeta(&legacy, Ts(5), Ts(9), 0), (PutMeta{Ts(5), 2, 0}));
}

// prev_kv: each written key's version before the write -- value and
// metadata -- for a put, a cas, a delete, every key of a delete-range;
// nothing for a key that had none; only when asked for.
TEST(MvccKvWrite, PrevKvAnswersTheKeysAsTheyWereBeforeTheWrite) {
  MvccEngine e;
  auto with_prev = [](KvWriteCmd c) {
    c.prev_kv = true;
    return c;
  };
  EXPECT_TRUE(Ok(e, with_prev(KvPut("a", "1", Ts(10)))).prev_kvs.empty());  // created
  auto put = Ok(e, with_prev(KvPut("a", "2", Ts(20))));
  ASSERT_EQ(put.prev_kvs.size(), 1u);
  EXPECT_EQ(put.prev_kvs[0], (PrevKv{"a", "1", KeyMeta{Ts(10), Ts(10), 1, 0}}));
  EXPECT_TRUE(Ok(e, KvPut("a", "3", Ts(30))).prev_kvs.empty()) << "not asked for";
  auto cas = Ok(e, with_prev(KvCas("a", "3", "4", Ts(40))));
  ASSERT_EQ(cas.prev_kvs.size(), 1u);
  EXPECT_EQ(cas.prev_kvs[0].value, "3");
  Ok(e, KvPut("b", "x", Ts(50)));
  Ok(e, KvPut("c", "y", Ts(60)));
  Ok(e, KvDelete("c", Ts(61)));
  auto del = Ok(e, with_prev(KvDelete("b", Ts(70))));
  ASSERT_EQ(del.prev_kvs.size(), 1u);
  EXPECT_EQ(del.prev_kvs[0], (PrevKv{"b", "x", KeyMeta{Ts(50), Ts(50), 1, 0}}));
  Ok(e, KvPut("b", "z", Ts(80)));
  auto range = Ok(e, with_prev(KvDeleteRange("a", "", Ts(90))));
  EXPECT_EQ(range.kv.deleted, 2u);
  ASSERT_EQ(range.prev_kvs.size(), 2u);  // "c" was deleted already
  EXPECT_EQ(range.prev_kvs[0].key, "a");
  EXPECT_EQ(range.prev_kvs[0].value, "4");
  EXPECT_EQ(range.prev_kvs[0].meta, (KeyMeta{Ts(10), Ts(40), 4, 0}));
  EXPECT_EQ(range.prev_kvs[1], (PrevKv{"b", "z", KeyMeta{Ts(80), Ts(80), 1, 0}}));
  EXPECT_FALSE(range.prev_kvs_truncated);
}

// A delete-range's prev_kvs stop at kMaxPrevKvBytes, marked truncated: the
// deletes themselves are all made.
TEST(MvccKvWrite, PrevKvOfAHugeRangeIsBoundedAndSaysSo) {
  MvccEngine e;
  const std::string value(512 << 10, 'v');
  for (int i = 0; i < 6; ++i) Ok(e, KvPut("k" + std::to_string(i), value, Ts(10 + i)));
  KvWriteCmd c = KvDeleteRange("k", "l", Ts(100));
  c.prev_kv = true;
  auto r = Ok(e, c);
  EXPECT_EQ(r.kv.deleted, 6u);
  EXPECT_TRUE(r.prev_kvs_truncated);
  EXPECT_EQ(r.prev_kvs.size(), 3u);  // 3 x 512 KiB fit in 2 MiB; a 4th does not
  EXPECT_EQ(e.Scan("k", "l", kMaxTs, 10).pairs.size(), 0u);
}

// --- put, delete, cas, delete-range -------------------------------------------

TEST(MvccKvWrite, PutIsAVersionAtCommitTsAndOlderReadsKeepTheirs) {
  MvccEngine e;
  auto r = Ok(e, KvPut("a", "1", Ts(10)));
  EXPECT_TRUE(r.kv.succeeded);
  EXPECT_EQ(r.kv.index, 0u);  // the node's to fill
  // One step, nothing staged: the value is in the write record, no data record.
  EXPECT_EQ(e.WriteAt("a", Ts(10)), (Write{WriteKind::kPut, Ts(10), "1", PutMeta{Ts(10), 1, 0}}));
  EXPECT_EQ(e.DataAt("a", Ts(10)), std::nullopt);
  EXPECT_EQ(e.CountFamily(kDataPrefix), 0u);
  Ok(e, KvPut("a", "2", Ts(20)));
  EXPECT_EQ(e.Value("a", Ts(9)), std::nullopt);
  EXPECT_EQ(e.Value("a", Ts(19)), "1");
  EXPECT_EQ(e.Value("a", Ts(20)), "2");
  EXPECT_EQ(e.CountFamily(kLockPrefix), 0u);
  // No client: no exactly-once record.
  EXPECT_EQ(e.CountFamily(kMetaPrefix), 0u);
}

TEST(MvccKvWrite, DeleteWritesATombstoneOnlyForAVisibleValue) {
  MvccEngine e;
  // Like etcd: deleting an absent key makes no revision.
  auto before = e.Contents();
  auto r = Ok(e, KvDelete("a", Ts(10)));
  EXPECT_EQ(r.kv.deleted, 0u);
  EXPECT_TRUE(r.kv.succeeded);
  EXPECT_EQ(e.Contents(), before);

  Ok(e, KvPut("a", "1", Ts(20)));
  r = Ok(e, KvDelete("a", Ts(30)));
  EXPECT_EQ(r.kv.deleted, 1u);
  EXPECT_EQ(e.WriteAt("a", Ts(30)), (Write{WriteKind::kDelete, Ts(30)}));
  EXPECT_EQ(e.Value("a", Ts(29)), "1");
  EXPECT_EQ(e.Value("a", Ts(30)), std::nullopt);

  // Already a tombstone: nothing new, but the answer names its revision.
  before = e.Contents();
  r = Ok(e, KvDelete("a", Ts(40)));
  EXPECT_EQ(r.kv.deleted, 0u);
  EXPECT_EQ(r.commit_ts, Ts(40));
  EXPECT_EQ(e.Contents(), before);
}

TEST(MvccKvWrite, CasComparesWithTheNewestValue) {
  MvccEngine e;
  // Expected absent, and absent: succeeds.
  auto r = Ok(e, KvCas("a", std::nullopt, "1", Ts(10)));
  EXPECT_TRUE(r.kv.succeeded);
  EXPECT_EQ(e.Value("a", Ts(10)), "1");

  // Expected absent, but present: fails with the value found, writes nothing.
  auto before = e.Contents();
  r = Ok(e, KvCas("a", std::nullopt, "2", Ts(20)));
  EXPECT_FALSE(r.kv.succeeded);
  EXPECT_EQ(r.kv.current, "1");
  EXPECT_EQ(e.Contents(), before);
  // A different value expected: the same.
  r = Ok(e, KvCas("a", "x", "2", Ts(21)));
  EXPECT_FALSE(r.kv.succeeded);
  EXPECT_EQ(r.kv.current, "1");
  EXPECT_EQ(e.Contents(), before);

  // The value expected: a new version.
  r = Ok(e, KvCas("a", "1", "2", Ts(22)));
  EXPECT_TRUE(r.kv.succeeded);
  EXPECT_EQ(r.kv.current, std::nullopt);
  EXPECT_EQ(e.Value("a", Ts(21)), "1");
  EXPECT_EQ(e.Value("a", Ts(22)), "2");

  // A tombstone counts as absent; a value expected of an absent key fails
  // with current = nullopt.
  Ok(e, KvDelete("a", Ts(30)));
  r = Ok(e, KvCas("a", "2", "3", Ts(31)));
  EXPECT_FALSE(r.kv.succeeded);
  EXPECT_EQ(r.kv.current, std::nullopt);
  EXPECT_TRUE(Ok(e, KvCas("a", std::nullopt, "3", Ts(32))).kv.succeeded);
  EXPECT_EQ(e.Value("a", Ts(32)), "3");
}

TEST(MvccKvWrite, DeleteRangeOverVersionsAndTombstones) {
  MvccEngine e;
  Ok(e, KvPut("a", "a1", Ts(10)));
  Ok(e, KvPut("a", "a2", Ts(11)));
  Ok(e, KvPut("b", "b1", Ts(12)));
  Ok(e, KvDelete("b", Ts(13)));                                    // a tombstone
  ASSERT_TRUE(e.Run(RollbackCmd{Ts(14), {"c"}}).errors.empty());  // only a rollback record
  Ok(e, KvPut("d", "d1", Ts(15)));
  Ok(e, KvPut("e", "e1", Ts(16)));  // outside [a, e)

  auto r = Ok(e, KvDeleteRange("a", "e", Ts(20)));
  EXPECT_EQ(r.kv.deleted, 2u);  // a and d: b and c have no value to delete
  EXPECT_EQ(e.WriteAt("a", Ts(20)), (Write{WriteKind::kDelete, Ts(20)}));
  EXPECT_EQ(e.WriteAt("d", Ts(20)), (Write{WriteKind::kDelete, Ts(20)}));
  EXPECT_EQ(e.WriteAt("b", Ts(20)), std::nullopt);
  EXPECT_EQ(e.WriteAt("c", Ts(20)), std::nullopt);
  EXPECT_EQ(e.Scan("", "", Ts(20), 10).pairs,
            (std::vector<std::pair<std::string, std::string>>{{"e", "e1"}}));
  // Reads below the range delete see every version they saw before.
  EXPECT_EQ(e.Value("a", Ts(10)), "a1");
  EXPECT_EQ(e.Value("a", Ts(19)), "a2");
  EXPECT_EQ(e.Value("b", Ts(12)), "b1");
  EXPECT_EQ(e.Value("d", Ts(19)), "d1");

  // Again: nothing left to delete, nothing written.
  auto before = e.Contents();
  EXPECT_EQ(Ok(e, KvDeleteRange("a", "e", Ts(21))).kv.deleted, 0u);
  EXPECT_EQ(e.Contents(), before);

  // Empty start = the first key, empty end = unbounded.
  r = Ok(e, KvDeleteRange("", "", Ts(30)));
  EXPECT_EQ(r.kv.deleted, 1u);
  EXPECT_EQ(e.Value("e", Ts(29)), "e1");
  EXPECT_EQ(e.Value("e", Ts(30)), std::nullopt);
}

TEST(MvccKvWrite, ALockRefusesEveryOpAndNothingIsWritten) {
  MvccEngine e;
  Ok(e, KvPut("a", "a1", Ts(10)));
  Ok(e, KvPut("b", "b1", Ts(10, 1)));
  ASSERT_TRUE(e.Run(Prewrite({Put("b", "b2"), Put("d", "d2")}, "b", Ts(20), 500)).errors.empty());
  const LockInfo b_lock{"b", Lock{MutationKind::kPut, Ts(20), 500, "b"}};
  const auto before = e.Contents();
  for (const KvWriteCmd& c :
       {KvPut("b", "x", Ts(30)), KvDelete("b", Ts(30)), KvCas("b", "b1", "x", Ts(30)),
        KvCas("b", std::nullopt, "x", Ts(30)), KvDeleteRange("a", "c", Ts(30)),
        KvDeleteRange("", "", Ts(30), 7, 1)}) {
    auto r = e.Run(c);
    ASSERT_EQ(r.errors.size(), 1u) << static_cast<int>(c.kv.op);
    EXPECT_EQ(r.errors[0].kind, Kind::kLocked);
    // A range meets the first lock in key order.
    EXPECT_EQ(r.errors[0].key, "b");
    EXPECT_EQ(r.errors[0].lock, b_lock);
    EXPECT_EQ(e.Contents(), before) << static_cast<int>(c.kv.op);
  }
  // A lock outside the range, or on another key, is no obstacle.
  EXPECT_EQ(Ok(e, KvDeleteRange("a", "b", Ts(30))).kv.deleted, 1u);
  Ok(e, KvPut("c", "c1", Ts(31)));
}

TEST(MvccKvWrite, AWriteAtOrBelowTheNewestRecordIsAWriteConflict) {
  MvccEngine e;
  Ok(e, KvPut("a", "1", Ts(20)));
  ASSERT_TRUE(e.Run(RollbackCmd{Ts(40), {"r"}}).errors.empty());
  Ok(e, KvPut("t", "1", Ts(10)));
  Ok(e, KvDelete("t", Ts(30)));
  const auto before = e.Contents();
  auto conflict = [&](const KvWriteCmd& c, const std::string& key, uint64_t start_ts,
                      uint64_t commit_ts) {
    auto r = e.Run(c);
    ASSERT_EQ(r.errors.size(), 1u) << static_cast<int>(c.kv.op);
    EXPECT_EQ(r.errors[0].kind, Kind::kWriteConflict);
    EXPECT_EQ(r.errors[0].key, key);
    EXPECT_EQ(r.errors[0].conflict_start_ts, start_ts);
    EXPECT_EQ(r.errors[0].conflict_commit_ts, commit_ts);
    EXPECT_EQ(e.Contents(), before);
  };
  conflict(KvPut("a", "2", Ts(20)), "a", Ts(20), Ts(20));  // at the newest
  conflict(KvPut("a", "2", Ts(15)), "a", Ts(20), Ts(20));  // below it
  conflict(KvDelete("a", Ts(15)), "a", Ts(20), Ts(20));
  conflict(KvCas("a", "1", "2", Ts(15)), "a", Ts(20), Ts(20));
  // Any kind of record: a rollback record too.
  conflict(KvPut("r", "1", Ts(35)), "r", Ts(40), Ts(40));
  // A delete of a key whose newest record is a tombstone above commit_ts,
  // and a range over it: a read at 25 sees "1", so neither may decide at 25
  // that the key is gone.
  conflict(KvDelete("t", Ts(25)), "t", Ts(30), Ts(30));
  conflict(KvDeleteRange("s", "u", Ts(25)), "t", Ts(30), Ts(30));
  // Above the newest: fine.
  EXPECT_EQ(Ok(e, KvDeleteRange("", "", Ts(50))).kv.deleted, 1u);  // a
}

// --- exactly-once by (client_id, request_seq) ------------------------------------

TEST(MvccKvWrite, ARetryAnswersTheRememberedResultAndWritesNothing) {
  MvccEngine e;
  const auto first = Ok(e, KvPut("a", "1", Ts(10), /*client_id=*/7, /*request_seq=*/1));
  ASSERT_TRUE(e.Raw(KvClientKey(7)).has_value());
  auto before = e.Contents();
  // The retry is proposed again with a newer timestamp: the answer is the
  // first one, its revision included, and no version appears at 20.
  auto r = e.Run(KvPut("a", "1", Ts(20), 7, 1));
  EXPECT_EQ(r, first);
  EXPECT_EQ(r.commit_ts, Ts(10));
  EXPECT_EQ(e.Contents(), before);
  EXPECT_EQ(e.WriteAt("a", Ts(20)), std::nullopt);

  // A failed cas is an outcome too: remembered, not re-evaluated.
  const auto failed = Ok(e, KvCas("a", "x", "2", Ts(30), 7, 2));
  EXPECT_FALSE(failed.kv.succeeded);
  Ok(e, KvPut("a", "x", Ts(40)));  // now the cas would succeed
  before = e.Contents();
  r = e.Run(KvCas("a", "x", "2", Ts(50), 7, 2));
  EXPECT_EQ(r, failed);
  EXPECT_EQ(r.kv.current, "1");
  EXPECT_EQ(e.Contents(), before);

  // An older request_seq: ignored, refused.
  r = e.Run(KvPut("a", "old", Ts(60), 7, 1));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_FALSE(r.kv.succeeded);
  EXPECT_EQ(e.Contents(), before);
  EXPECT_EQ(e.Value("a", kMaxTs), "x");

  // Another client is remembered on its own.
  EXPECT_TRUE(Ok(e, KvPut("a", "y", Ts(70), 8, 1)).kv.succeeded);
  // The next request of client 7 executes.
  r = Ok(e, KvDelete("a", Ts(80), 7, 3));
  EXPECT_EQ(r.kv.deleted, 1u);
  EXPECT_EQ(e.Value("a", kMaxTs), std::nullopt);
}

TEST(MvccKvWrite, TheClientRecordIsTheSeqAndTheEncodedResult) {
  MvccEngine e;
  const auto r = Ok(e, KvDeleteRange("", "", Ts(10), 0x0102030405060708ull, 5));
  const std::string key = KvClientKey(0x0102030405060708ull);
  EXPECT_EQ(key, std::string("mclient\x01\x02\x03\x04\x05\x06\x07\x08"));
  auto rec = e.Raw(key);
  ASSERT_TRUE(rec.has_value());
  Slice in(*rec);
  uint64_t seq = 0;
  ASSERT_TRUE(GetVarint64(&in, &seq));
  EXPECT_EQ(seq, 5u);
  auto stored = DecodeTxnCommandResult(in);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, r);
}

TEST(MvccKvWrite, ClientZeroIsNotDeduplicated) {
  MvccEngine e;
  Ok(e, KvPut("a", "1", Ts(10), 0, 1));
  Ok(e, KvPut("a", "1", Ts(20), 0, 1));
  EXPECT_EQ(e.WriteAt("a", Ts(10)), (Write{WriteKind::kPut, Ts(10), "1", PutMeta{Ts(10), 1, 0}}));
  EXPECT_EQ(e.WriteAt("a", Ts(20)), (Write{WriteKind::kPut, Ts(20), "1", PutMeta{Ts(10), 2, 0}}));
  EXPECT_EQ(e.CountFamily(kMetaPrefix), 0u);
}

TEST(MvccKvWrite, AKeyErrorIsNotRememberedSoTheRetryExecutes) {
  MvccEngine e;
  ASSERT_TRUE(e.Run(Prewrite({Put("a", "t")}, "a", Ts(10))).errors.empty());
  auto r = e.Run(KvPut("a", "1", Ts(20), 7, 1));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, Kind::kLocked);
  EXPECT_EQ(e.Raw(KvClientKey(7)), std::nullopt);
  // Lock resolved; the same request again now applies (had the refusal
  // been remembered, this retry would answer kLocked forever).
  ASSERT_TRUE(e.Run(RollbackCmd{Ts(10), {"a"}}).errors.empty());
  r = Ok(e, KvPut("a", "1", Ts(30), 7, 1));
  EXPECT_TRUE(r.kv.succeeded);
  EXPECT_EQ(e.Value("a", Ts(30)), "1");
  EXPECT_TRUE(e.Raw(KvClientKey(7)).has_value());
}

// --- heartbeat ---------------------------------------------------------------------

TEST(MvccHeartbeat, ExtendsThePrimaryLockAndNeverShortensIt) {
  MvccEngine e;
  ASSERT_TRUE(e.Run(Prewrite({Put("p", "1"), Put("s", "2")}, "p", Ts(100), 100)).errors.empty());
  auto r = e.Run(HeartbeatCmd{"p", Ts(100), 5000});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.ttl_left_ms, 5000u);
  EXPECT_EQ(e.LockOf("p"), (Lock{MutationKind::kPut, Ts(100), 5000, "p"}));
  // A late heartbeat with a smaller TTL: the lock keeps 5000, nothing written.
  const auto before = e.Contents();
  r = e.Run(HeartbeatCmd{"p", Ts(100), 1000});
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.ttl_left_ms, 5000u);
  EXPECT_EQ(e.Contents(), before);
  // The secondary keeps its own TTL (the primary decides the transaction).
  EXPECT_EQ(e.LockOf("s")->ttl_ms, 100u);
}

TEST(MvccHeartbeat, NoLockOfTheTransactionIsTxnLockNotFound) {
  MvccEngine e;
  auto not_found = [&](const HeartbeatCmd& c) {
    const auto before = e.Contents();
    auto r = e.Run(c);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].kind, Kind::kTxnLockNotFound);
    EXPECT_EQ(r.errors[0].key, c.primary);
    EXPECT_EQ(e.Contents(), before);
  };
  not_found(HeartbeatCmd{"p", Ts(100), 5000});  // never prewritten
  ASSERT_TRUE(e.Run(Prewrite({Put("p", "1")}, "p", Ts(100), 100)).errors.empty());
  not_found(HeartbeatCmd{"p", Ts(99), 5000});  // another transaction's lock
  ASSERT_TRUE(e.Run(CommitCmd{Ts(100), Ts(101), {"p"}}).errors.empty());
  not_found(HeartbeatCmd{"p", Ts(100), 5000});  // committed
}

TEST(MvccHeartbeat, AHeartbeatedLockSurvivesACheckThatWouldHaveExpiredIt) {
  // Prewritten at 100 ms with a 100 ms TTL; a reader checks at 1100 ms.
  auto check_at_1100 = [](bool heartbeat) {
    MvccEngine e;
    EXPECT_TRUE(e.Run(Prewrite({Put("p", "1")}, "p", Ts(100), 100)).errors.empty());
    if (heartbeat) {
      EXPECT_TRUE(e.Run(HeartbeatCmd{"p", Ts(100), 5000}).errors.empty());
    }
    return e.Run(CheckTxnStatusCmd{"p", Ts(100), Ts(1100)});
  };
  auto r = check_at_1100(true);
  EXPECT_EQ(r.txn_status, TxnStatus::kLocked);
  EXPECT_EQ(r.ttl_left_ms, 4000u);  // 100 + 5000 - 1100
  EXPECT_FALSE(r.rolled_back_now);
  // Negative control: without the heartbeat the same check rolls it back.
  r = check_at_1100(false);
  EXPECT_EQ(r.txn_status, TxnStatus::kRolledBack);
  EXPECT_TRUE(r.rolled_back_now);
}

}  // namespace
}  // namespace tinykv::txn
