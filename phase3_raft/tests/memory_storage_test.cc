// MemoryStorage (etcd storage_test.go).
#include <gtest/gtest.h>

#include "tinykv/raft/storage.h"

namespace tinykv::raft {
namespace {

std::vector<Entry> Ents(std::initializer_list<std::pair<uint64_t, uint64_t>> it) {
  std::vector<Entry> out;
  for (auto [i, t] : it) out.push_back(Entry{t, i, EntryType::kNormal, {}});
  return out;
}

void Make345(MemoryStorage& s) {
  Snapshot snap;
  snap.metadata.index = 3;
  snap.metadata.term = 3;
  EXPECT_TRUE(s.ApplySnapshot(snap).ok());
  EXPECT_TRUE(s.Append(Ents({{4, 4}, {5, 5}})).ok());
}

TEST(MemoryStorage, TermAndBounds) {
  MemoryStorage s;
  Make345(s);
  EXPECT_TRUE(IsCompacted(s.Term(2).status()));
  EXPECT_EQ(*s.Term(3), 3u);
  EXPECT_EQ(*s.Term(5), 5u);
  EXPECT_TRUE(s.Term(6).status().IsUnavailable());
  EXPECT_EQ(s.FirstIndex(), 4u);
  EXPECT_EQ(s.LastIndex(), 5u);
}

TEST(MemoryStorage, EntriesRespectsMaxSizeButReturnsAtLeastOne) {
  MemoryStorage s;
  Make345(s);
  EXPECT_TRUE(IsCompacted(s.Entries(3, 5, kNoLimit).status()));
  EXPECT_EQ(s.Entries(4, 6, kNoLimit)->size(), 2u);
  EXPECT_EQ(s.Entries(4, 6, 0)->size(), 1u);
}

TEST(MemoryStorage, AppendTruncatesConflictingSuffix) {
  MemoryStorage s;
  Make345(s);
  ASSERT_TRUE(s.Append(Ents({{4, 6}, {5, 6}, {6, 6}})).ok());
  EXPECT_EQ(*s.Term(4), 6u);
  EXPECT_EQ(s.LastIndex(), 6u);
  ASSERT_TRUE(s.Append(Ents({{2, 3}, {3, 3}, {4, 7}})).ok());  // overlaps the snapshot
  EXPECT_EQ(*s.Term(4), 7u);
  EXPECT_EQ(s.LastIndex(), 4u);
  EXPECT_FALSE(s.Append(Ents({{9, 9}})).ok());  // a gap
}

TEST(MemoryStorage, CompactAndSnapshot) {
  MemoryStorage s;
  Make345(s);
  EXPECT_TRUE(IsCompacted(s.Compact(3)));
  ASSERT_TRUE(s.Compact(4).ok());
  EXPECT_EQ(s.FirstIndex(), 5u);
  EXPECT_EQ(*s.Term(4), 4u);
  ConfState cs;
  cs.voters = {1, 2, 3};
  auto snap = s.CreateSnapshot(5, cs, "data");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.term, 5u);
  EXPECT_FALSE(s.CreateSnapshot(4, cs, "old").ok());
  EXPECT_EQ(s.GetInitialState()->conf_state, cs);
  Snapshot older;
  older.metadata.index = 2;
  EXPECT_FALSE(s.ApplySnapshot(older).ok());
}

}  // namespace
}  // namespace tinykv::raft
