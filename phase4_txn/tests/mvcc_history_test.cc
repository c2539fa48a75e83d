// The pieces a watch reads outside the hub: ReadHistory (mvcc_history.h)
// over an engine's write family, the lock index the state machine keeps
// (lock_index.h), and the versions it hands its observer, in order.
#include "tinykv/txn/mvcc_history.h"

#include <gtest/gtest.h>

#include <vector>

#include "mvcc_test_util.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/lock_index.h"
#include "tinykv/txn/mvcc_state_machine.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

using testing::MvccEngine;

HistoryPage Read(MvccEngine& e, HistoryQuery q) {
  MvccReader reader(e.db());
  auto page = ReadHistory(reader, q);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? *page : HistoryPage{};
}

TEST(MvccHistory, ReplaysPutsAndDeletesInRevisionOrderWithTheirPrevValues) {
  MvccEngine e;
  e.Run(testing::KvPut("b", "b1", 10));
  e.Run(testing::KvPut("a", "a1", 11));
  // A transaction: its value lives in the data record at start_ts.
  e.Run(PrewriteCmd{{Mutation{MutationKind::kPut, "a", "a2"}}, "a", 12, 3000});
  e.Run(CommitCmd{12, 13, {"a"}});
  // A rolled-back transaction and a lock-only one leave no versions.
  e.Run(PrewriteCmd{{Mutation{MutationKind::kPut, "b", "never"}}, "b", 14, 3000});
  e.Run(RollbackCmd{14, {"b"}});
  e.Run(PrewriteCmd{{Mutation{MutationKind::kLock, "b", ""}}, "b", 15, 3000});
  e.Run(CommitCmd{15, 16, {"b"}});
  e.Run(testing::KvDelete("b", 17));
  e.Run(testing::KvPut("c", "outside", 18));

  HistoryQuery q;
  q.start = "a";
  q.end = "c";
  q.after_ts = 0;
  q.upto_ts = 100;
  q.prev_kv = true;
  HistoryPage page = Read(e, q);
  EXPECT_EQ(page.reached, 100u);
  ASSERT_EQ(page.events.size(), 4u);
  EXPECT_EQ(page.events[0], (WatchEvent{WatchEvent::Type::kPut, "b", "b1", std::nullopt, 10}));
  EXPECT_EQ(page.events[1], (WatchEvent{WatchEvent::Type::kPut, "a", "a1", std::nullopt, 11}));
  EXPECT_EQ(page.events[2], (WatchEvent{WatchEvent::Type::kPut, "a", "a2", "a1", 13}));
  EXPECT_EQ(page.events[3], (WatchEvent{WatchEvent::Type::kDelete, "b", "", "b1", 17}));

  // A window of revisions; the prev value comes from below it.
  q.after_ts = 11;
  q.upto_ts = 13;
  page = Read(e, q);
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].revision, 13u);
  EXPECT_EQ(page.events[0].prev_value, std::optional<std::string>("a1"));
}

TEST(MvccHistory, APageHoldsWholeRevisionsAndSaysHowFarItGot) {
  MvccEngine e;
  // Revision 20 writes three keys at once (a delete-range).
  for (int i = 0; i < 3; ++i) e.Run(testing::KvPut("k" + std::to_string(i), "v", 10u + i));
  replica::KvCommand del;
  del.op = replica::KvCommand::Op::kDeleteRange;
  del.key = "k";
  del.value = "l";
  e.Run(KvWriteCmd{del, 20});
  for (int i = 0; i < 3; ++i) e.Run(testing::KvPut("k" + std::to_string(i), "w", 30u + i));

  HistoryQuery q;
  q.start = "k";
  q.end = "l";
  q.upto_ts = 100;
  q.max_events = 4;  // 10, 11, 12 fit; all of 20 does not
  std::vector<WatchEvent> all;
  std::vector<uint64_t> reached;
  while (q.after_ts < q.upto_ts) {
    HistoryPage page = Read(e, q);
    ASSERT_GT(page.reached, q.after_ts) << "every page makes progress";
    for (const WatchEvent& ev : page.events) {
      EXPECT_GT(ev.revision, q.after_ts);
      EXPECT_LE(ev.revision, page.reached);
      all.push_back(ev);
    }
    reached.push_back(page.reached);
    q.after_ts = page.reached;
  }
  // Page 1: 10..12 (20's three would pass 4). Page 2: 20's three and 30
  // (31 was dropped to make room for the whole of 20). Page 3: the rest.
  EXPECT_EQ(reached, (std::vector<uint64_t>{19, 30, 100}));
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LE(all[i - 1].revision, all[i].revision);
}

TEST(MvccHistory, HistoryBelowTheGcSafePointIsCompacted) {
  MvccEngine e;
  e.Run(testing::KvPut("k", "1", 10));
  e.Run(testing::KvPut("k", "2", 20));
  e.Run(GcCmd{15});
  e.Run(GcCmd{12});  // a lower safe point later does not lower the one kept
  MvccReader reader(e.db());
  HistoryQuery q;
  q.upto_ts = 100;
  q.after_ts = 14;
  auto r = ReadHistory(reader, q);
  ASSERT_FALSE(r.ok());
  auto err = WatchErrorOf(r.status());
  ASSERT_TRUE(err.has_value()) << r.status().ToString();
  EXPECT_EQ(err->kind, WatchError::Kind::kCompacted);
  EXPECT_EQ(err->revision, 15u);
  q.after_ts = 15;
  auto ok = ReadHistory(reader, q);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(ok->events[0].revision, 20u);
}

TEST(WatchErrorCodec, RoundTripsAndRefusesGarbage) {
  for (WatchError e : {WatchError{WatchError::Kind::kCompacted, 0},
                       WatchError{WatchError::Kind::kResume, 1ull << 60}}) {
    EXPECT_EQ(DecodeWatchError(EncodeWatchError(e)), e);
  }
  std::string bad = EncodeWatchError(WatchError{WatchError::Kind::kResume, 7});
  EXPECT_FALSE(DecodeWatchError(bad + "x").has_value());
  bad[2] = 9;
  EXPECT_FALSE(DecodeWatchError(bad).has_value());
  EXPECT_FALSE(DecodeWatchError("").has_value());
}

// Records what the state machine hands its version observer, and what the
// lock index holds at that moment.
class Recorder final : public VersionObserver {
 public:
  explicit Recorder(const LockIndex* locks) : locks_(locks) {}
  bool WantsVersions() const override { return true; }
  void OnVersions(std::vector<CommittedVersion> versions) override {
    for (CommittedVersion& v : versions) {
      seen.push_back(v.key + "@" + std::to_string(v.record.commit_ts));
      lock_min_then.push_back(locks_->MinStartTs());
    }
  }
  std::vector<std::string> seen;
  std::vector<uint64_t> lock_min_then;

 private:
  const LockIndex* locks_;
};

TEST(MvccStateMachineLocks, TheLockIndexFollowsTheLockFamilyAndIsRebuiltAtOpen) {
  ::tinykv::testing::TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  Recorder rec(&sm->lock_index());
  sm->set_version_observer(&rec);
  EXPECT_EQ(sm->lock_index().MinStartTs(), kMaxTs);
  uint64_t index = 0;
  auto apply = [&](const TxnCommand& c) {
    auto out = sm->Apply(++index, 1, Slice(EncodeTxnCommand(c)));
    ASSERT_TRUE(out.ok() && out->status.ok());
  };
  apply(PrewriteCmd{{Mutation{MutationKind::kPut, "x", "1"}}, "x", 10, 3000});
  apply(
      PrewriteCmd{{Mutation{MutationKind::kPut, "y", "2"}, Mutation{MutationKind::kPut, "z", "3"}},
                  "y",
                  20,
                  3000});
  EXPECT_EQ(sm->lock_index().size(), 3u);
  EXPECT_EQ(sm->lock_index().MinStartTs(), 10u);
  apply(CommitCmd{10, 15, {"x"}});
  EXPECT_EQ(sm->lock_index().MinStartTs(), 20u);
  // The observer saw x@15 while x's lock was still in the index: a watch
  // never sees the lock gone before the version it left.
  ASSERT_EQ(rec.seen, (std::vector<std::string>{"x@15"}));
  EXPECT_EQ(rec.lock_min_then, (std::vector<uint64_t>{10}));

  sm->set_version_observer(nullptr);
  sm.reset();
  sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->lock_index().size(), 2u) << "rebuilt from the lock family";
  EXPECT_EQ(sm->lock_index().MinStartTs(), 20u);
  apply(CommitCmd{20, 25, {"y"}});
  apply(RollbackCmd{20, {"z"}});
  EXPECT_EQ(sm->lock_index().size(), 0u);
  EXPECT_EQ(sm->lock_index().MinStartTs(), kMaxTs);
}

}  // namespace
}  // namespace tinykv::txn
