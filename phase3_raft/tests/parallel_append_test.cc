// The leader's parallel append (Raft thesis §10.2.1; Config::parallel_leader_append):
// a leader sends its entries to the followers while it is still writing them
// to its own log, and counts itself toward the commit quorum only for entries
// Advance has reported durable. The danger it must avoid: a leader that
// counts an entry it has not stored, hears one follower acknowledge it, and
// so declares it committed although only one server of three holds it; if
// the leader then crashes before its write completes, the other two elect a
// leader without the entry and overwrite it -- a committed (acknowledged)
// write is lost.
//
// The scenario below drives three RawNodes by hand so that the follower's
// acknowledgement reaches the leader between GetReady and Advance (a driver
// whose write is still in flight), then crashes the leader before its write.
// The negative control runs the same with the classic rule (the leader counts
// an entry when it appends it) and the same early send: it must show the
// entry declared committed and then overwritten.
#include <gtest/gtest.h>

#include "raft_test_util.h"

namespace tinykv::raft::testing {
namespace {

void Tweak(bool parallel, Config* c) {
  c->parallel_leader_append = parallel;
  c->pre_vote = false;
  c->check_quorum = false;
}

struct Outcome {
  uint64_t index = 0;              // where the leader put "x"
  bool sent_before_persist = false;
  uint64_t leader_commit = 0;      // the leader's commit index before it crashed
  std::string entry_after;         // node 2's entry at `index` once node 3 leads
};

Outcome CrashBetweenSendAndWrite(bool parallel) {
  Outcome o;
  Network net({1, 2, 3}, [parallel](Config* c) { Tweak(parallel, c); });
  net.Campaign(1);
  TestNode* leader = net.node(1);
  EXPECT_EQ(leader->status().soft_state.role, StateRole::kLeader);

  EXPECT_TRUE(leader->node->Propose("x").ok());
  Ready rd = leader->node->GetReady();
  EXPECT_EQ(rd.entries.size(), 1u);
  if (rd.entries.empty()) return o;
  o.index = rd.entries.back().index;
  o.sent_before_persist = rd.messages_before_persist;
  // The leader's MsgApp reaches node 2 only; node 2 stores it and answers.
  for (const Message& m : rd.messages) {
    if (m.to == 2 && m.type == MessageType::kMsgApp) {
      EXPECT_TRUE(net.node(2)->node->Step(m).ok());
    }
  }
  for (const Message& m : net.node(2)->Persist()) {
    // The answer arrives while the leader's own write is still in flight.
    if (m.to == 1) {
      EXPECT_TRUE(leader->node->Step(m).ok());
    }
  }
  o.leader_commit = leader->status().hard_state.commit;

  // Power cut on the leader before its write: it restarts from what it stored.
  leader->node.reset();
  Config c = TestConfig(1, leader->storage.get());
  Tweak(parallel, &c);
  auto restarted = RawNode::Create(c);
  EXPECT_TRUE(restarted.ok()) << restarted.status().ToString();
  leader->node = std::move(restarted).value();

  // Node 3 (which never saw "x") campaigns; node 1 votes for it, its log being
  // no longer than 3's; node 3's first entry replaces "x" on node 2.
  net.Campaign(3);
  EXPECT_EQ(net.node(3)->status().soft_state.role, StateRole::kLeader);
  auto e = net.node(2)->storage->Entries(o.index, o.index + 1, kNoLimit);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (e.ok() && !e->empty()) o.entry_after = e->front().data;
  return o;
}

TEST(ParallelAppendSafety, LeaderCrashBetweenSendAndWriteCommitsNothingItMayLose) {
  const Outcome o = CrashBetweenSendAndWrite(/*parallel=*/true);
  EXPECT_TRUE(o.sent_before_persist) << "a steady leader's append may be sent before its write";
  // One durable copy (node 2) of three is not a majority: not committed.
  EXPECT_LT(o.leader_commit, o.index);
  // So losing it is allowed, and it is what happens.
  EXPECT_NE(o.entry_after, "x");
}

TEST(ParallelAppendSafety, NegativeControlCountingTheLeaderBeforeItsWriteLosesACommit) {
  // The classic rule with the early send: the leader counts "x" before it is
  // durable, declares it committed with node 2's answer, then loses it.
  const Outcome o = CrashBetweenSendAndWrite(/*parallel=*/false);
  EXPECT_EQ(o.leader_commit, o.index) << "the unsafe leader declares the entry committed";
  EXPECT_NE(o.entry_after, "x") << "and the committed entry is overwritten after its crash";
}

// The normal path: the followers' answers arrive during the leader's write;
// the entry commits at the leader's Advance, when its own copy is durable.
TEST(ParallelAppendSafety, EntryCommitsWhenTheLeaderWriteCompletes) {
  Network net({1, 2, 3}, [](Config* c) { Tweak(true, c); });
  net.Campaign(1);
  TestNode* leader = net.node(1);
  ASSERT_TRUE(leader->node->Propose("x").ok());
  Ready rd = leader->node->GetReady();
  ASSERT_TRUE(rd.messages_before_persist);
  const uint64_t index = rd.entries.back().index;
  for (const Message& m : rd.messages) {
    if (m.type != MessageType::kMsgApp) continue;
    TestNode* f = net.node(m.to);
    ASSERT_TRUE(f->node->Step(m).ok());
    for (const Message& r : f->Persist()) ASSERT_TRUE(leader->node->Step(r).ok());
  }
  // Both followers hold it durably: that is a majority without the leader.
  EXPECT_EQ(leader->status().hard_state.commit, index);
  ASSERT_TRUE(leader->storage->Append(rd.entries).ok());
  if (rd.hard_state) leader->storage->SetHardState(*rd.hard_state);
  leader->node->Advance(rd);
  leader->Persist();
  ASSERT_FALSE(leader->applied.empty());
  EXPECT_EQ(leader->applied.back().data, "x");
}

// A single voter is its own quorum: its entries commit at Advance, once durable.
TEST(ParallelAppendSafety, SingleVoterCommitsAtAdvance) {
  auto n = NewTestNode(1, {1}, [](Config* c) { Tweak(true, c); });
  ASSERT_TRUE(n->node->Campaign().ok());
  n->Persist();
  ASSERT_EQ(n->status().soft_state.role, StateRole::kLeader);
  ASSERT_TRUE(n->node->Propose("x").ok());
  Ready rd = n->node->GetReady();
  const uint64_t index = rd.entries.back().index;
  EXPECT_LT(rd.hard_state ? rd.hard_state->commit : n->status().hard_state.commit, index)
      << "not committed before it is durable";
  ASSERT_TRUE(n->storage->Append(rd.entries).ok());
  if (rd.hard_state) n->storage->SetHardState(*rd.hard_state);
  n->node->Advance(rd);
  EXPECT_EQ(n->status().hard_state.commit, index);
  n->Persist();
  ASSERT_FALSE(n->applied.empty());
  EXPECT_EQ(n->applied.back().data, "x");
}

// Only a leader that keeps its term and vote may send first: a campaign's
// Ready (a new term, a vote for itself) must be durable before its requests.
TEST(ParallelAppendSafety, CampaignReadyIsPersistedBeforeItsVoteRequests) {
  auto n = NewTestNode(1, {1, 2, 3}, [](Config* c) { Tweak(true, c); });
  ASSERT_TRUE(n->node->Campaign().ok());
  Ready rd = n->node->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_FALSE(Filter(rd.messages, MessageType::kMsgVote).empty());
  EXPECT_FALSE(rd.messages_before_persist);
}

}  // namespace
}  // namespace tinykv::raft::testing
