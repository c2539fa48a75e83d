// RaftLog (etcd log_test.go): append, conflicts, commit rules, backtracking hints.
#include "raft_log.h"

#include <gtest/gtest.h>

namespace tinykv::raft {
namespace {

std::vector<Entry> Ents(std::initializer_list<std::pair<uint64_t, uint64_t>> it) {
  std::vector<Entry> out;
  for (auto [i, t] : it) out.push_back(Entry{t, i, EntryType::kNormal, {}});
  return out;
}

TEST(RaftLog, FindConflict) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_EQ(log.FindConflict(Ents({{1, 1}, {2, 2}})), 0u);
  EXPECT_EQ(log.FindConflict(Ents({{2, 2}, {3, 3}, {4, 4}})), 4u);  // new entry
  EXPECT_EQ(log.FindConflict(Ents({{2, 2}, {3, 4}})), 3u);          // term conflict
}

TEST(RaftLog, MaybeAppendTruncatesConflictsAndAdvancesCommit) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_FALSE(log.MaybeAppend(3, 2, 3, Ents({{4, 4}})).has_value());  // prev term mismatch
  auto last = log.MaybeAppend(2, 2, 3, Ents({{3, 4}, {4, 4}}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 4u);
  EXPECT_EQ(*log.Term(3), 4u);
  EXPECT_EQ(log.committed(), 3u);
  // Commit never exceeds the last new entry.
  log.MaybeAppend(4, 4, 100, {});
  EXPECT_EQ(log.committed(), 4u);
}

TEST(RaftLog, MaybeCommitOnlyCurrentTerm) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_FALSE(log.MaybeCommit(2, 3));  // entry 2 is from term 2, leader is in term 3
  EXPECT_EQ(log.committed(), 0u);
  EXPECT_TRUE(log.MaybeCommit(3, 3));
  EXPECT_EQ(log.committed(), 3u);
}

TEST(RaftLog, FindConflictByTermSkipsWholeTerms) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 1}, {3, 4}, {4, 4}, {5, 4}, {6, 6}}));
  EXPECT_EQ(log.FindConflictByTerm(6, 5), (std::pair<uint64_t, uint64_t>{5, 4}));
  EXPECT_EQ(log.FindConflictByTerm(5, 2), (std::pair<uint64_t, uint64_t>{2, 1}));
  EXPECT_EQ(log.FindConflictByTerm(5, 0), (std::pair<uint64_t, uint64_t>{0, 0}));
}

TEST(RaftLog, StableToAndUnstable) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 1}}));
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
  ASSERT_TRUE(s.Append(log.UnstableEntries()).ok());
  log.StableTo(2, 1);
  EXPECT_TRUE(log.UnstableEntries().empty());
  EXPECT_EQ(log.LastIndex(), 2u);
  // A stale stable notification (term changed) is ignored.
  log.Append(Ents({{2, 2}}));
  log.StableTo(2, 1);
  EXPECT_EQ(log.UnstableEntries().size(), 1u);
}

TEST(RaftLog, IsUpToDate) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 2}, {3, 3}}));
  EXPECT_TRUE(log.IsUpToDate(3, 3));
  EXPECT_TRUE(log.IsUpToDate(1, 4));   // higher last term wins
  EXPECT_FALSE(log.IsUpToDate(5, 2));  // longer but older term loses
  EXPECT_FALSE(log.IsUpToDate(2, 3));
}

TEST(RaftLog, RestoreFromSnapshot) {
  MemoryStorage s;
  RaftLog log(&s, 0);
  log.Append(Ents({{1, 1}, {2, 1}}));
  Snapshot snap;
  snap.metadata.index = 10;
  snap.metadata.term = 3;
  log.Restore(snap);
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.LastIndex(), 10u);
  EXPECT_EQ(log.FirstIndex(), 11u);
  EXPECT_EQ(*log.Term(10), 3u);
  EXPECT_TRUE(log.HasPendingSnapshot());
}

}  // namespace
}  // namespace tinykv::raft
