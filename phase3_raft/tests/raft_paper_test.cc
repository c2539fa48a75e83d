// One test per rule of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", 2014), named after its section, in the
// manner of etcd-io/raft's raft_paper_test.go. Each test: init, step, check.
// These tests run classic Raft (no pre-vote, no check-quorum) unless noted.
#include <gtest/gtest.h>

#include <set>

#include "raft_test_util.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft::testing {
namespace {

StateRole Role(TestNode* n) { return n->status().soft_state.role; }
uint64_t Term(TestNode* n) { return n->status().hard_state.term; }
uint64_t Commit(TestNode* n) { return n->status().hard_state.commit; }

void TickN(TestNode* n, int k) {
  for (int i = 0; i < k; ++i) n->node->Tick();
}

// Makes n the leader of term `term` in a 3-node cluster by stepping vote grants.
void MakeLeader(TestNode* n, uint64_t voter) {
  ASSERT_TRUE(n->node->Campaign().ok());
  n->Persist();
  Message grant = Msg(MessageType::kMsgVoteResp, voter, n->id, Term(n));
  ASSERT_TRUE(n->node->Step(grant).ok());
  ASSERT_EQ(Role(n), StateRole::kLeader);
  n->Persist();
}

// ---- §5.1 ----------------------------------------------------------------------

// §5.1: if a server's current term is smaller than another's, it updates its
// term to the larger value; a candidate or leader then reverts to follower.
TEST(RaftPaperTerm, UpdateTermFromMessage) {
  for (int role = 0; role < 3; ++role) {
    auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
    if (role >= 1) {
      ASSERT_TRUE(n->node->Campaign().ok());
    }
    if (role == 2) {
      ASSERT_TRUE(n->node->Step(Msg(MessageType::kMsgVoteResp, 2, 1, 1)).ok());
    }
    ASSERT_TRUE(n->node->Step(Msg(MessageType::kMsgApp, 2, 1, 5)).ok());
    EXPECT_EQ(Term(n.get()), 5u) << "role " << role;
    EXPECT_EQ(Role(n.get()), StateRole::kFollower) << "role " << role;
  }
}

// §5.1: a server ignores a request with a stale term number.
TEST(RaftPaperTerm, RejectStaleTermMessage) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 1}, 2);
  Message m = Msg(MessageType::kMsgApp, 2, 1, 1);
  m.index = 2;
  m.log_term = 1;
  m.entries.push_back(Entry{1, 3, EntryType::kNormal, "stale"});
  m.commit = 3;
  ASSERT_TRUE(n->node->Step(m).ok());
  EXPECT_EQ(n->status().last_index, 2u);
  EXPECT_EQ(Commit(n.get()), 0u);
  EXPECT_EQ(Term(n.get()), 2u);
}

// ---- §5.2 ----------------------------------------------------------------------

// §5.2: when servers start up, they begin as followers.
TEST(RaftPaperElection, StartAsFollower) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
  EXPECT_EQ(Role(n.get()), StateRole::kFollower);
}

// §5.2: a leader sends heartbeats to all followers every heartbeat interval.
TEST(RaftPaperElection, LeaderBcastBeat) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
  MakeLeader(n.get(), 2);
  TickN(n.get(), 1);  // heartbeat_tick = 1
  auto hb = Filter(n->Persist(), MessageType::kMsgHeartbeat);
  ASSERT_EQ(hb.size(), 2u);
  std::set<uint64_t> to{hb[0].to, hb[1].to};
  EXPECT_EQ(to, (std::set<uint64_t>{2, 3}));
}

// §5.2: a follower (or candidate) that hears nothing for an election timeout
// increments its term, votes for itself and sends RequestVote to all others.
TEST(RaftPaperElection, FollowerStartsElectionAfterTimeout) {
  for (bool candidate : {false, true}) {
    auto n = NodeWithLog(1, {1, 2, 3}, {}, 1);
    if (candidate) {
      ASSERT_TRUE(n->node->Campaign().ok());
      n->Persist();
    }
    const uint64_t term = Term(n.get());
    TickN(n.get(), 2 * 10);
    EXPECT_EQ(Role(n.get()), StateRole::kCandidate);
    EXPECT_EQ(Term(n.get()), term + 1);
    EXPECT_EQ(n->status().hard_state.vote, 1u);
    auto votes = Filter(n->Persist(), MessageType::kMsgVote);
    ASSERT_EQ(votes.size(), 2u);
    for (const auto& v : votes) EXPECT_EQ(v.term, term + 1);
  }
}

// §5.2: a candidate wins when it gets votes from a majority; loses when a
// majority rejects; stays candidate while undecided.
TEST(RaftPaperElection, LeaderElectionInOneRoundRPC) {
  struct Case {
    int size;
    std::map<uint64_t, bool> votes;
    StateRole want;
  };
  const std::vector<Case> cases = {
      {1, {}, StateRole::kLeader},
      {3, {{2, true}, {3, true}}, StateRole::kLeader},
      {3, {{2, true}}, StateRole::kLeader},
      {5, {{2, true}, {3, true}, {4, true}, {5, true}}, StateRole::kLeader},
      {5, {{2, true}, {3, true}}, StateRole::kLeader},
      {3, {{2, false}, {3, false}}, StateRole::kFollower},
      {5, {{2, false}, {3, false}, {4, false}}, StateRole::kFollower},
      {3, {}, StateRole::kCandidate},
      {5, {{2, true}}, StateRole::kCandidate},
      {5, {{2, false}, {3, false}}, StateRole::kCandidate},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<uint64_t> peers;
    for (int k = 1; k <= cases[i].size; ++k) peers.push_back(k);
    auto n = NodeWithLog(1, peers, {}, 0);
    ASSERT_TRUE(n->node->Campaign().ok());
    for (auto [id, granted] : cases[i].votes) {
      Message r = Msg(MessageType::kMsgVoteResp, id, 1, Term(n.get()));
      r.reject = !granted;
      ASSERT_TRUE(n->node->Step(r).ok());
    }
    EXPECT_EQ(Role(n.get()), cases[i].want) << "case " << i;
    EXPECT_EQ(Term(n.get()), 1u) << "case " << i;
  }
}

// §5.2: each server votes for at most one candidate per term, first come first served.
TEST(RaftPaperElection, FollowerVotesOncePerTerm) {
  struct Case {
    uint64_t vote, nvote;
    bool reject;
  };
  for (Case c : {Case{0, 2, false}, Case{0, 3, false}, Case{2, 2, false}, Case{3, 3, false},
                 Case{2, 3, true}, Case{3, 2, true}}) {
    auto n = NodeWithLog(1, {1, 2, 3}, {}, 1, c.vote);
    Message v = Msg(MessageType::kMsgVote, c.nvote, 1, 1);
    ASSERT_TRUE(n->node->Step(v).ok());
    auto resp = Filter(n->Persist(), MessageType::kMsgVoteResp);
    ASSERT_EQ(resp.size(), 1u);
    EXPECT_EQ(resp[0].reject, c.reject) << "vote=" << c.vote << " nvote=" << c.nvote;
  }
}

// §5.2: a candidate that receives AppendEntries from a leader with a term at
// least as large as its own returns to follower.
TEST(RaftPaperElection, CandidateFallsBackToFollower) {
  for (uint64_t term : {1, 2}) {
    auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
    ASSERT_TRUE(n->node->Campaign().ok());
    ASSERT_EQ(Role(n.get()), StateRole::kCandidate);
    ASSERT_TRUE(n->node->Step(Msg(MessageType::kMsgApp, 2, 1, term)).ok());
    EXPECT_EQ(Role(n.get()), StateRole::kFollower);
    EXPECT_EQ(Term(n.get()), term);
    EXPECT_EQ(n->status().soft_state.lead, 2u);
  }
}

// §5.2: election timeouts are chosen randomly from a fixed interval [T, 2T).
TEST(RaftPaperElection, ElectionTimeoutIsRandomized) {
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto n = NodeWithLog(1, {1, 2, 3}, {}, 1, 0, 0, [&](Config* c) { c->random_seed = seed; });
    int ticks = 0;
    while (Role(n.get()) == StateRole::kFollower && ticks < 100) {
      n->node->Tick();
      ++ticks;
    }
    EXPECT_GE(ticks, 10);
    EXPECT_LT(ticks, 20 + 1);
    seen.insert(ticks);
  }
  EXPECT_GE(seen.size(), 8u) << "timeouts are not spread over [T, 2T)";
}

// §5.2: randomization makes it rare that several followers time out together.
TEST(RaftPaperElection, ElectionTimeoutsRarelyConflict) {
  int conflicts = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::vector<std::unique_ptr<TestNode>> ns;
    for (uint64_t id = 1; id <= 5; ++id) {
      ns.push_back(NodeWithLog(id, {1, 2, 3, 4, 5}, {}, 1, 0, 0,
                               [&](Config* c) { c->random_seed = seed * 7 + 1; }));
    }
    for (int t = 0; t < 40; ++t) {
      int fired = 0;
      for (auto& n : ns) {
        n->node->Tick();
        if (Role(n.get()) == StateRole::kCandidate) ++fired;
      }
      if (fired > 0) {
        if (fired > 1) ++conflicts;
        break;
      }
    }
  }
  EXPECT_LE(conflicts, 200 * 0.3) << "too many simultaneous timeouts";
}

// ---- §5.3 ----------------------------------------------------------------------

// §5.3: the leader appends the command to its log and issues AppendEntries
// in parallel to each follower, with prevLogIndex/prevLogTerm.
TEST(RaftPaperReplication, LeaderStartsReplication) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
  MakeLeader(n.get(), 2);
  // Commit the no-op first so the followers' progress is known.
  for (uint64_t id : {2, 3}) {
    Message ack = Msg(MessageType::kMsgAppResp, id, 1, 1);
    ack.index = 1;
    ASSERT_TRUE(n->node->Step(ack).ok());
  }
  n->Persist();
  ASSERT_TRUE(n->node->Propose("some data").ok());
  auto apps = Filter(n->Persist(), MessageType::kMsgApp);
  ASSERT_EQ(apps.size(), 2u);
  for (const auto& m : apps) {
    EXPECT_EQ(m.index, 1u);     // prevLogIndex
    EXPECT_EQ(m.log_term, 1u);  // prevLogTerm
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_EQ(m.entries[0].data, "some data");
    EXPECT_EQ(m.entries[0].index, 2u);
    EXPECT_EQ(m.commit, 1u);
  }
  EXPECT_EQ(n->status().last_index, 2u);
}

// §5.3: an entry is committed once the leader replicated it on a majority;
// the leader then tells followers via the commit index in later messages.
TEST(RaftPaperReplication, LeaderCommitsEntryAndInformsFollowers) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 0);
  MakeLeader(n.get(), 2);
  ASSERT_TRUE(n->node->Propose("x").ok());
  n->Persist();
  Message ack = Msg(MessageType::kMsgAppResp, 2, 1, 1);
  ack.index = 2;
  ASSERT_TRUE(n->node->Step(ack).ok());
  EXPECT_EQ(Commit(n.get()), 2u);
  auto out = n->Persist();
  ASSERT_FALSE(n->applied.empty());
  EXPECT_EQ(n->applied.back().data, "x");
  bool told = false;
  for (const auto& m : Filter(out, MessageType::kMsgApp)) told |= m.commit == 2;
  EXPECT_TRUE(told);
}

// §5.3: a log entry is committed when a majority acknowledged it (table).
TEST(RaftPaperReplication, LeaderAcknowledgeCommit) {
  struct Case {
    int size;
    std::vector<uint64_t> acks;
    bool committed;
  };
  for (const Case& c : std::vector<Case>{{1, {}, true},
                                         {3, {}, false},
                                         {3, {2}, true},
                                         {3, {2, 3}, true},
                                         {5, {}, false},
                                         {5, {2}, false},
                                         {5, {2, 3}, true},
                                         {5, {2, 3, 4, 5}, true}}) {
    std::vector<uint64_t> peers;
    for (int k = 1; k <= c.size; ++k) peers.push_back(k);
    auto n = NodeWithLog(1, peers, {}, 0);
    ASSERT_TRUE(n->node->Campaign().ok());
    for (uint64_t id = 2; id <= static_cast<uint64_t>(c.size); ++id) {
      if (Role(n.get()) == StateRole::kLeader) break;
      n->node->Step(Msg(MessageType::kMsgVoteResp, id, 1, 1)).IgnoreError();
    }
    ASSERT_EQ(Role(n.get()), StateRole::kLeader);
    n->Persist();
    ASSERT_TRUE(n->node->Propose("y").ok());
    n->Persist();
    for (uint64_t id : c.acks) {
      Message a = Msg(MessageType::kMsgAppResp, id, 1, 1);
      a.index = 2;
      ASSERT_TRUE(n->node->Step(a).ok());
    }
    EXPECT_EQ(Commit(n.get()) >= 2, c.committed) << "size " << c.size << " acks " << c.acks.size();
  }
}

// §5.3: committing an entry also commits all preceding entries, including
// those created by previous leaders.
TEST(RaftPaperReplication, LeaderCommitsPrecedingEntries) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 1, 2}, 2);
  MakeLeader(n.get(), 2);
  ASSERT_EQ(Term(n.get()), 3u);
  ASSERT_TRUE(n->node->Propose("new").ok());
  n->Persist();
  Message a = Msg(MessageType::kMsgAppResp, 2, 1, 3);
  a.index = 5;  // old entries 1..3, the no-op at 4, "new" at 5
  ASSERT_TRUE(n->node->Step(a).ok());
  EXPECT_EQ(Commit(n.get()), 5u);
  n->Persist();
  ASSERT_EQ(n->applied.size(), 5u);
  EXPECT_EQ(n->applied[0].index, 1u);
}

// §5.3: once a follower learns an entry is committed, it applies it.
TEST(RaftPaperReplication, FollowerCommitsEntry) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 1);
  Message m = Msg(MessageType::kMsgApp, 2, 1, 1);
  m.entries = {Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kNormal, "b"}};
  m.commit = 1;
  ASSERT_TRUE(n->node->Step(m).ok());
  EXPECT_EQ(Commit(n.get()), 1u);
  n->Persist();
  ASSERT_EQ(n->applied.size(), 1u);
  EXPECT_EQ(n->applied[0].data, "a");
}

// §5.3 (Figure 2, AppendEntries rule 2): a follower refuses entries if it has
// no entry at prevLogIndex with prevLogTerm, and says so with a hint.
TEST(RaftPaperReplication, FollowerChecksPrevLog) {
  struct Case {
    uint64_t term, index;
    bool reject;
  };
  for (Case c : {Case{0, 0, false}, Case{1, 1, false}, Case{2, 2, false}, Case{1, 2, true},
                 Case{3, 3, true}}) {
    auto n = NodeWithLog(1, {1, 2, 3}, {1, 2}, 2, 0, 1);
    Message m = Msg(MessageType::kMsgApp, 2, 1, 2);
    m.log_term = c.term;
    m.index = c.index;
    ASSERT_TRUE(n->node->Step(m).ok());
    auto resp = Filter(n->Persist(), MessageType::kMsgAppResp);
    ASSERT_EQ(resp.size(), 1u);
    EXPECT_EQ(resp[0].reject, c.reject) << c.term << "/" << c.index;
    if (c.reject) {
      EXPECT_LE(resp[0].reject_hint, 2u);
    }
  }
}

// §5.3 (Figure 2, rule 3): if an existing entry conflicts with a new one, the
// follower deletes it and all that follow, then appends the new entries.
TEST(RaftPaperReplication, FollowerAppendsAndTruncatesConflicts) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 2}, 2);
  Message m = Msg(MessageType::kMsgApp, 2, 1, 3);
  m.index = 1;
  m.log_term = 1;
  m.entries = {Entry{3, 2, EntryType::kNormal, "c"}, Entry{3, 3, EntryType::kNormal, "d"}};
  ASSERT_TRUE(n->node->Step(m).ok());
  n->Persist();
  auto log = n->node->LogEntries(1, 4);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[1].term, 3u);
  EXPECT_EQ((*log)[2].data, "d");
}

// §5.3 Figure 7: a leader brings every kind of follower log into agreement.
TEST(RaftPaperReplication, LeaderSyncsFollowerLogsOfFigure7) {
  const std::vector<uint64_t> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const std::vector<std::vector<uint64_t>> followers = {
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a)
      {1, 1, 1, 4},                          // (b)
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c)
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d)
      {1, 1, 1, 4, 4, 4, 4},                 // (e)
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // (f)
  };
  for (size_t i = 0; i < followers.size(); ++i) {
    // The leader (term 8) with the figure's log, a follower with case i's
    // log and an empty voter that helps elect the leader.
    auto leader = NodeWithLog(1, {1, 2, 3}, leader_log, 8);
    auto follower = NodeWithLog(2, {1, 2, 3}, followers[i], 8 - 1);
    auto helper = NodeWithLog(3, {1, 2, 3}, {}, 8 - 1);
    std::map<uint64_t, TestNode*> nodes{{1, leader.get()}, {2, follower.get()}, {3, helper.get()}};
    ASSERT_TRUE(leader->node->Campaign().ok());
    std::vector<Message> q;
    for (int iter = 0; iter < 1000; ++iter) {
      for (auto& [id, nd] : nodes) {
        for (auto& m : nd->Persist()) q.push_back(std::move(m));
      }
      if (q.empty()) break;
      auto batch = std::move(q);
      q.clear();
      for (const auto& m : batch) nodes.at(m.to)->node->Step(m).IgnoreError();
    }
    ASSERT_EQ(Role(leader.get()), StateRole::kLeader) << "case " << i;
    const auto ls = leader->status();
    const auto fs = follower->status();
    ASSERT_EQ(ls.last_index, fs.last_index) << "case " << i;
    EXPECT_EQ(*leader->node->LogEntries(1, ls.last_index + 1),
              *follower->node->LogEntries(1, fs.last_index + 1))
        << "case " << i;
  }
}

// ---- §5.4 ----------------------------------------------------------------------

// §5.4.1: RequestVote carries the candidate's last log index and term.
TEST(RaftPaperSafety, VoteRequestCarriesLastLogIndexAndTerm) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 1, 2}, 2);
  ASSERT_TRUE(n->node->Campaign().ok());
  auto votes = Filter(n->Persist(), MessageType::kMsgVote);
  ASSERT_EQ(votes.size(), 2u);
  for (const auto& v : votes) {
    EXPECT_EQ(v.index, 3u);
    EXPECT_EQ(v.log_term, 2u);
    EXPECT_EQ(v.term, 3u);
  }
}

// §5.4.1: a voter denies its vote if its own log is more up to date.
TEST(RaftPaperSafety, VoterRejectsCandidateWithOlderLog) {
  struct Case {
    std::vector<uint64_t> log;
    uint64_t cand_index, cand_term;
    bool reject;
  };
  for (const Case& c : std::vector<Case>{{{1}, 1, 1, false},
                                         {{1}, 2, 1, false},
                                         {{1, 1}, 1, 1, true},
                                         {{1}, 1, 2, false},
                                         {{1}, 2, 2, false},
                                         {{1, 1}, 1, 2, false},
                                         {{2}, 1, 1, true},
                                         {{2}, 2, 1, true},
                                         {{2, 1}, 1, 1, true}}) {
    auto n = NodeWithLog(1, {1, 2}, c.log, 2);
    Message v = Msg(MessageType::kMsgVote, 2, 1, 3);
    v.index = c.cand_index;
    v.log_term = c.cand_term;
    ASSERT_TRUE(n->node->Step(v).ok());
    auto resp = Filter(n->Persist(), MessageType::kMsgVoteResp);
    ASSERT_EQ(resp.size(), 1u);
    EXPECT_EQ(resp[0].reject, c.reject) << "cand " << c.cand_index << "/" << c.cand_term;
  }
}

// §5.4.2 (Figure 8): a leader commits only entries from its current term by
// counting replicas; an older entry on a majority is not committed by itself.
TEST(RaftPaperSafety, LeaderOnlyCommitsLogFromCurrentTerm) {
  // Log: index 1 term 1, index 2 term 2. Leader elected in term 3.
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 2}, 2);
  MakeLeader(n.get(), 2);
  ASSERT_EQ(Term(n.get()), 3u);
  // A majority (1 and 2) holds index 2 (term 2): not committed.
  Message a = Msg(MessageType::kMsgAppResp, 2, 1, 3);
  a.index = 2;
  ASSERT_TRUE(n->node->Step(a).ok());
  EXPECT_EQ(Commit(n.get()), 0u);
  // Once the no-op of term 3 (index 3) is on a majority, everything commits.
  a.index = 3;
  ASSERT_TRUE(n->node->Step(a).ok());
  EXPECT_EQ(Commit(n.get()), 3u);
}

// §5.4.3/§8: a new leader appends a no-op entry of its term on election.
TEST(RaftPaperSafety, NewLeaderAppendsNoOp) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1, 1}, 1);
  MakeLeader(n.get(), 3);
  auto log = n->node->LogEntries(3, 4);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].term, 2u);
  EXPECT_TRUE((*log)[0].data.empty());
}

// §5.5: Ready hands out entries and hard state to persist before messages
// that depend on them are sent (a vote response after the persisted vote).
TEST(RaftPaperPersistence, VoteIsPersistedInTheSameReadyAsItsResponse) {
  auto n = NodeWithLog(1, {1, 2, 3}, {}, 1);
  ASSERT_TRUE(n->node->Step(Msg(MessageType::kMsgVote, 2, 1, 2)).ok());
  ASSERT_TRUE(n->node->HasReady());
  Ready rd = n->node->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote, 2u);
  EXPECT_EQ(rd.hard_state->term, 2u);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::kMsgVoteResp);
  n->node->Advance(rd);
}

}  // namespace
}  // namespace tinykv::raft::testing
