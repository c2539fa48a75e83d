// The command and result codecs: round trips, the version byte, bounds, and
// the validation of what the bytes cannot say.
#include "tinykv/txn/txn_command.h"

#include <gtest/gtest.h>

#include "tinykv/common/coding.h"
#include "tinykv/common/random.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::txn {
namespace {

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
  auto back = DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r)));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(DecodeTxnCommandResult(Slice(EncodeTxnCommandResult(r) + "x")).ok());
}

TEST(TxnCommandCodec, RefusesBadVersionOpTruncationAndTrailingBytes) {
  const std::string good = EncodeTxnCommand(CommitCmd{10, 11, {"a"}});
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_TRUE(DecodeTxnCommand(Slice(v2)).status().IsCorruption());
  std::string op = good;
  op[1] = 9;
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
}

}  // namespace
}  // namespace tinykv::txn
