// Raft beyond the paper's core rules: pre-vote, check-quorum, flow control,
// the uncommitted cap, snapshots, membership, leader transfer and reads.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <optional>
#include <sstream>

#include "raft_test_util.h"
#include "tinykv/common/logging.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft::testing {
namespace {

StateRole Role(TestNode* n) { return n->status().soft_state.role; }
uint64_t Term(TestNode* n) { return n->status().hard_state.term; }

uint64_t ElectLeader(Network& net, uint64_t id) {
  net.Campaign(id);
  EXPECT_EQ(Role(net.node(id)), StateRole::kLeader);
  return id;
}

TEST(RaftElection, PreVoteDoesNotIncrementTermWhenItCannotWin) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  const uint64_t term = Term(net.node(1));
  net.Isolate(3);
  net.Campaign(3);
  EXPECT_EQ(Role(net.node(3)), StateRole::kPreCandidate);
  EXPECT_EQ(Term(net.node(3)), term);
  net.Recover();
  net.TickAll(1);
  EXPECT_EQ(Role(net.node(1)), StateRole::kLeader);
  EXPECT_EQ(Term(net.node(1)), term);
}

TEST(RaftElection, CheckQuorumLeaseIgnoresDisruptiveVotes) {
  Network net({1, 2, 3}, [](Config* c) { c->pre_vote = false; });
  ElectLeader(net, 1);
  // Node 3 campaigns with a higher term; 2 (which hears from the leader)
  // ignores it, so the leader survives.
  net.Cut(1, 3);
  net.Campaign(3);
  EXPECT_EQ(Role(net.node(1)), StateRole::kLeader);
  EXPECT_EQ(Role(net.node(2)), StateRole::kFollower);
  EXPECT_EQ(net.node(2)->status().soft_state.lead, 1u);
}

TEST(RaftElection, CheckQuorumLeaderStepsDownWithoutMajority) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(1);
  for (int i = 0; i < 2 * 10 + 1; ++i) net.Tick(1);
  EXPECT_EQ(Role(net.node(1)), StateRole::kFollower);
}

TEST(RaftElection, ReadyAfterElectionCarriesSoftStateChange) {
  auto n = NewTestNode(1, {1});
  ASSERT_TRUE(n->node->Campaign().ok());
  Ready rd = n->node->GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, StateRole::kLeader);
  EXPECT_EQ(rd.entries.size(), 1u);  // the no-op
  n->node->Advance(rd);
}

TEST(RaftReplication, BatchesProposalsIntoOneMsgAppPerFollower) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(net.node(1)->node->Propose("e" + std::to_string(i)).ok());
  auto out = net.node(1)->Persist();
  auto apps = Filter(out, MessageType::kMsgApp);
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].entries.size(), 20u);
}

TEST(RaftFlowControl, InflightWindowBoundsMessagesAndBytes) {
  Network net({1, 2}, [](Config* c) {
    c->max_inflight_msgs = 3;
    c->max_msg_bytes = 1;  // one entry per MsgApp
  });
  ElectLeader(net, 1);
  net.delivered.clear();
  net.drop_if = [](const Message& m) { return m.type == MessageType::kMsgAppResp; };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.node(1)->node->Propose("x").ok());
  net.Stabilize();
  int apps = 0;
  for (const auto& m : net.delivered) apps += m.type == MessageType::kMsgApp && !m.entries.empty();
  EXPECT_EQ(apps, 3) << "window of 3 messages";
  // Byte bound: 2 KiB window with 1 KiB entries.
  Network net2({1, 2}, [](Config* c) {
    c->max_inflight_msgs = 100;
    c->max_inflight_bytes = 2048;
    c->max_msg_bytes = 1;
  });
  ElectLeader(net2, 1);
  net2.delivered.clear();
  net2.drop_if = [](const Message& m) { return m.type == MessageType::kMsgAppResp; };
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(net2.node(1)->node->Propose(std::string(1024, 'b')).ok());
  net2.Stabilize();
  apps = 0;
  for (const auto& m : net2.delivered) apps += m.type == MessageType::kMsgApp && !m.entries.empty();
  EXPECT_EQ(apps, 2) << "window of 2 KiB";
}

TEST(RaftFlowControl, UncommittedTailIsCappedAndFreedOnCommit) {
  Network net({1, 2, 3}, [](Config* c) { c->max_uncommitted_bytes = 100; });
  ElectLeader(net, 1);
  net.Isolate(1);
  int ok = 0;
  Status last;
  for (int i = 0; i < 10; ++i) {
    last = net.node(1)->node->Propose(std::string(30, 'u'));
    if (last.ok()) ++ok;
  }
  EXPECT_EQ(ok, 3);  // 30, 60, 90 bytes fit; a 4th (120 > 100) is refused
  EXPECT_TRUE(last.IsResourceExhausted()) << last.ToString();
  net.Recover();
  net.TickAll(2);
  EXPECT_TRUE(net.node(1)->node->Propose(std::string(30, 'u')).ok());
}

TEST(RaftReplication, FastBacktrackingSkipsAWholeConflictingTerm) {
  // Follower has 50 entries of term 2 after index 1; the leader has 50 of term 3.
  std::vector<uint64_t> flog{1}, llog{1};
  for (int i = 0; i < 50; ++i) {
    flog.push_back(2);
    llog.push_back(3);
  }
  auto leader = NodeWithLog(1, {1, 2, 3}, llog, 3);
  auto follower = NodeWithLog(2, {1, 2, 3}, flog, 3);
  auto helper = NodeWithLog(3, {1, 2, 3}, llog, 3);
  std::map<uint64_t, TestNode*> nodes{{1, leader.get()}, {2, follower.get()}, {3, helper.get()}};
  ASSERT_TRUE(leader->node->Campaign().ok());
  int rejects = 0;
  std::vector<Message> q;
  for (int iter = 0; iter < 1000; ++iter) {
    for (auto& [id, nd] : nodes) {
      for (auto& m : nd->Persist()) q.push_back(std::move(m));
    }
    if (q.empty()) break;
    auto batch = std::move(q);
    q.clear();
    for (const auto& m : batch) {
      if (m.type == MessageType::kMsgAppResp && m.reject && m.from == 2) ++rejects;
      nodes.at(m.to)->node->Step(m).IgnoreError();
    }
  }
  EXPECT_EQ(follower->status().last_index, leader->status().last_index);
  EXPECT_LE(rejects, 2) << "one index per rejection would take ~50";
}

TEST(RaftSnapshot, LaggingFollowerGetsSnapshotOnceAndResumesReplication) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.node(1)->node->Propose("s").ok());
  net.Stabilize();
  TestNode* l = net.node(1);
  const uint64_t applied = l->status().applied;
  ConfState cs = l->status().conf_state;
  ASSERT_TRUE(l->storage->CreateSnapshot(applied, cs, "image").ok());
  ASSERT_TRUE(l->storage->Compact(applied).ok());
  net.Recover();
  net.TickAll(3);
  EXPECT_EQ(net.counts["MsgSnap"], 1);
  EXPECT_EQ(net.node(3)->status().last_index, l->status().last_index);
  EXPECT_EQ(net.node(3)->storage->GetSnapshot()->data, "image");
  ASSERT_TRUE(l->node->Propose("after").ok());
  net.Stabilize();
  EXPECT_EQ(net.node(3)->applied.back().data, "after");
  EXPECT_EQ(net.counts["MsgSnap"], 1);
}

// A snapshot that takes long to arrive and apply (here: held back for many
// heartbeat rounds while the follower keeps answering heartbeats) is not
// resent: the Progress stays in StateSnapshot until the outcome is known.
TEST(RaftSnapshot, SlowSnapshotIsNotResent) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.node(1)->node->Propose("s").ok());
  net.Stabilize();
  TestNode* l = net.node(1);
  const uint64_t applied = l->status().applied;
  ASSERT_TRUE(l->storage->CreateSnapshot(applied, l->status().conf_state, "image").ok());
  ASSERT_TRUE(l->storage->Compact(applied).ok());
  net.Recover();
  std::vector<Message> held;
  net.drop_if = [&](const Message& m) {
    if (m.type != MessageType::kMsgSnap) return false;
    held.push_back(m);
    return true;
  };
  for (int i = 0; i < 50; ++i) net.TickAll(1);  // 50 heartbeat rounds
  ASSERT_EQ(held.size(), 1u) << "snapshot resent while the first is still in flight";
  bool in_snapshot_state = false;
  for (const auto& pr : l->status().progress) {
    if (pr.id == 3) in_snapshot_state = pr.state == ProgressStateType::kSnapshot;
  }
  EXPECT_TRUE(in_snapshot_state);
  net.drop_if = nullptr;
  net.Send(held[0]);
  l->node->ReportSnapshot(3, /*failed=*/false);
  net.TickAll(2);
  EXPECT_EQ(net.node(3)->status().last_index, l->status().last_index);
}

TEST(RaftSnapshot, DuplicateSnapshotIsAnsweredNotReinstalled) {
  auto n = NodeWithLog(2, {1, 2, 3}, {1, 1, 1}, 1, 0, 3);
  Message m = Msg(MessageType::kMsgSnap, 1, 2, 1);
  m.snapshot.metadata.index = 2;
  m.snapshot.metadata.term = 1;
  m.snapshot.metadata.conf_state.voters = {1, 2, 3};
  ASSERT_TRUE(n->node->Step(m).ok());
  auto resp = Filter(n->Persist(), MessageType::kMsgAppResp);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_FALSE(resp[0].reject);
  EXPECT_EQ(resp[0].index, 3u);  // our commit index: the leader moves on
  EXPECT_EQ(n->status().last_index, 3u);
}

TEST(RaftMembership, LearnerReceivesEntriesButDoesNotVoteOrCampaign) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kAddLearnerNode, 3}};
  ASSERT_TRUE(net.node(1)->node->ProposeConfChange(cc).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1)->status().conf_state.learners, std::vector<uint64_t>{3});
  EXPECT_EQ(net.node(3)->status().conf_state.learners, std::vector<uint64_t>{3});
  for (int i = 0; i < 100; ++i) net.node(3)->node->Tick();
  EXPECT_EQ(Role(net.node(3)), StateRole::kFollower);
  // The leader does not count the learner: with 2 down, 1 voter of 2 cannot commit.
  net.Isolate(2);
  ASSERT_TRUE(net.node(1)->node->Propose("no quorum").ok());
  net.Stabilize();
  EXPECT_NE(net.node(1)->applied.back().data, "no quorum");
}

TEST(RaftMembership, SecondChangeIsRefusedWhileOneIsPending) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(1);
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kAddLearnerNode, 4}};
  ASSERT_TRUE(net.node(1)->node->ProposeConfChange(cc).ok());
  EXPECT_TRUE(net.node(1)->node->ProposeConfChange(cc).IsBusy());
}

TEST(RaftMembership, RemovedLeaderStepsDown) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kRemoveNode, 1}};
  ASSERT_TRUE(net.node(1)->node->ProposeConfChange(cc).ok());
  net.Stabilize();
  EXPECT_EQ(Role(net.node(1)), StateRole::kFollower);
  EXPECT_EQ(net.node(2)->status().conf_state.voters, (std::vector<uint64_t>{2, 3}));
}

TEST(RaftMembership, JointConfigIsLeftAutomatically) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kRemoveNode, 2}, {ConfChangeType::kAddLearnerNode, 3}};
  ASSERT_TRUE(net.node(1)->node->ProposeConfChange(cc).ok());
  net.Stabilize();
  ConfState cs = net.node(1)->status().conf_state;
  EXPECT_TRUE(cs.voters_outgoing.empty());
  EXPECT_EQ(cs.voters, std::vector<uint64_t>{1});
  EXPECT_EQ(cs.learners, std::vector<uint64_t>{3});
}

TEST(RaftTransfer, TransferToUpToDateFollowerSendsTimeoutNow) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.node(1)->node->TransferLeader(2);
  net.Stabilize();
  EXPECT_EQ(net.counts["MsgTimeoutNow"], 1);
  EXPECT_EQ(Role(net.node(2)), StateRole::kLeader);
  EXPECT_EQ(Role(net.node(1)), StateRole::kFollower);
}

TEST(RaftTransfer, TransferIsAbortedAfterElectionTimeout) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(3);
  net.node(1)->node->TransferLeader(3);
  net.Stabilize();
  EXPECT_TRUE(net.node(1)->node->Propose("x").IsAborted());
  EXPECT_EQ(net.node(1)->status().lead_transferee, 3u);
  for (int i = 0; i < 10; ++i) net.Tick(1);
  EXPECT_EQ(net.node(1)->status().lead_transferee, 0u);
  EXPECT_TRUE(net.node(1)->node->Propose("x").ok());
}

TEST(RaftRead, ReadIndexConfirmedByHeartbeatQuorum) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.node(1)->node->ReadIndex("r1");
  net.Stabilize();
  ASSERT_EQ(net.node(1)->reads.size(), 1u);
  EXPECT_EQ(net.node(1)->reads[0].request_ctx, "r1");
  EXPECT_EQ(net.node(1)->reads[0].index, net.node(1)->status().hard_state.commit);
  // From a follower: forwarded.
  net.node(2)->node->ReadIndex("r2");
  net.Stabilize();
  ASSERT_EQ(net.node(2)->reads.size(), 1u);
  EXPECT_EQ(net.node(2)->reads[0].request_ctx, "r2");
}

TEST(RaftRead, NewLeaderHoldsReadUntilItsTermCommitsAndFailsItOnStepDown) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  net.Isolate(1);
  net.node(1)->node->ReadIndex("held");
  net.Stabilize();
  EXPECT_TRUE(net.node(1)->reads.empty());   // no heartbeat quorum
  for (int i = 0; i < 21; ++i) net.Tick(1);  // check-quorum: steps down
  EXPECT_EQ(Role(net.node(1)), StateRole::kFollower);
  ASSERT_EQ(net.node(1)->failed_reads.size(), 1u);
  EXPECT_EQ(net.node(1)->failed_reads[0], "held");
  // A follower with no leader fails a read at once.
  auto lone = NewTestNode(9, {9, 8});
  lone->node->ReadIndex("nobody");
  lone->Persist();
  ASSERT_EQ(lone->failed_reads.size(), 1u);
}

TEST(RaftRead, LeaseReadAnswersLocally) {
  Network net({1, 2, 3}, [](Config* c) { c->read_only_option = ReadOnlyOption::kLeaseBased; });
  ElectLeader(net, 1);
  net.delivered.clear();
  net.node(1)->node->ReadIndex("lease");
  net.Stabilize();
  ASSERT_EQ(net.node(1)->reads.size(), 1u);
  EXPECT_TRUE(net.delivered.empty());
  Config bad = TestConfig(1, net.node(1)->storage.get());
  bad.read_only_option = ReadOnlyOption::kLeaseBased;
  bad.check_quorum = false;
  EXPECT_TRUE(bad.Validate().IsInvalidArgument());
}

// A lease ends lease_ticks after the last messages a quorum acknowledged:
// an isolated leader soon needs a heartbeat round again (which cannot
// succeed), so it answers nothing.
TEST(RaftRead, LeaseExpiresWithoutAcknowledgements) {
  Network net({1, 2, 3}, [](Config* c) { c->read_only_option = ReadOnlyOption::kLeaseBased; });
  ElectLeader(net, 1);
  net.Isolate(1);
  net.node(1)->node->ReadIndex("in-lease");
  net.Stabilize();
  ASSERT_EQ(net.node(1)->reads.size(), 1u) << "acknowledged at tick 0: within the lease";
  for (int i = 0; i < 9; ++i) net.Tick(1);  // the default lease: election_tick - 1 = 9 ticks
  net.node(1)->node->ReadIndex("expired");
  net.Stabilize();
  EXPECT_EQ(net.node(1)->reads.size(), 1u) << "the lease expired: a round is needed";
  net.Recover();
  net.Tick(1);  // the next heartbeat carries the read's context; its answers renew the lease
  ASSERT_EQ(net.node(1)->reads.size(), 2u);
  EXPECT_EQ(net.node(1)->reads[1].request_ctx, "expired");
  net.delivered.clear();
  net.node(1)->node->ReadIndex("renewed");
  net.Stabilize();
  EXPECT_EQ(net.node(1)->reads.size(), 3u);
  EXPECT_TRUE(net.delivered.empty()) << "answered from the renewed lease";
}

// The old leader is partitioned away; the others elect a new leader, which
// commits a write; the old leader has not noticed yet (check-quorum steps it
// down only later). Returns the read index the old leader answers a read
// with (nullopt: none), and the new leader's commit index.
std::pair<std::optional<uint64_t>, uint64_t> ReadOnPartitionedOldLeader(int lease_ticks) {
  Network net({1, 2, 3}, [lease_ticks](Config* c) {
    c->read_only_option = ReadOnlyOption::kLeaseBased;
    c->lease_ticks = lease_ticks;
  });
  ElectLeader(net, 1);
  net.Isolate(1);
  uint64_t new_leader = 0;
  for (int i = 0; i < 40 && new_leader == 0; ++i) {
    net.TickAll(1);
    for (uint64_t id : {2, 3}) {
      if (Role(net.node(id)) == StateRole::kLeader) new_leader = id;
    }
  }
  EXPECT_NE(new_leader, 0u) << "nodes 2 and 3 elect a leader";
  if (new_leader == 0) return {std::nullopt, 0};
  EXPECT_TRUE(net.node(new_leader)->node->Propose("y").ok());
  net.Stabilize();
  const uint64_t committed = net.node(new_leader)->status().hard_state.commit;
  EXPECT_EQ(Role(net.node(1)), StateRole::kLeader) << "the old leader must not have noticed yet";
  net.node(1)->node->ReadIndex("old");
  net.Stabilize();
  if (net.node(1)->reads.empty()) return {std::nullopt, committed};
  return {net.node(1)->reads.back().index, committed};
}

TEST(RaftRead, PartitionedOldLeaderServesNoLeaseReadOnceANewLeaderCanExist) {
  auto [read, committed] = ReadOnPartitionedOldLeader(0);  // the default: election_tick - 1
  EXPECT_FALSE(read.has_value()) << "answered at index " << *read << " while the new leader "
                                 << "had committed " << committed;
}

TEST(RaftRead, NegativeControlALeaseLongerThanTheElectionTimeoutServesAStaleRead) {
  // Lease five election timeouts long: the old leader answers from its own
  // commit index, which misses the new leader's write -- a stale read, the
  // real-time order violation a linearizability checker reports.
  auto [read, committed] = ReadOnPartitionedOldLeader(50);
  ASSERT_TRUE(read.has_value());
  EXPECT_LT(*read, committed);
}

// A leadership transfer suspends the lease: its target campaigns with votes
// that ignore the followers' leases.
TEST(RaftRead, LeaderTransferSuspendsTheLease) {
  Network net({1, 2, 3}, [](Config* c) { c->read_only_option = ReadOnlyOption::kLeaseBased; });
  ElectLeader(net, 1);
  // Node 3 cannot be reached: the transfer to it stays pending.
  net.Isolate(3);
  net.node(1)->node->TransferLeader(3);
  net.Stabilize();
  ASSERT_EQ(net.node(1)->status().lead_transferee, 3u);
  net.delivered.clear();
  net.node(1)->node->ReadIndex("during-transfer");
  net.Stabilize();
  EXPECT_FALSE(net.delivered.empty()) << "not answered from the lease: a heartbeat round";
}

TEST(RaftNode, RestartRestoresTermVoteAndLog) {
  Network net({1, 2, 3});
  ElectLeader(net, 1);
  ASSERT_TRUE(net.node(1)->node->Propose("p").ok());
  net.Stabilize();
  TestNode* n = net.node(2);
  const NodeStatus before = n->status();
  Config c = TestConfig(2, n->storage.get());
  auto rn = RawNode::Create(c);
  ASSERT_TRUE(rn.ok());
  const NodeStatus after = (*rn)->GetStatus();
  EXPECT_EQ(after.hard_state, before.hard_state);
  EXPECT_EQ(after.last_index, before.last_index);
  EXPECT_EQ(after.conf_state, before.conf_state);
}

// docs/style.md, "Logs": transitions are logged in one stable, greppable form.
TEST(RaftNode, LogsTransitionsInStableForm) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  auto logger = logging::Get("raft");
  logger->sinks().push_back(sink);
  auto n = NewTestNode(1, {1, 2, 3}, [](Config* c) {
    c->log_transitions = true;
    c->pre_vote = false;
  });
  ASSERT_TRUE(n->node->Campaign().ok());
  ASSERT_TRUE(n->node->Step(Msg(MessageType::kMsgVoteResp, 2, 1, 2)).ok());
  auto voter = NewTestNode(3, {1, 2, 3}, [](Config* c) { c->log_transitions = true; });
  Message v = Msg(MessageType::kMsgVote, 1, 3, 2);
  v.index = 1;
  v.log_term = 1;
  ASSERT_TRUE(voter->node->Step(v).ok());
  logger->flush();
  logger->sinks().pop_back();
  const std::string log = out.str();
  EXPECT_NE(log.find("node=1 term=2 became candidate"), std::string::npos) << log;
  EXPECT_NE(log.find("node=1 term=2 became leader"), std::string::npos) << log;
  EXPECT_NE(log.find("node=3 term=2 voted for 1"), std::string::npos) << log;
}

TEST(RaftNode, StepRefusesLocalMessagesAndUnknownPeers) {
  auto n = NewTestNode(1, {1, 2, 3});
  EXPECT_TRUE(n->node->Step(Msg(MessageType::kMsgHup, 1, 1, 0)).IsInvalidArgument());
  EXPECT_TRUE(n->node->Step(Msg(MessageType::kMsgAppResp, 9, 1, 1)).IsNotFound());
  Config c;
  EXPECT_TRUE(c.Validate().IsInvalidArgument());
}

}  // namespace
}  // namespace tinykv::raft::testing
