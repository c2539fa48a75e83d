// Hostile input at RawNode::Step (message_check.h, step_check.cc): forged
// and malformed peer messages against a 3-node cluster on the synchronous
// test network. Each case checks that the message is refused with the right
// reason, that the receiver is unchanged (same hard and soft state, log,
// nothing to send), and that the cluster afterwards still elects a leader
// and commits. The first cases are the ones that broke real clusters:
// a huge term from a non-member (term wrap, aborts on every restart), a
// non-member's append (its entry became readable), a heartbeat committing
// beyond the log (abort), a non-member's higher term (forced re-election).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "raft_test_util.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/message_check.h"
#include "tinykv/raft/sim_cluster.h"

namespace tinykv::raft::testing {
namespace {

constexpr uint64_t kNonMember = 99;
constexpr uint64_t kHugeTerms[] = {~uint64_t{0}, uint64_t{1} << 63, kMaxTerm + 1};

StateRole Role(TestNode* n) { return n->status().soft_state.role; }
uint64_t Term(TestNode* n) { return n->status().hard_state.term; }
uint64_t Rejected(TestNode* n, RejectReason r) { return n->status().rejected[r]; }

// What a refused message must leave exactly as it was.
struct Observed {
  HardState hard;
  SoftState soft;
  uint64_t first = 0, last = 0, applied = 0;
  ConfState conf;
  bool operator==(const Observed&) const = default;
};

Observed Observe(TestNode* n) {
  const NodeStatus s = n->status();
  return Observed{s.hard_state, s.soft_state, s.first_index, s.last_index, s.applied, s.conf_state};
}

std::string Describe(const Observed& o) {
  return "term=" + std::to_string(o.hard.term) + " vote=" + std::to_string(o.hard.vote) +
         " commit=" + std::to_string(o.hard.commit) + " lead=" + std::to_string(o.soft.lead) +
         " role=" + StateRoleName(o.soft.role) + " last=" + std::to_string(o.last);
}

// Steps m into node `into` (default: m.to) and expects it refused with
// `reason`, leaving the node unchanged with nothing to send.
void ExpectRefused(Network& net, const Message& m, RejectReason reason, uint64_t into = 0) {
  TestNode* n = net.node(into != 0 ? into : m.to);
  SCOPED_TRACE(std::string(MessageTypeName(m.type)) + " from " + std::to_string(m.from) + " term " +
               std::to_string(m.term) + " into node " + std::to_string(n->id));
  const Observed before = Observe(n);
  const uint64_t count = Rejected(n, reason);
  const Status s = n->node->Step(m);
  ASSERT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(s.IsNotFound(), reason == RejectReason::kNotMember) << s.ToString();
  EXPECT_TRUE(s.IsNotFound() || s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find(std::string(RejectReasonName(reason))), std::string::npos)
      << s.ToString();
  EXPECT_EQ(Rejected(n, reason), count + 1);
  EXPECT_FALSE(n->node->HasReady()) << "a refused message produced work";
  const Observed after = Observe(n);
  EXPECT_TRUE(after == before) << "before: " << Describe(before) << "\nafter:  " << Describe(after);
}

bool AppliedAnywhere(Network& net, const std::string& data) {
  for (uint64_t id : {1, 2, 3}) {
    for (const Entry& e : net.node(id)->applied) {
      if (e.data == data) return true;
    }
    auto log = net.node(id)->node->LogEntries(net.node(id)->status().first_index,
                                              net.node(id)->status().last_index + 1);
    if (!log.ok()) continue;
    for (const Entry& e : *log) {
      if (e.data == data) return true;
    }
  }
  return false;
}

// The cluster still works: leadership moves from `leader` to `to` (a
// transfer, i.e. a real election in a new term) and `to` commits a new
// entry that every node applies. Returns the new leader.
uint64_t ExpectElectsAndCommits(Network& net, uint64_t leader, uint64_t to) {
  const uint64_t term = Term(net.node(leader));
  net.node(leader)->node->TransferLeader(to);
  net.Stabilize();
  EXPECT_EQ(Role(net.node(to)), StateRole::kLeader) << "node " << to << " was not elected";
  EXPECT_GT(Term(net.node(to)), term);
  const std::string value = "after-" + std::to_string(Term(net.node(to)));
  EXPECT_TRUE(net.node(to)->node->Propose(value).ok());
  net.Stabilize();
  for (uint64_t id : {1, 2, 3}) {
    const auto& applied = net.node(id)->applied;
    EXPECT_TRUE(!applied.empty() && applied.back().data == value) << "node " << id;
  }
  return to;
}

// Node 1 leads a 3-node cluster in which "before" is committed everywhere.
struct Cluster {
  Network net{{1, 2, 3}};
  Cluster() {
    net.Campaign(1);
    EXPECT_EQ(Role(net.node(1)), StateRole::kLeader);
    EXPECT_TRUE(net.node(1)->node->Propose("before").ok());
    net.Stabilize();
  }
  uint64_t term() { return Term(net.node(1)); }
  uint64_t last(uint64_t id) { return net.node(id)->status().last_index; }
};

// ---- terms ----------------------------------------------------------------------

TEST(RaftHostileInput, HugeTermFromANonMemberChangesNothing) {
  Cluster c;
  for (uint64_t term : kHugeTerms) {
    for (MessageType type :
         {MessageType::kMsgHeartbeat, MessageType::kMsgApp, MessageType::kMsgVote,
          MessageType::kMsgPreVote, MessageType::kMsgAppResp, MessageType::kMsgSnap}) {
      for (uint64_t to : {1, 2, 3}) {
        Message m = Msg(type, kNonMember, to, term);
        if (type == MessageType::kMsgSnap) {
          m.snapshot.metadata = SnapshotMetadata{{{1, 2, 3, 99}, {}, {}, {}, false}, 10, term};
        }
        ExpectRefused(c.net, m, RejectReason::kBadTerm);
      }
    }
  }
  c.net.TickAll(30);
  EXPECT_EQ(Role(c.net.node(1)), StateRole::kLeader);
  ExpectElectsAndCommits(c.net, 1, 2);
}

TEST(RaftHostileInput, HugeTermFromAMemberChangesNothing) {
  Cluster c;
  for (uint64_t term : kHugeTerms) {
    // To the leader (from a follower) and to followers (from the leader).
    ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeatResp, 2, 1, term), RejectReason::kBadTerm);
    ExpectRefused(c.net, Msg(MessageType::kMsgAppResp, 3, 1, term), RejectReason::kBadTerm);
    ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeat, 1, 2, term), RejectReason::kBadTerm);
    ExpectRefused(c.net, Msg(MessageType::kMsgApp, 1, 3, term), RejectReason::kBadTerm);
    Message v = Msg(MessageType::kMsgVote, 3, 2, term);
    v.index = c.last(3);
    v.log_term = c.term();
    ExpectRefused(c.net, v, RejectReason::kBadTerm);
    // The log_term field has the same ceiling.
    Message lt = Msg(MessageType::kMsgApp, 1, 2, c.term());
    lt.log_term = term;
    ExpectRefused(c.net, lt, RejectReason::kBadTerm);
  }
  c.net.TickAll(30);
  EXPECT_EQ(Role(c.net.node(1)), StateRole::kLeader);
  ExpectElectsAndCommits(c.net, 1, 3);
}

// Before validation, a non-member's heartbeat in term+1 moved the whole
// cluster to that term and forced a re-election.
TEST(RaftHostileInput, NonMemberWithAHigherTermDoesNotMoveTheCluster) {
  Cluster c;
  const uint64_t term = c.term();
  for (uint64_t to : {1, 2, 3}) {
    Message hb = Msg(MessageType::kMsgHeartbeat, kNonMember, to, term + 1);
    ExpectRefused(c.net, hb, RejectReason::kNotMember);
    Message v = Msg(MessageType::kMsgVote, kNonMember, to, term + 5);
    v.index = 1000;
    v.log_term = term + 5;
    ExpectRefused(c.net, v, RejectReason::kNotMember);
    ExpectRefused(c.net, Msg(MessageType::kMsgTimeoutNow, kNonMember, to, term),
                  RejectReason::kNotMember);
  }
  c.net.TickAll(50);
  for (uint64_t id : {1, 2, 3}) EXPECT_EQ(Term(c.net.node(id)), term) << "node " << id;
  EXPECT_EQ(Role(c.net.node(1)), StateRole::kLeader);
  ExpectElectsAndCommits(c.net, 1, 2);
}

// Before validation this entry was appended by the follower, replicated to
// all when that follower became leader, and served by reads.
TEST(RaftHostileInput, NonMemberAppendNeverBecomesVisible) {
  Cluster c;
  const uint64_t last = c.last(2);
  Message app = Msg(MessageType::kMsgApp, kNonMember, 2, c.term() + 1);
  app.index = last;
  app.log_term = c.term();
  app.entries = {Entry{c.term() + 1, last + 1, EntryType::kNormal, "evil"}};
  app.commit = last + 1;
  ExpectRefused(c.net, app, RejectReason::kNotMember);
  Message snap = Msg(MessageType::kMsgSnap, kNonMember, 3, c.term() + 1);
  snap.snapshot.metadata =
      SnapshotMetadata{{{2, 3, kNonMember}, {}, {}, {}, false}, last + 10, c.term() + 1};
  snap.snapshot.data = "evil";
  ExpectRefused(c.net, snap, RejectReason::kNotMember);
  ExpectElectsAndCommits(c.net, 1, 2);
  ExpectElectsAndCommits(c.net, 2, 3);
  EXPECT_FALSE(AppliedAnywhere(c.net, "evil"));
}

// ---- commit indexes -------------------------------------------------------------

// Before validation: abort ("tocommit(1000000000) is out of range").
TEST(RaftHostileInput, HeartbeatCommitBeyondTheLogIsRefused) {
  Cluster c;
  for (uint64_t to : {2, 3}) {
    Message hb = Msg(MessageType::kMsgHeartbeat, 1, to, c.term());
    hb.commit = 1000000000;
    ExpectRefused(c.net, hb, RejectReason::kBadIndex);
    hb.commit = c.last(to) + 1;  // one past the end is already impossible
    ExpectRefused(c.net, hb, RejectReason::kBadIndex);
    hb.term = c.term() + 1;  // refused before the term could change anything
    ExpectRefused(c.net, hb, RejectReason::kBadIndex);
    hb.from = kNonMember;
    ExpectRefused(c.net, hb, RejectReason::kNotMember);
    EXPECT_LE(c.net.node(to)->status().hard_state.commit, c.last(to));
  }
  ExpectElectsAndCommits(c.net, 1, 3);
}

// An append's commit is clamped to the last entry it carries (etcd, Figure 2
// receiver rule 5: commitIndex = min(leaderCommit, index of last new entry)).
TEST(RaftHostileInput, AppendCommitIsClampedToItsLastEntry) {
  Cluster c;
  // Node 1 replicates "x" but hears no acknowledgement, so it is not
  // committed; we keep the MsgApp it sent to node 2.
  std::optional<Message> app;
  c.net.drop_if = [&](const Message& m) {
    if (m.type == MessageType::kMsgApp && m.to == 2 && !m.entries.empty()) app = m;
    return m.type == MessageType::kMsgAppResp;
  };
  ASSERT_TRUE(c.net.node(1)->node->Propose("x").ok());
  c.net.Stabilize();
  ASSERT_TRUE(app.has_value());
  const uint64_t x = app->entries.back().index;
  ASSERT_EQ(c.last(2), x);
  ASSERT_LT(c.net.node(2)->status().hard_state.commit, x);
  app->commit = 1000000000;
  ASSERT_TRUE(c.net.node(2)->node->Step(*app).ok());
  EXPECT_EQ(c.net.node(2)->status().hard_state.commit, x);
  c.net.Stabilize();
  c.net.Recover();
  ExpectElectsAndCommits(c.net, 1, 2);
}

// ---- AppendEntries shape ----------------------------------------------------------

TEST(RaftHostileInput, InconsistentAppendsAreRefused) {
  Cluster c;
  const uint64_t t = c.term();
  ASSERT_GE(t, 2u);
  const uint64_t last = c.last(2);
  auto app = [&](std::vector<Entry> ents) {
    Message m = Msg(MessageType::kMsgApp, 1, 2, t);
    m.index = last;
    m.log_term = t;
    m.commit = last;
    m.entries = std::move(ents);
    return m;
  };
  auto e = [](uint64_t term, uint64_t index) {
    return Entry{term, index, EntryType::kNormal, "bad"};
  };
  ExpectRefused(c.net, app({e(t, last + 1), e(t, last + 3)}), RejectReason::kBadEntries);  // gap
  ExpectRefused(c.net, app({e(t, last + 2)}), RejectReason::kBadEntries);  // not at index+1
  ExpectRefused(c.net, app({e(t, last)}), RejectReason::kBadEntries);
  ExpectRefused(c.net, app({e(t, last + 1), e(t, last + 1)}), RejectReason::kBadEntries);
  ExpectRefused(c.net, app({e(t, last + 1), e(t - 1, last + 2)}),
                RejectReason::kBadEntries);                                    // term goes down
  ExpectRefused(c.net, app({e(t - 1, last + 1)}), RejectReason::kBadEntries);  // below log_term
  ExpectRefused(c.net, app({e(t + 1, last + 1)}), RejectReason::kBadEntries);  // above m.term
  ExpectRefused(c.net, app({e(0, last + 1)}), RejectReason::kBadEntries);
  ExpectRefused(c.net, app({Entry{t, last + 1, EntryType::kConfChangeV2, std::string("\x07", 1)}}),
                RejectReason::kBadEntries);  // a conf change that does not decode
  ExpectRefused(c.net, app({Entry{t, last + 1, static_cast<EntryType>(9), ""}}),
                RejectReason::kBadEntries);
  // index + len must not overflow or pass kMaxIndex.
  Message wrap = app({e(t, 0), e(t, 1)});
  wrap.index = ~uint64_t{0} - 1;
  wrap.entries = {e(t, ~uint64_t{0}), e(t, 0)};
  ExpectRefused(c.net, wrap, RejectReason::kBadIndex);
  wrap.index = kMaxIndex - 1;
  wrap.entries = {e(t, kMaxIndex), e(t, kMaxIndex + 1)};
  ExpectRefused(c.net, wrap, RejectReason::kBadIndex);
  Message big_commit = app({});
  big_commit.commit = kMaxIndex + 1;
  ExpectRefused(c.net, big_commit, RejectReason::kBadIndex);
  // Entries or a snapshot on a type that carries none.
  Message hb = Msg(MessageType::kMsgHeartbeat, 1, 2, t);
  hb.entries = {e(t, last + 1)};
  ExpectRefused(c.net, hb, RejectReason::kBadEntries);
  hb.entries.clear();
  hb.snapshot.metadata = SnapshotMetadata{{{1, 2, 3}, {}, {}, {}, false}, last, t};
  ExpectRefused(c.net, hb, RejectReason::kBadSnapshot);
  // A valid one still works.
  ASSERT_TRUE(c.net.node(2)->node->Step(app({})).ok());
  c.net.Stabilize();
  ExpectElectsAndCommits(c.net, 1, 2);
}

TEST(RaftHostileInput, ImpossibleResponsesAreRefused) {
  Cluster c;
  // An acknowledgement of entries the leader does not have.
  Message ack = Msg(MessageType::kMsgAppResp, 2, 1, c.term());
  ack.index = c.last(1) + 1;
  ExpectRefused(c.net, ack, RejectReason::kBadIndex);
  ack.index = 1000000000;
  ExpectRefused(c.net, ack, RejectReason::kBadIndex);
  // A rejection hint above the rejected index.
  Message rej = Msg(MessageType::kMsgAppResp, 3, 1, c.term());
  rej.reject = true;
  rej.index = 1;
  rej.reject_hint = 5;
  ExpectRefused(c.net, rej, RejectReason::kBadIndex);
  ExpectElectsAndCommits(c.net, 1, 3);
}

// ---- snapshots --------------------------------------------------------------------

TEST(RaftHostileInput, InvalidSnapshotsAreRefused) {
  Cluster c;
  const uint64_t t = c.term();
  auto snap = [&](ConfState cs, uint64_t index, uint64_t term) {
    Message m = Msg(MessageType::kMsgSnap, 1, 2, t);
    m.snapshot.metadata = SnapshotMetadata{std::move(cs), index, term};
    m.snapshot.data = "image";
    return m;
  };
  const uint64_t i = c.last(2) + 10;
  auto cs = [](std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
    ConfState s;
    s.voters = std::move(voters);
    s.learners = std::move(learners);
    return s;
  };
  ExpectRefused(c.net, snap(cs({1, 2, 3}), 0, t), RejectReason::kBadSnapshot);  // no snapshot
  ExpectRefused(c.net, snap(cs({1, 2, 3}), kMaxIndex + 1, t), RejectReason::kBadSnapshot);
  ExpectRefused(c.net, snap(cs({1, 2, 3}), i, 0), RejectReason::kBadSnapshot);
  ExpectRefused(c.net, snap(cs({1, 2, 3}), i, t + 1), RejectReason::kBadSnapshot);
  // Configurations the node could not switch to. The duplicate voter used to
  // abort ("restored ConfState differs from the snapshot's").
  ExpectRefused(c.net, snap(cs({1, 2, 2, 3}), i, t), RejectReason::kBadSnapshot);
  ExpectRefused(c.net, snap(cs({}, {2}), i, t), RejectReason::kBadSnapshot);
  ExpectRefused(c.net, snap(cs({1, 2, 3}, {2}), i, t), RejectReason::kBadSnapshot);
  ExpectRefused(c.net, snap(cs({0, 2, 3}), i, t), RejectReason::kBadSnapshot);
  ConfState joint = cs({1, 2});
  joint.learners_next = {3};
  ExpectRefused(c.net, snap(joint, i, t), RejectReason::kBadSnapshot);
  ConfState leave = cs({1, 2, 3});
  leave.auto_leave = true;
  ExpectRefused(c.net, snap(leave, i, t), RejectReason::kBadSnapshot);
  ExpectElectsAndCommits(c.net, 1, 2);
}

// ---- types and addresses ------------------------------------------------------------

TEST(RaftHostileInput, LocalAndUnknownTypesAreRefused) {
  Cluster c;
  for (MessageType type :
       {MessageType::kMsgHup, MessageType::kMsgBeat, MessageType::kMsgUnreachable,
        MessageType::kMsgSnapStatus, MessageType::kMsgCheckQuorum, MessageType::kMsgProp}) {
    for (uint64_t to : {1, 2}) {
      ExpectRefused(c.net, Msg(type, to == 1 ? 2 : 1, to, 0), RejectReason::kLocalType);
      ExpectRefused(c.net, Msg(type, to == 1 ? 2 : 1, to, c.term()), RejectReason::kLocalType);
    }
  }
  // No proposal forwarding: a MsgProp from the network could only inject
  // entries (and an empty one used to abort the leader).
  Message prop = Msg(MessageType::kMsgProp, 2, 1, 0);
  prop.entries = {Entry{0, 0, EntryType::kNormal, "evil"}};
  ExpectRefused(c.net, prop, RejectReason::kLocalType);
  for (int type : {kNumMessageTypes, 100, 255}) {
    ExpectRefused(c.net, Msg(static_cast<MessageType>(type), 2, 1, c.term()),
                  RejectReason::kUnknownType);
  }
  // Forwarded requests carry no term; every other type does.
  ExpectRefused(c.net, Msg(MessageType::kMsgReadIndex, 2, 1, c.term()), RejectReason::kBadTerm);
  ExpectRefused(c.net, Msg(MessageType::kMsgTransferLeader, 2, 1, 1), RejectReason::kBadTerm);
  ExpectRefused(c.net, Msg(MessageType::kMsgApp, 1, 2, 0), RejectReason::kBadTerm);
  ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeat, 1, 3, 0), RejectReason::kBadTerm);
  ExpectElectsAndCommits(c.net, 1, 2);
  EXPECT_FALSE(AppliedAnywhere(c.net, "evil"));
}

TEST(RaftHostileInput, AnonymousAndMisaddressedMessagesAreRefused) {
  Cluster c;
  ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeat, kNone, 2, c.term() + 1),
                RejectReason::kBadAddress);
  // Addressed to node 3 but delivered to node 2.
  ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeat, 1, 3, c.term() + 1),
                RejectReason::kBadAddress, /*into=*/2);
  ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeat, 1, kNone, c.term() + 1),
                RejectReason::kBadAddress, /*into=*/2);
  ExpectElectsAndCommits(c.net, 1, 3);
}

// ---- the term ceiling ---------------------------------------------------------------

TEST(RaftHostileInput, NodeAtTheMaximumTermNeverCampaignsOrWraps) {
  auto n = NodeWithLog(1, {1, 2, 3}, {1}, kMaxTerm, 0, 1, [](Config* c) { c->pre_vote = true; });
  EXPECT_TRUE(n->node->Campaign().ok());
  for (int i = 0; i < 100; ++i) n->node->Tick();
  const NodeStatus s = n->status();
  EXPECT_EQ(s.soft_state.role, StateRole::kFollower);
  EXPECT_EQ(s.hard_state.term, kMaxTerm);
  EXPECT_GE(s.campaigns_refused_at_max_term, 2u);
  auto out = n->Persist();
  for (const Message& m : out) ADD_FAILURE() << "sent " << MessageTypeName(m.type);
}

// The last term still works: a cluster at kMaxTerm - 1 elects a leader in
// kMaxTerm and commits; once that leader is gone nobody can campaign (the
// ceiling is a dead end, reached only if a member sends kMaxTerm), but no
// term ever wraps to 0.
TEST(RaftHostileInput, ClusterUsesTheLastTermThenStopsWithoutWrapping) {
  Network net({1, 2, 3}, [](Config* c) {
    dynamic_cast<MemoryStorage*>(c->storage)->SetHardState(HardState{kMaxTerm - 1, 0, 1});
  });
  net.Campaign(1);
  ASSERT_EQ(Role(net.node(1)), StateRole::kLeader);
  EXPECT_EQ(Term(net.node(1)), kMaxTerm);
  ASSERT_TRUE(net.node(1)->node->Propose("last").ok());
  net.Stabilize();
  for (uint64_t id : {1, 2, 3}) EXPECT_EQ(net.node(id)->applied.back().data, "last");
  ExpectRefused(net, Msg(MessageType::kMsgHeartbeat, 1, 2, kMaxTerm + 1), RejectReason::kBadTerm);
  net.Isolate(1);
  net.TickAll(100);
  net.Recover();
  net.TickAll(100);
  for (uint64_t id : {1, 2, 3}) {
    const NodeStatus s = net.node(id)->status();
    EXPECT_EQ(s.hard_state.term, kMaxTerm) << "node " << id;
    EXPECT_NE(s.soft_state.role, StateRole::kLeader) << "node " << id;
  }
  EXPECT_GT(net.node(2)->status().campaigns_refused_at_max_term, 0u);
}

TEST(RaftHostileInput, StoredTermAboveTheMaximumIsAnErrorNotAnAbort) {
  for (uint64_t term : kHugeTerms) {
    auto s = BootStorage({1, 2, 3});
    s->SetHardState(HardState{term, 0, 1});
    auto rn = RawNode::Create(TestConfig(1, s.get()));
    ASSERT_FALSE(rn.ok());
    EXPECT_TRUE(rn.status().IsCorruption()) << rn.status().ToString();
  }
  auto s = BootStorage({1, 2, 3});
  s->SetHardState(HardState{2, 0, 1000});  // commit beyond the log
  EXPECT_TRUE(RawNode::Create(TestConfig(1, s.get())).status().IsCorruption());
}

// Found by fuzz/log_segment_fuzzer.cc (corpus: regress_stored_conf_state_with_duplicates):
// a stored ConfState naming an id twice passed Changer::Restore, then failed the CHECK
// that the restored configuration equals the stored one -- an abort at every restart.
TEST(RaftHostileInput, StoredConfigurationNoNodeCouldHaveIsAnErrorNotAnAbort) {
  const std::vector<ConfState> bad = {
      {{2, 2, 3}, {}, {}, {}, false},  // an id twice
      {{0, 1}, {}, {}, {}, false},     // id 0
      {{1, 2}, {2}, {}, {}, false},    // a learner that is also a voter
      {{}, {4}, {}, {}, false},        // no voter
      {{1, 2}, {}, {}, {3}, false},    // learners_next outside a joint configuration
      {{1, 2}, {}, {}, {}, true},      // auto_leave outside a joint configuration
  };
  for (const ConfState& cs : bad) {
    MemoryStorage s;
    s.SetBootstrapConfState(cs);
    auto rn = RawNode::Create(TestConfig(1, &s));
    ASSERT_FALSE(rn.ok());
    EXPECT_TRUE(rn.status().IsCorruption()) << rn.status().ToString();
  }
  // No configuration at all is a node that joins later: it starts.
  MemoryStorage empty;
  EXPECT_TRUE(RawNode::Create(TestConfig(1, &empty)).ok());
}

// ---- membership -------------------------------------------------------------------

TEST(RaftHostileInput, RemovedMemberIsIgnored) {
  Cluster c;
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kRemoveNode, 3}};
  ASSERT_TRUE(c.net.node(1)->node->ProposeConfChange(cc).ok());
  c.net.Stabilize();
  ASSERT_EQ(c.net.node(2)->status().conf_state.voters, (std::vector<uint64_t>{1, 2}));
  Message v = Msg(MessageType::kMsgVote, 3, 2, c.term() + 10);
  v.index = 1000;
  v.log_term = c.term();
  ExpectRefused(c.net, v, RejectReason::kNotMember);
  ExpectRefused(c.net, Msg(MessageType::kMsgHeartbeatResp, 3, 1, c.term()),
                RejectReason::kNotMember);
  Message ack = Msg(MessageType::kMsgAppResp, 3, 1, c.term());
  ack.index = c.last(1);
  ExpectRefused(c.net, ack, RejectReason::kNotMember);
  c.net.TickAll(30);
  EXPECT_EQ(Role(c.net.node(1)), StateRole::kLeader);
}

// A member added by a conf change that is in the log but not applied yet is
// known already (a new voter's first vote request may come before the apply).
TEST(RaftHostileInput, MemberAddedByAnUnappliedConfChangeIsAccepted) {
  Cluster c;
  Message v = Msg(MessageType::kMsgPreVote, 4, 2, c.term() + 1);
  v.index = c.last(2);
  v.log_term = c.term();
  ExpectRefused(c.net, v, RejectReason::kNotMember);
  // Node 2 appends the change, but nothing commits (acknowledgements dropped).
  c.net.drop_if = [](const Message& m) { return m.type == MessageType::kMsgAppResp; };
  ConfChangeV2 cc;
  cc.changes = {{ConfChangeType::kAddNode, 4}};
  ASSERT_TRUE(c.net.node(1)->node->ProposeConfChange(cc).ok());
  c.net.Stabilize();
  ASSERT_EQ(c.last(2), c.last(1));
  ASSERT_EQ(c.net.node(2)->status().conf_state.voters, (std::vector<uint64_t>{1, 2, 3}));
  v.index = c.last(2);
  EXPECT_TRUE(c.net.node(2)->node->Step(v).ok());
  // Node 3 does not have the entry: still a stranger there.
  c.net.Recover();
}

// A node that is not a member of its own configuration (here: a new node
// with none at all) accepts any sender: it has no configuration to check
// against, and cannot campaign or count towards any quorum (step_check.cc).
TEST(RaftHostileInput, NodeOutsideItsOwnConfigurationAcceptsAnySender) {
  auto n = NewTestNode(4, {});
  EXPECT_TRUE(n->node->Step(Msg(MessageType::kMsgHeartbeat, kNonMember, 4, 3)).ok());
  EXPECT_EQ(n->status().soft_state.lead, kNonMember);
  // The ceilings and the shape rules still hold.
  EXPECT_FALSE(n->node->Step(Msg(MessageType::kMsgHeartbeat, kNonMember, 4, ~uint64_t{0})).ok());
  EXPECT_EQ(n->status().hard_state.term, 3u);
}

TEST(RaftHostileInput, RejectionsAreCountedByReason) {
  Cluster c;
  TestNode* n = c.net.node(2);
  ASSERT_EQ(n->status().rejected.total(), 0u);
  (void)n->node->Step(Msg(MessageType::kMsgHeartbeat, kNonMember, 2, c.term()));
  (void)n->node->Step(Msg(MessageType::kMsgHeartbeat, kNonMember, 2, c.term()));
  (void)n->node->Step(Msg(MessageType::kMsgHup, 1, 2, 0));
  (void)n->node->Step(Msg(MessageType::kMsgHeartbeat, 1, 2, ~uint64_t{0}));
  const RejectedMessages r = n->status().rejected;
  EXPECT_EQ(r[RejectReason::kNotMember], 2u);
  EXPECT_EQ(r[RejectReason::kLocalType], 1u);
  EXPECT_EQ(r[RejectReason::kBadTerm], 1u);
  EXPECT_EQ(r.total(), 4u);
  for (int i = 0; i < kNumRejectReasons; ++i) {
    EXPECT_NE(RejectReasonName(static_cast<RejectReason>(i)), "unknown");
  }
}

// The liveness cost of the membership rule, and what limits it: node F
// misses the change that adds node X, which then becomes leader. F refuses
// X's messages (X is not in F's configuration, nor in its log), so on its
// own F would stay behind while X leads. A member answers F's pre-vote (a
// learner's probe) with a rejection naming X (reject_hint), even inside X's
// lease, and F then accepts X as a sender and catches up.
void CheckLaggingNodeCatchesUpWithANewLeader(bool learner) {
  sim::SimOptions o;
  o.n = 3;
  o.seed = 41;
  sim::SimCluster c(o);
  for (int i = 0; i < 200 && !c.Leader(); ++i) c.Tick();
  ASSERT_TRUE(c.Leader());
  uint64_t f = *c.Leader() % 3 + 1;
  uint64_t x = 4;
  if (learner) {
    auto r = c.AddMember(4, /*learner=*/true);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(c.WaitApplied(r->first, r->second, 200).ok());
    f = 4;
    x = 5;
  }
  std::vector<uint64_t> rest;
  for (uint64_t id : c.NodeIds())
    if (id != f) rest.push_back(id);
  c.Partition({{f}, rest});
  ASSERT_TRUE(c.Propose("while-away").ok());
  auto r = c.AddMember(x, /*learner=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  rest.push_back(x);  // X exists now; F stays cut off from everyone
  c.Partition({{f}, rest});
  ASSERT_TRUE(c.WaitApplied(r->first, r->second, 200).ok());
  r = c.Promote(x);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(c.WaitApplied(r->first, r->second, 200).ok());
  ASSERT_TRUE(c.TransferLeader(x).ok());
  for (int i = 0; i < 200 && c.Leader() != x; ++i) c.Tick();
  ASSERT_EQ(c.Leader(), x);
  ASSERT_TRUE(c.Propose("with-x-leading").ok());
  c.Tick(5);
  c.Heal();
  bool caught_up = false;
  for (int i = 0; i < 500 && !caught_up; ++i) {
    c.Tick();
    caught_up = *c.Applied(f) == *c.Applied(x) && c.Leader() == x;
  }
  EXPECT_TRUE(caught_up) << "node " << f << " applied " << c.Applied(f)->size() << " entries, node "
                         << x << " " << c.Applied(x)->size();
  EXPECT_GT(c.raw_node(f)->GetStatus().rejected[RejectReason::kNotMember], 0u)
      << "the scenario did not exercise the rule";
  for (const auto& v : c.violations()) ADD_FAILURE() << v;
}

TEST(RaftHostileInput, LaggingMemberCatchesUpWithALeaderAddedWhileItWasAway) {
  CheckLaggingNodeCatchesUpWithANewLeader(/*learner=*/false);
}

TEST(RaftHostileInput, LaggingLearnerCatchesUpWithALeaderAddedWhileItWasAway) {
  CheckLaggingNodeCatchesUpWithANewLeader(/*learner=*/true);
}

}  // namespace
}  // namespace tinykv::raft::testing
