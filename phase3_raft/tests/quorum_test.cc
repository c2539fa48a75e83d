// Majority and joint quorums.
#include "quorum.h"

#include <gtest/gtest.h>

namespace tinykv::raft {
namespace {

AckedIndexer Acks(std::map<uint64_t, uint64_t> m) {
  return [m](uint64_t id, uint64_t* idx) {
    auto it = m.find(id);
    if (it == m.end()) return false;
    *idx = it->second;
    return true;
  };
}

TEST(Quorum, MajorityCommittedIndexIsTheMedianAck) {
  MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.CommittedIndex(Acks({{1, 5}, {2, 3}, {3, 9}})), 5u);
  EXPECT_EQ(c.CommittedIndex(Acks({{1, 5}})), 0u);
  EXPECT_EQ(MajorityConfig({1, 2, 3, 4}).CommittedIndex(Acks({{1, 5}, {2, 6}, {3, 7}, {4, 1}})),
            5u);
  EXPECT_EQ(MajorityConfig().CommittedIndex(Acks({})), std::numeric_limits<uint64_t>::max());
}

TEST(Quorum, JointCommitIsTheMinimumOfBothHalves) {
  JointConfig j{MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5})};
  EXPECT_EQ(j.CommittedIndex(Acks({{1, 9}, {2, 9}, {3, 2}, {4, 3}, {5, 3}})), 3u);
  JointConfig simple{MajorityConfig({1, 2, 3}), MajorityConfig()};
  EXPECT_EQ(simple.CommittedIndex(Acks({{1, 9}, {2, 9}, {3, 2}})), 9u);
}

TEST(Quorum, VoteResults) {
  MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.Vote({{1, true}}), VoteResult::kPending);
  EXPECT_EQ(c.Vote({{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(c.Vote({{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  JointConfig j{MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5})};
  EXPECT_EQ(j.Vote({{1, true}, {2, true}}), VoteResult::kPending);  // outgoing undecided
  EXPECT_EQ(j.Vote({{1, true}, {2, true}, {4, true}, {5, true}}), VoteResult::kWon);
  EXPECT_EQ(j.Vote({{1, true}, {2, true}, {4, false}, {5, false}}), VoteResult::kLost);
}

}  // namespace
}  // namespace tinykv::raft
