// The command and result codecs: round trips, the version byte, bounds, and
// the validation of what the bytes cannot say.
#include "tinykv/txn/txn_command.h"

#include <gtest/gtest.h>

#include "mvcc_test_util.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::txn {
namespace {

using testing::KvCas;
using testing::KvDelete;
using testing::KvDeleteRange;
using testing::KvPut;

KvWriteCmd LeasedPut(std::string key, std::string value, uint64_t ts, uint64_t lease) {
  KvWriteCmd c = KvPut(std::move(key), std::move(value), ts, 7, 9);
  c.lease = lease;
  return c;
}
KvWriteCmd WithPrevKv(KvWriteCmd c) {
  c.prev_kv = true;
  return c;
}
KvWriteCmd Traced(KvWriteCmd c, uint64_t trace_id) {
  c.trace_id = trace_id;
  return c;
}
KvWriteCmd LeasedCas(std::string key, std::string value, uint64_t ts, uint64_t lease) {
  KvWriteCmd c = KvCas(std::move(key), std::nullopt, std::move(value), ts);
  c.lease = lease;
  return c;
}

std::vector<TxnCommand> Samples() {
  return {
      PrewriteCmd{{{MutationKind::kPut, "a", "1"},
                   {MutationKind::kDelete, "b", ""},
                   {MutationKind::kLock, "c", ""}},
                  "a",
                  10,
                  3000},
      CommitCmd{10, 11, {"a", "b"}},
      RollbackCmd{10, {"a"}},
      CheckTxnStatusCmd{"a", 10, 99},
      ResolveLockCmd{10, 0, {}},
      ResolveLockCmd{10, 12, {"x", "y"}},
      GcCmd{77},
      OnePhaseWriteCmd{{MutationKind::kPut, "k", "v"}, 5},
      ReserveTsCmd{1 << 30},
      HeartbeatCmd{"p", 10, 20000},
      KvPut("k", "v", 5, 7, 1),
      KvPut("k", "", 5),
      KvDelete("k", 6, 7, 2),
      KvCas("k", "old", "new", 7, 7, 3),
      KvCas("k", std::nullopt, "new", 7),
      KvCas("k", "", "new", 7),  // expected empty: present with an empty value
      KvDeleteRange("a", "z", 8, 7, 4),
      KvDeleteRange("", "", 8),
      LeasedPut("k", "v", 5, 0x694d5765fc71500bULL),
      Traced(KvPut("k", "v", 5, 7, 1), 0xc0ffee),
      Traced(WithPrevKv(LeasedPut("k", "v", 5, 3)), ~0ULL),
      Traced(KvDeleteRange("a", "z", 8), 1),
      LeasedCas("k", "v", 5, 1),
      WithPrevKv(KvPut("k", "v", 5, 7, 1)),
      WithPrevKv(LeasedPut("k", "v", 5, 300)),
      WithPrevKv(KvDelete("k", 6)),
      WithPrevKv(KvDeleteRange("a", "", 8)),
      LeaseGrantCmd{0x694d5765fc71500bULL, 10},
      LeaseGrantCmd{1, kMaxLeaseTtlS},
      LeaseRevokeCmd{1, 9},
  };
}

TEST(TxnCommandCodec, EveryCommandRoundTrips) {
  for (const TxnCommand& c : Samples()) {
    auto back = DecodeTxnCommand(Slice(EncodeTxnCommand(c)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == c) << "op " << c.index();
    EXPECT_OK(ValidateTxnCommand(c));
  }
}

TEST(TxnCommandCodec, ResultRoundTrips) {
  TxnCommandResult r;
  KeyError e;
  e.kind = KeyError::Kind::kLocked;
  e.key = "k";
  e.lock = LockInfo{"k", Lock{MutationKind::kDelete, 5, 100, "p"}};
  r.errors.push_back(e);
  e.kind = KeyError::Kind::kWriteConflict;
  e.conflict_start_ts = 3;
  e.conflict_commit_ts = 4;
  r.errors.push_back(e);
  r.txn_status = TxnStatus::kLocked;
  r.ttl_left_ms = 7;
  r.rolled_back_now = true;
  r.count = 9;
  r.prev_reserved = 10;
  r.reserved = 20;
  r.term = 3;
  r.lease_status = LeaseStatus::kLeaseExists;
  auto back = DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r)));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r) + "x")).ok());
}

TEST(TxnCommandCodec, KvWriteResultRoundTripsAndTheOldVersionIsRefused) {
  TxnCommandResult r;
  r.commit_ts = 1234;
  r.kv.succeeded = false;
  r.kv.current = "found";
  r.kv.deleted = 3;
  const std::string enc = EncodeTxnCommandResult(r);
  auto back = DecodeTxnCommandResult(Slice(enc));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  // current: an empty value is not an absent one.
  r.kv.current = "";
  EXPECT_EQ(*DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r))), r);
  r.kv.current.reset();
  r.kv.succeeded = true;
  EXPECT_EQ(*DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r))), r);
  for (size_t n = 0; n < enc.size(); ++n)
    EXPECT_TRUE(DecodeTxnCommandResult(Slice(enc.substr(0, n))).status().IsCorruption()) << n;
  // Version 1 had no kv outcome: refused, not misread.
  std::string v1 = enc;
  v1[0] = 1;
  EXPECT_TRUE(DecodeTxnCommandResult(Slice(v1)).status().IsCorruption());
  // A flag byte other than 0 or 1 (succeeded is right after term).
  std::string flag = EncodeTxnCommandResult(TxnCommandResult{});
  // succeeded, has_current, deleted, lease, prev_kvs count, truncated
  const size_t succeeded_at = flag.size() - 6;
  ASSERT_EQ(flag[succeeded_at], 1);
  flag[succeeded_at] = 2;
  EXPECT_TRUE(DecodeTxnCommandResult(Slice(flag)).status().IsCorruption());
}

// Version 3 appended lease_status; a version 2 result (a client record an
// older build wrote) decodes as before, with no lease outcome.
TEST(TxnCommandCodec, AVersion2ResultStillDecodes) {
  TxnCommandResult r;
  r.commit_ts = 55;
  r.kv.deleted = 1;
  std::string v3 = EncodeTxnCommandResult(r);
  v3[0] = 3;
  v3.resize(v3.size() - 2);  // no prev_kvs count, no truncated flag
  auto back3 = DecodeTxnCommandResult(Slice(v3));
  ASSERT_OK(back3);
  EXPECT_EQ(*back3, r);
  std::string v2 = v3;
  v2[0] = 2;
  v2.pop_back();  // the lease_status byte
  auto back = DecodeTxnCommandResult(Slice(v2));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  // A lease status past the last one is refused.
  std::string bad = EncodeTxnCommandResult(r);
  bad[bad.size() - 3] = 3;
  EXPECT_TRUE(DecodeTxnCommandResult(Slice(bad)).status().IsCorruption());
}

// Version 4 appended prev_kvs (etcd's prev_kv) and their truncation flag.
TEST(TxnCommandCodec, PrevKvsRoundTripAndBadOnesAreRefused) {
  TxnCommandResult r;
  r.commit_ts = 99;
  r.kv.deleted = 2;
  r.prev_kvs = {PrevKv{"a", std::string("v\0w", 3), KeyMeta{10, 20, 3, 0x694d}},
                PrevKv{"b", "", KeyMeta{30, 30, 1, 0}}};
  r.prev_kvs_truncated = true;
  const std::string enc = EncodeTxnCommandResult(r);
  auto back = DecodeTxnCommandResult(Slice(enc));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  for (size_t n = 0; n < enc.size(); ++n)
    EXPECT_TRUE(DecodeTxnCommandResult(Slice(enc.substr(0, n))).status().IsCorruption()) << n;
  std::string flag = enc;
  flag.back() = 2;
  EXPECT_TRUE(DecodeTxnCommandResult(Slice(flag)).status().IsCorruption());
}

// The lease is a trailing field, present only when nonzero: a put without
// one keeps its old bytes, and an explicit zero is refused.
TEST(TxnCommandCodec, AKvWriteLeaseIsTrailingAndNeverZero) {
  const std::string plain = EncodeTxnCommand(KvPut("k", "v", 5, 7, 9));
  const std::string leased = EncodeTxnCommand(LeasedPut("k", "v", 5, 300));
  ASSERT_EQ(leased.substr(0, plain.size()), plain);
  EXPECT_EQ(leased.size(), plain.size() + 2);  // varint 300
  EXPECT_TRUE(DecodeTxnCommand(Slice(plain + std::string(1, '\0'))).status().IsCorruption());
  EXPECT_TRUE(DecodeTxnCommand(Slice(leased + "x")).status().IsCorruption());
  // prev_kv: the lease (0 when none) and a flags byte 1 after it; any other
  // flags byte, or anything after it, is refused.
  const std::string prev = EncodeTxnCommand(WithPrevKv(KvPut("k", "v", 5, 7, 9)));
  EXPECT_EQ(prev, plain + std::string(1, '\0') + std::string(1, '\1'));
  EXPECT_TRUE(DecodeTxnCommand(Slice(plain + std::string(1, '\0') + std::string(1, '\2')))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(DecodeTxnCommand(Slice(prev + "x")).status().IsCorruption());
}

// A trace id: flags bit 2 and a fixed64 after the flags; the command's other
// bytes as without it; trace id 0 or an unknown flag bit is refused.
TEST(TxnCommandCodec, AKvWriteTraceIdFollowsTheFlags) {
  const std::string plain = EncodeTxnCommand(KvPut("k", "v", 5, 7, 9));
  std::string fixed;
  PutFixed64(&fixed, 0xc0ffee);
  const std::string traced = EncodeTxnCommand(Traced(KvPut("k", "v", 5, 7, 9), 0xc0ffee));
  EXPECT_EQ(traced, plain + std::string(1, '\0') + std::string(1, '\2') + fixed);
  const std::string both = EncodeTxnCommand(Traced(WithPrevKv(KvPut("k", "v", 5, 7, 9)), 0xc0ffee));
  EXPECT_EQ(both, plain + std::string(1, '\0') + std::string(1, '\3') + fixed);
  auto back = DecodeTxnCommand(Slice(both));
  ASSERT_OK(back);
  const auto& w = std::get<KvWriteCmd>(*back);
  EXPECT_EQ(w.trace_id, 0xc0ffeeu);
  EXPECT_TRUE(w.prev_kv);
  std::string zero;
  PutFixed64(&zero, 0);
  for (const std::string& bad :
       {plain + std::string(1, '\0') + std::string(1, '\2') + zero,
        plain + std::string(1, '\0') + std::string(1, '\4'),
        plain + std::string(1, '\0') + std::string(1, '\2') + fixed.substr(0, 7), traced + "x"})
    EXPECT_TRUE(DecodeTxnCommand(Slice(bad)).status().IsCorruption()) << Slice(bad).ToHex();
}

TEST(TxnCommandValidate, RefusesBadLeaseCommands) {
  EXPECT_TRUE(ValidateTxnCommand(LeaseGrantCmd{0, 10}).IsInvalidArgument());
  EXPECT_TRUE(ValidateTxnCommand(LeaseGrantCmd{1, 0}).IsInvalidArgument());
  EXPECT_TRUE(ValidateTxnCommand(LeaseGrantCmd{1, kMaxLeaseTtlS + 1}).IsInvalidArgument());
  EXPECT_TRUE(ValidateTxnCommand(LeaseRevokeCmd{0, 10}).IsInvalidArgument());
  EXPECT_TRUE(ValidateTxnCommand(LeaseRevokeCmd{1, 0}).IsInvalidArgument());
  KvWriteCmd del = KvDelete("k", 6);
  del.lease = 1;
  EXPECT_TRUE(ValidateTxnCommand(del).IsInvalidArgument());
}

TEST(TxnCommandCodec, AKvWriteWithAnOversizedKeyOrValueIsCorruption) {
  auto encoded = [](const KvWriteCmd& c) { return EncodeTxnCommand(c); };
  EXPECT_TRUE(DecodeTxnCommand(Slice(encoded(KvPut(std::string(kMaxKeyBytes + 1, 'k'), "v", 5))))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(DecodeTxnCommand(Slice(encoded(KvPut("k", std::string(kMaxValueBytes + 1, 'v'), 5))))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(DecodeTxnCommand(
                  Slice(encoded(KvCas("k", std::string(kMaxValueBytes + 1, 'v'), "v", 5))))
                  .status()
                  .IsCorruption());
  // A delete-range's end is a key.
  EXPECT_TRUE(
      DecodeTxnCommand(Slice(encoded(KvDeleteRange("a", std::string(kMaxKeyBytes + 1, 'z'), 5))))
          .status()
          .IsCorruption());
  // At the limits: fine.
  EXPECT_OK(DecodeTxnCommand(Slice(encoded(
      KvPut(std::string(kMaxKeyBytes, 'k'), std::string(kMaxValueBytes, 'v'), 5)))));
  // The embedded KV command is checked like any entry: a bad op inside.
  std::string s = encoded(KvPut("k", "v", 5));
  const size_t kv_op_at = 2 + 1 + 1 + 1;  // version, op, commit_ts, length, kv version
  ASSERT_EQ(s[kv_op_at], 1);
  s[kv_op_at] = 9;
  EXPECT_TRUE(DecodeTxnCommand(Slice(s)).status().IsCorruption());
}

TEST(TxnCommandCodec, RefusesBadVersionOpTruncationAndTrailingBytes) {
  const std::string good = EncodeTxnCommand(CommitCmd{10, 11, {"a"}});
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_TRUE(DecodeTxnCommand(Slice(v2)).status().IsCorruption());
  std::string op = good;
  op[1] = 13;  // one past the last op
  EXPECT_TRUE(DecodeTxnCommand(Slice(op)).status().IsCorruption());
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_TRUE(DecodeTxnCommand(Slice(good.substr(0, n))).status().IsCorruption()) << n;
  EXPECT_TRUE(DecodeTxnCommand(Slice(good + "x")).status().IsCorruption());
  EXPECT_TRUE(DecodeTxnCommand(Slice("")).status().IsCorruption());
}

TEST(TxnCommandCodec, AHugeCountIsRefusedWithoutAllocating) {
  std::string s = "\x01\x02";  // version 1, commit
  PutVarint64(&s, 10);
  PutVarint64(&s, 11);
  PutVarint32(&s, 0xFFFFFFFFu);  // four billion keys, in a few bytes
  EXPECT_TRUE(DecodeTxnCommand(Slice(s)).status().IsCorruption());
  std::string big_key = "\x01\x03";  // rollback
  PutVarint64(&big_key, 10);
  PutVarint32(&big_key, 1);
  PutLengthPrefixedSlice(&big_key, Slice(std::string(kMaxKeyBytes + 1, 'k')));
  EXPECT_TRUE(DecodeTxnCommand(Slice(big_key)).status().IsCorruption());
}

TEST(TxnCommandCodec, RandomBytesNeverCrashTheDecoder) {
  Random rnd(::tinykv::testing::SeedForTest());
  const auto samples = Samples();
  for (int i = 0; i < 20000; ++i) {
    std::string s = EncodeTxnCommand(samples[rnd.Uniform(samples.size())]);
    const int flips = 1 + static_cast<int>(rnd.Uniform(4));
    for (int f = 0; f < flips; ++f) s[rnd.Uniform(s.size())] = static_cast<char>(rnd.Uniform(256));
    if (rnd.OneIn(3)) s.resize(rnd.Uniform(s.size() + 1));
    auto r = DecodeTxnCommand(Slice(s));
    if (r.ok()) {
      // Whatever decodes survives its own round trip.
      auto again = DecodeTxnCommand(Slice(EncodeTxnCommand(*r)));
      ASSERT_OK(again);
      EXPECT_TRUE(*again == *r);
      ValidateTxnCommand(*r).IgnoreError();
    }
  }
}

TEST(TxnCommandValidate, RefusesWhatTheBytesCannotSay) {
  auto invalid = [](const TxnCommand& c) { return ValidateTxnCommand(c).IsInvalidArgument(); };
  EXPECT_TRUE(invalid(PrewriteCmd{{}, "a", 10, 0}));
  EXPECT_TRUE(invalid(PrewriteCmd{{{MutationKind::kPut, "a", "1"}}, "a", 0, 0}));
  EXPECT_TRUE(invalid(PrewriteCmd{{{MutationKind::kPut, "", "1"}}, "a", 10, 0}));
  EXPECT_TRUE(invalid(
      PrewriteCmd{{{MutationKind::kPut, "a", "1"}, {MutationKind::kPut, "a", "2"}}, "a", 10, 0}));
  EXPECT_TRUE(invalid(PrewriteCmd{{{MutationKind::kDelete, "a", "1"}}, "a", 10, 0}));
  EXPECT_TRUE(invalid(PrewriteCmd{{{MutationKind::kPut, "a", "1"}}, "", 10, 0}));
  EXPECT_TRUE(invalid(CommitCmd{10, 10, {"a"}}));
  EXPECT_TRUE(invalid(CommitCmd{10, 11, {}}));
  EXPECT_TRUE(invalid(RollbackCmd{0, {"a"}}));
  EXPECT_TRUE(invalid(ResolveLockCmd{10, 5, {}}));
  EXPECT_TRUE(invalid(OnePhaseWriteCmd{{MutationKind::kLock, "a", ""}, 5}));
  EXPECT_TRUE(invalid(OnePhaseWriteCmd{{MutationKind::kPut, "a", "1"}, 0}));
  EXPECT_TRUE(invalid(CheckTxnStatusCmd{"a", 0, 5}));
  EXPECT_TRUE(invalid(HeartbeatCmd{"p", 0, 5}));
  EXPECT_TRUE(invalid(HeartbeatCmd{"", 10, 5}));
}

TEST(TxnCommandValidate, RefusesBadKvWrites) {
  auto invalid = [](const TxnCommand& c) { return ValidateTxnCommand(c).IsInvalidArgument(); };
  const std::string long_key(kMaxKeyBytes + 1, 'k');
  const std::string long_value(kMaxValueBytes + 1, 'v');
  EXPECT_TRUE(invalid(KvPut("k", "v", 0)));  // no revision
  EXPECT_TRUE(invalid(KvDelete("k", 0)));
  EXPECT_TRUE(invalid(KvDeleteRange("a", "b", 0)));
  EXPECT_TRUE(invalid(KvPut("", "v", 5)));
  EXPECT_TRUE(invalid(KvDelete("", 5)));
  EXPECT_TRUE(invalid(KvCas("", std::nullopt, "v", 5)));
  EXPECT_TRUE(invalid(KvPut(long_key, "v", 5)));
  EXPECT_TRUE(invalid(KvPut("k", long_value, 5)));
  EXPECT_TRUE(invalid(KvCas("k", long_value, "v", 5)));
  EXPECT_TRUE(invalid(KvDeleteRange(long_key, "", 5)));
  EXPECT_TRUE(invalid(KvDeleteRange("a", long_key, 5)));
  EXPECT_TRUE(invalid(KvDeleteRange("b", "b", 5)));  // end <= start
  EXPECT_TRUE(invalid(KvDeleteRange("b", "a", 5)));
  // What is fine: an empty start, an empty (unbounded) end, an empty value.
  EXPECT_OK(ValidateTxnCommand(KvDeleteRange("", "a", 5)));
  EXPECT_OK(ValidateTxnCommand(KvDeleteRange("b", "", 5)));
  EXPECT_OK(ValidateTxnCommand(KvPut("k", "", 5)));
}

}  // namespace
}  // namespace tinykv::txn
