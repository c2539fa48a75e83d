// Changer: simple changes, joint consensus, learners (etcd confchange tests).
#include "confchange.h"

#include <gtest/gtest.h>

namespace tinykv::raft {
namespace {

ProgressTracker Tracker(const ConfState& cs) {
  ProgressTracker t(256, 0);
  auto r = Changer::Restore(t, 10, cs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  t.config = r->config;
  t.progress = r->progress;
  return t;
}

ConfState Cs(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  ConfState cs;
  cs.voters = std::move(voters);
  cs.learners = std::move(learners);
  return cs;
}

void Apply(ProgressTracker* t, const Result<ConfigAndProgress>& r) {
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  t->config = r->config;
  t->progress = r->progress;
}

TEST(ConfChange, SimpleAddsOneVoterAtATime) {
  ProgressTracker t = Tracker(Cs({1, 2, 3}));
  Changer c(t, 10);
  Apply(&t, c.Simple({{ConfChangeType::kAddNode, 4}}));
  EXPECT_EQ(t.GetConfState().voters, (std::vector<uint64_t>{1, 2, 3, 4}));
  Changer c2(t, 10);
  auto r = c2.Simple({{ConfChangeType::kAddNode, 5}, {ConfChangeType::kAddNode, 6}});
  EXPECT_FALSE(r.ok()) << "two voters at once need joint consensus";
}

TEST(ConfChange, LearnerPromotionAndDemotion) {
  ProgressTracker t = Tracker(Cs({1, 2, 3}));
  Apply(&t, Changer(t, 10).Simple({{ConfChangeType::kAddLearnerNode, 4}}));
  EXPECT_EQ(t.GetConfState().learners, std::vector<uint64_t>{4});
  EXPECT_TRUE(t.progress.at(4).is_learner);
  Apply(&t, Changer(t, 10).Simple({{ConfChangeType::kAddNode, 4}}));
  EXPECT_FALSE(t.progress.at(4).is_learner);
  EXPECT_TRUE(t.GetConfState().learners.empty());
  Apply(&t, Changer(t, 10).Simple({{ConfChangeType::kAddLearnerNode, 2}}));
  EXPECT_EQ(t.GetConfState().voters, (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(t.GetConfState().learners, std::vector<uint64_t>{2});
}

// The replication layer updates a member's address with a conf change that
// re-adds the member in the role it has (its context carries the address):
// the configuration and the member's Progress must come out unchanged.
TEST(ConfChange, ReAddingAMemberInItsRoleChangesNothing) {
  ProgressTracker t = Tracker(Cs({1, 2, 3}, {4}));
  t.progress.at(2).match = 7;
  t.progress.at(2).next = 8;
  t.progress.at(4).match = 5;
  const ConfState before = t.GetConfState();
  Apply(&t, Changer(t, 10).Simple({{ConfChangeType::kAddNode, 2}}));
  Apply(&t, Changer(t, 10).Simple({{ConfChangeType::kAddLearnerNode, 4}}));
  EXPECT_EQ(t.GetConfState(), before);
  EXPECT_EQ(t.progress.at(2).match, 7u);
  EXPECT_EQ(t.progress.at(2).next, 8u);
  EXPECT_FALSE(t.progress.at(2).is_learner);
  EXPECT_EQ(t.progress.at(4).match, 5u);
  EXPECT_TRUE(t.progress.at(4).is_learner);
}

TEST(ConfChange, JointEnterAndLeave) {
  ProgressTracker t = Tracker(Cs({1, 2, 3}));
  Apply(&t, Changer(t, 10).EnterJoint(true, {{ConfChangeType::kAddNode, 4},
                                             {ConfChangeType::kAddNode, 5},
                                             {ConfChangeType::kRemoveNode, 1},
                                             {ConfChangeType::kAddLearnerNode, 2}}));
  ConfState cs = t.GetConfState();
  EXPECT_EQ(cs.voters, (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(cs.voters_outgoing, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(cs.learners_next, std::vector<uint64_t>{2});  // voter until we leave
  EXPECT_TRUE(cs.auto_leave);
  EXPECT_TRUE(t.progress.count(1));  // still needed by the outgoing half
  EXPECT_FALSE(Changer(t, 10).Simple({{ConfChangeType::kAddNode, 6}}).ok());
  EXPECT_FALSE(Changer(t, 10).EnterJoint(false, {}).ok());
  Apply(&t, Changer(t, 10).LeaveJoint());
  cs = t.GetConfState();
  EXPECT_EQ(cs.voters, (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(cs.voters_outgoing.empty());
  EXPECT_EQ(cs.learners, std::vector<uint64_t>{2});
  EXPECT_FALSE(t.progress.count(1));
  EXPECT_FALSE(Changer(t, 10).LeaveJoint().ok());
}

TEST(ConfChange, CannotRemoveAllVoters) {
  ProgressTracker t = Tracker(Cs({1}));
  EXPECT_FALSE(Changer(t, 10).Simple({{ConfChangeType::kRemoveNode, 1}}).ok());
}

TEST(ConfChange, RestoreRoundTripsJointConfState) {
  ConfState cs;
  cs.voters = {3, 4, 5};
  cs.voters_outgoing = {1, 2, 3};
  cs.learners_next = {2};
  cs.learners = {7};
  cs.auto_leave = true;
  ProgressTracker t = Tracker(cs);
  EXPECT_EQ(t.GetConfState(), cs);
}

}  // namespace
}  // namespace tinykv::raft
