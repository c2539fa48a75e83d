// tinykv-bench's transaction workload (bench/workload.h, kTxn): the keys a
// transaction is given, aborts kept apart from errors, and the counter a
// read-modify-write writes. Pure: no cluster, no clock.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "workload.h"

namespace tinykv::bench {
namespace {

using std::chrono::milliseconds;

WorkloadOptions Txn(int txn_keys, uint64_t key_space, uint64_t total) {
  WorkloadOptions o;
  o.op = OpKind::kTxn;
  o.clients = 2;
  o.total = total;
  o.txn_keys = txn_keys;
  o.key_space = key_space;
  o.key_size = 4;
  return o;
}

// Every transaction gets txn_keys distinct keys of the key space -- also
// when that is the whole key space, where a draw with replacement would
// repeat keys.
TEST(TxnWorkload, ATransactionsKeysAreDistinctAndInTheKeySpace) {
  for (const auto& [keys, space] : {std::pair{2, 2}, std::pair{8, 8}, std::pair{8, 64},
                                    std::pair{4, 100000}}) {
    auto w = Workload::Measured(Txn(keys, space, 200));
    Request r;
    int n = 0;
    while (w->Next(n % 2, &r)) {
      ++n;
      ASSERT_EQ(r.keys.size(), static_cast<size_t>(keys));
      const std::set<std::string> distinct(r.keys.begin(), r.keys.end());
      EXPECT_EQ(distinct.size(), r.keys.size());
      for (const std::string& k : r.keys) EXPECT_LT(std::stoull(k), static_cast<uint64_t>(space));
    }
    EXPECT_EQ(n, 200);  // total counts transactions, not keys
  }
}

// A small key space is high contention only if the draws cover it: over
// many transactions every key of it is used.
TEST(TxnWorkload, DrawsCoverTheKeySpace) {
  auto w = Workload::Measured(Txn(2, 64, 2000));
  Request r;
  std::set<std::string> seen;
  while (w->Next(0, &r)) seen.insert(r.keys.begin(), r.keys.end());
  EXPECT_EQ(seen.size(), 64u);
}

// Conflict is a transaction's abort: counted in aborts, not errors, and
// neither has a latency; the abort rate is over every answer.
TEST(TxnWorkload, ConflictsAreAbortsNotErrors) {
  auto w = Workload::Measured(Txn(2, 10, 4));
  Request r;
  ASSERT_TRUE(w->Next(0, &r));
  w->Record(0, milliseconds(5), Status::OK());
  ASSERT_TRUE(w->Next(0, &r));
  w->Record(0, milliseconds(7), Status::Conflict("txn: write conflict"));
  ASSERT_TRUE(w->Next(1, &r));
  w->Record(1, milliseconds(9), Status::Conflict("txn: write conflict"));
  ASSERT_TRUE(w->Next(1, &r));
  w->Record(1, milliseconds(11), Status::Timeout("deadline exceeded"));
  const Outcome out = w->Finish();
  EXPECT_EQ(out.latency_ns.size(), 1u);
  EXPECT_EQ(out.aborts, 2u);
  EXPECT_EQ(out.errors, 1u);
  EXPECT_NE(out.first_error.find("deadline exceeded"), std::string::npos);
  EXPECT_DOUBLE_EQ(out.AbortRate(), 0.5);
  EXPECT_DOUBLE_EQ(Outcome{}.AbortRate(), 0);
}

TEST(TxnWorkload, ReadModifyWriteWritesTheCounterPlusOne) {
  EXPECT_EQ(IncrementedValue(std::nullopt, 4), "1vvv");
  EXPECT_EQ(IncrementedValue(std::string("41vvvvvv"), 8), "42vvvvvv");
  EXPECT_EQ(IncrementedValue(std::string("999v"), 2), "1000");  // longer than size
  EXPECT_EQ(IncrementedValue(std::string("vvvv"), 4), "1vvv");  // no counter: a put's value
  EXPECT_EQ(IncrementedValue(std::string(""), 0), "1");
}

}  // namespace
}  // namespace tinykv::bench
