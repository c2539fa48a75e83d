// MvccStateMachine alone (applied index, restart, checkpoint/install, bad
// commands) and through a real 3-replica group.
#include "tinykv/txn/mvcc_state_machine.h"

#include <gtest/gtest.h>

#include "mvcc_group.h"
#include "tinykv/replica/engine_dir.h"
#include "tinykv/storage/db.h"
#include "tinykv/storage/options.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {
namespace {

using testing::MvccGroup;
using ::tinykv::testing::TempDir;
using ::tinykv::testing::WaitUntil;
using namespace std::chrono_literals;

std::string Prewrite(const std::string& key, const std::string& value, uint64_t start_ts) {
  return EncodeTxnCommand(PrewriteCmd{{{MutationKind::kPut, key, value}}, key, start_ts, 3000});
}
std::string Commit(const std::string& key, uint64_t start_ts, uint64_t commit_ts) {
  return EncodeTxnCommand(CommitCmd{start_ts, commit_ts, {key}});
}

std::optional<std::string> ValueAt(MvccStateMachine* sm, const std::string& key, uint64_t ts) {
  auto r = sm->Get(key, ts);
  if (!r.ok() || r->error) return std::nullopt;
  return r->value;
}

TEST(MvccStateMachine, AppliesCommandsAndTheIndexTogetherAndSurvivesReopen) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  auto out = sm->Apply(1, 1, Slice(Prewrite("k", "v", 10)));
  ASSERT_OK(out);
  ASSERT_OK(out->status);
  auto r = DecodeTxnCommandResult(Slice(out->result));
  ASSERT_OK(r);
  EXPECT_TRUE(r->errors.empty());
  ASSERT_OK(sm->Apply(2, 1, Slice(Commit("k", 10, 11))));
  EXPECT_EQ(sm->applied_index(), 2u);
  sm.reset();
  sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->applied_index(), 2u);
  EXPECT_EQ(sm->applied_term(), 1u);
  EXPECT_EQ(ValueAt(sm.get(), "k", 11), "v");
  EXPECT_EQ(ValueAt(sm.get(), "k", 10), std::nullopt);
}

std::string KvWrite(replica::KvCommand::Op op, const std::string& key, const std::string& value,
                    uint64_t ts, uint64_t client = 0, uint64_t seq = 0,
                    std::optional<std::string> expected = std::nullopt) {
  replica::KvCommand kv;
  kv.op = op;
  kv.key = key;
  kv.value = value;
  kv.expected = std::move(expected);
  kv.client_id = client;
  kv.request_seq = seq;
  return EncodeTxnCommand(KvWriteCmd{kv, ts});
}

// ApplyBatch writes a run at once, but every command must see the ones
// before it: the same run applied one by one and as a batch gives the same
// outcomes and the same state. The run puts the same key twice, then
// compare-and-swaps it against the second value, retries a write of one
// client, writes other keys in between, and prewrites and commits (which
// run alone). Negative control: with BatchKeys' overlap check removed, the
// second put and the cas read the state before the first put and answer
// differently.
TEST(MvccStateMachine, ABatchAppliesAsOneByOne) {
  using Op = replica::KvCommand::Op;
  const std::vector<std::string> run = {
      KvWrite(Op::kPut, "a", "1", 100, 7, 1),
      KvWrite(Op::kPut, "b", "x", 101),
      KvWrite(Op::kPut, "a", "2", 102, 7, 2),
      KvWrite(Op::kPut, "a", "2", 103, 7, 2),  // a retry: the remembered answer
      KvWrite(Op::kCas, "a", "3", 104, 0, 0, std::string("2")),
      KvWrite(Op::kCas, "b", "y", 99, 0, 0, std::string("x")),  // below b's version: refused
      Prewrite("c", "v", 105),
      KvWrite(Op::kPut, "c", "plain", 106),  // meets the lock
      Commit("c", 105, 107),
      KvWrite(Op::kDelete, "b", "", 108),
      KvWrite(Op::kDeleteRange, "a", "c", 109),
  };
  TempDir d1, d2;
  auto one = MvccStateMachine::Open(d1.path()).value();
  auto batched = MvccStateMachine::Open(d2.path()).value();
  std::vector<replica::CommittedCommand> cmds;
  std::vector<std::string> alone;
  for (size_t i = 0; i < run.size(); ++i) {
    cmds.push_back(replica::CommittedCommand{i + 1, 1, Slice(run[i])});
    auto o = one->Apply(i + 1, 1, Slice(run[i]));
    ASSERT_OK(o);
    alone.push_back(o->status.ToString() + "|" + o->result);
  }
  auto outs = batched->ApplyBatch(cmds);
  ASSERT_OK(outs);
  ASSERT_EQ(outs->size(), run.size());
  for (size_t i = 0; i < run.size(); ++i)
    EXPECT_EQ((*outs)[i].status.ToString() + "|" + (*outs)[i].result, alone[i]) << "command " << i;
  EXPECT_EQ(batched->applied_index(), run.size());
  EXPECT_EQ(batched->Hash().value(), one->Hash().value());
  EXPECT_EQ(ValueAt(batched.get(), "a", 104), "3");
  EXPECT_EQ(ValueAt(batched.get(), "c", 107), "v");
}

// The write bound answers the conflict checks of writes above it without a
// seek, so it must never be below a write record: it rises with every kind
// of record (a commit, a rollback), survives a restart, and an engine
// without it gets it by a scan. Negative control: with PutWriteRecord not
// raising the bound, the rollback record at 200 is missed and the late
// prewrite at 200 succeeds.
TEST(MvccStateMachine, TheWriteBoundStaysAboveEveryWriteRecord) {
  using Op = replica::KvCommand::Op;
  using Kind = KeyError::Kind;
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->write_ts_bound(), 0u);
  auto apply = [&](uint64_t index, const std::string& cmd) {
    auto out = sm->Apply(index, 1, Slice(cmd));
    EXPECT_OK(out);
    EXPECT_OK(out->status);
    return DecodeTxnCommandResult(Slice(out->result)).value();
  };
  auto first_error = [](const TxnCommandResult& r) {
    return r.errors.empty() ? std::optional<Kind>() : std::optional<Kind>(r.errors[0].kind);
  };
  EXPECT_EQ(first_error(apply(1, KvWrite(Op::kPut, "a", "1", 100))), std::nullopt);
  EXPECT_EQ(sm->write_ts_bound(), 100u);
  // A rollback of a transaction that never prewrote: its record at 200.
  EXPECT_EQ(first_error(apply(2, EncodeTxnCommand(RollbackCmd{200, {"c"}}))), std::nullopt);
  EXPECT_EQ(sm->write_ts_bound(), 200u);
  EXPECT_EQ(first_error(apply(3, Prewrite("c", "late", 200))), Kind::kRolledBack);
  EXPECT_EQ(first_error(apply(4, KvWrite(Op::kPut, "a", "old", 90))), Kind::kWriteConflict);
  EXPECT_EQ(sm->write_ts_bound(), 200u);  // refused writes add nothing

  sm.reset();
  sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->write_ts_bound(), 200u);
  EXPECT_EQ(first_error(apply(5, Prewrite("c", "late", 200))), Kind::kRolledBack);

  // An engine without the record (as written before it existed).
  const uint64_t hash = sm->Hash().value();
  sm.reset();
  {
    storage::Options o;
    auto db = storage::DB::Open(o, replica::EnginePath(dir.path())).value();
    ASSERT_OK(db->Delete(storage::WriteOptions{}, Slice("mwrite_bound")));
  }
  sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->write_ts_bound(), 200u);
  EXPECT_EQ(sm->Hash().value(), hash);  // a hint, not state
  EXPECT_EQ(first_error(apply(6, KvWrite(Op::kPut, "a", "2", 300))), std::nullopt);
  EXPECT_EQ(sm->write_ts_bound(), 300u);
  EXPECT_EQ(ValueAt(sm.get(), "a", kMaxTs), "2");
  EXPECT_EQ(ValueAt(sm.get(), "a", 299), "1");
}

TEST(MvccStateMachine, BadCommandsAreConsumedAsFailedNoOps) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  const uint64_t before = sm->Hash().value();
  auto garbage = sm->Apply(1, 1, Slice("\x07garbage"));
  ASSERT_OK(garbage);  // the state machine did its job ...
  EXPECT_TRUE(garbage->status.IsCorruption())
      << garbage->status.ToString();  // ... the command failed
  auto invalid = sm->Apply(2, 1, Slice(EncodeTxnCommand(CommitCmd{10, 10, {"k"}})));
  ASSERT_OK(invalid);
  EXPECT_TRUE(invalid->status.IsInvalidArgument()) << invalid->status.ToString();
  EXPECT_EQ(sm->applied_index(), 2u);
  // Nothing but the applied index moved: the same hash as a state that only
  // applied two no-ops.
  TempDir other;
  auto noops = MvccStateMachine::Open(other.path()).value();
  ASSERT_OK(noops->ApplyNoop(1, 1));
  ASSERT_OK(noops->ApplyNoop(2, 1));
  EXPECT_EQ(sm->Hash().value(), noops->Hash().value());
  EXPECT_NE(sm->Hash().value(), before);
}

TEST(MvccStateMachine, CheckpointInstallsElsewhereWithTheSameHash) {
  TempDir a_dir, b_dir, ckpt;
  auto a = MvccStateMachine::Open(a_dir.path()).value();
  ASSERT_OK(a->Apply(1, 1, Slice(Prewrite("k", "v", 10))));
  ASSERT_OK(a->Apply(2, 1, Slice(Commit("k", 10, 11))));
  ASSERT_OK(a->Apply(3, 1, Slice(EncodeTxnCommand(ReserveTsCmd{500}))));
  ASSERT_OK(a->Checkpoint(ckpt.path() / "c"));
  auto b = MvccStateMachine::Open(b_dir.path()).value();
  ASSERT_OK(b->Apply(1, 1, Slice(Prewrite("other", "x", 10))));
  ASSERT_OK(b->Install(ckpt.path() / "c"));
  EXPECT_EQ(b->applied_index(), 3u);
  EXPECT_EQ(b->Hash().value(), a->Hash().value());
  EXPECT_EQ(ValueAt(b.get(), "k", 11), "v");
  EXPECT_EQ(b->reserved_ts().value(), 500u);
  auto other = b->Get("other", kMaxTs);
  ASSERT_OK(other);
  EXPECT_FALSE(other->error);  // b's own lock is gone with its old state
}

TEST(MvccStateMachine, ReserveTsKeepsTheHighestMark) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  auto r1 = DecodeTxnCommandResult(
      Slice(sm->Apply(1, 3, Slice(EncodeTxnCommand(ReserveTsCmd{100})))->result));
  EXPECT_EQ(r1->prev_reserved, 0u);
  EXPECT_EQ(r1->reserved, 100u);
  EXPECT_EQ(r1->term, 3u);
  auto r2 = DecodeTxnCommandResult(
      Slice(sm->Apply(2, 3, Slice(EncodeTxnCommand(ReserveTsCmd{50})))->result));
  EXPECT_EQ(r2->prev_reserved, 100u);
  EXPECT_EQ(r2->reserved, 100u);  // never moves back
  EXPECT_EQ(sm->reserved_ts().value(), 100u);
}

TEST(MvccStateMachine, AKvWriteRetryAfterARestartAnswersTheRememberedRevision) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  auto put = [&](uint64_t index, const std::string& value, uint64_t commit_ts) {
    KvWriteCmd c;
    c.kv.key = "k";
    c.kv.value = value;
    c.kv.client_id = 7;
    c.kv.request_seq = 1;
    c.commit_ts = commit_ts;
    auto out = sm->Apply(index, 1, Slice(EncodeTxnCommand(c)));
    EXPECT_OK(out);
    auto r = DecodeTxnCommandResult(Slice(out->result));
    EXPECT_OK(r);
    return *r;
  };
  const TxnCommandResult first = put(1, "v", 10);
  EXPECT_EQ(first.commit_ts, 10u);
  // The exactly-once record was written with the applied index: after a
  // restart the retry (the same request, proposed again at a newer
  // timestamp) is answered from it and writes nothing.
  sm.reset();
  sm = MvccStateMachine::Open(dir.path()).value();
  const TxnCommandResult retry = put(2, "v-again", 20);
  EXPECT_EQ(retry, first);
  EXPECT_EQ(sm->applied_index(), 2u);
  EXPECT_EQ(ValueAt(sm.get(), "k", kMaxTs), "v");
}

// --- through a replica group ------------------------------------------------

TEST(MvccStateMachineGroup, ATransactionCommitsOnEveryReplica) {
  TempDir dir;
  MvccGroup g(dir.path(), 3);
  const uint64_t t10 = ComposeTs(10, 0), t11 = ComposeTs(11, 0);
  auto pw = g.Propose(PrewriteCmd{
      {{MutationKind::kPut, "a", "1"}, {MutationKind::kPut, "b", "2"}}, "a", t10, 3000});
  ASSERT_OK(pw);
  EXPECT_TRUE(pw->errors.empty());
  // A second transaction's prewrite is refused by the locks, on every replica alike.
  auto conflict = g.Propose(PrewriteCmd{{{MutationKind::kPut, "b", "x"}}, "b", t10 + 1, 3000});
  ASSERT_OK(conflict);
  ASSERT_EQ(conflict->errors.size(), 1u);
  EXPECT_EQ(conflict->errors[0].kind, KeyError::Kind::kLocked);
  ASSERT_OK(g.Propose(CommitCmd{t10, t11, {"a", "b"}}));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(WaitUntil([&] { return ValueAt(g.sm(i), "b", t11) == "2"; }, 10s))
        << "replica " << i;
    EXPECT_EQ(ValueAt(g.sm(i), "a", t11), "1");
  }
  // The replicas' state hashes agree.
  const int leader = g.WaitLeader();
  ASSERT_NE(leader, 0);
  auto report = g.replica(leader)->CheckStateHashSync(10s);
  ASSERT_OK(report);
  EXPECT_TRUE(report->corrupt.empty());
  EXPECT_TRUE(report->majority.has_value());
}

TEST(MvccStateMachineGroup, AnUndecodableCommandFailsAloneAndTheGroupGoesOn) {
  TempDir dir;
  MvccGroup g(dir.path(), 3);
  auto bad = g.ProposeBytes("\x01\x63not a command");
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  ASSERT_OK(g.Propose(OnePhaseWriteCmd{{MutationKind::kPut, "k", "v"}, 5}));
  for (int i = 1; i <= 3; ++i)
    EXPECT_TRUE(WaitUntil([&] { return ValueAt(g.sm(i), "k", 5) == "v"; }, 10s)) << "replica " << i;
}

// With a snapshot every 10 entries the leader's log is compacted past the
// stopped follower: it comes back through Checkpoint/Install.
TEST(MvccStateMachineGroup, ARestartedReplicaCatchesUpAfterTheLogWasCompacted) {
  TempDir dir;
  MvccGroup g(dir.path(), 3, /*snapshot_threshold=*/10);
  ASSERT_OK(g.Propose(OnePhaseWriteCmd{{MutationKind::kPut, "k0", "v"}, 1}));
  int leader = g.WaitLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader == 1 ? 2 : 1;
  g.Stop(follower);
  for (uint64_t i = 1; i <= 40; ++i)
    ASSERT_OK(
        g.Propose(OnePhaseWriteCmd{{MutationKind::kPut, "k" + std::to_string(i), "v"}, 10 + i}));
  g.Start(follower);
  EXPECT_TRUE(WaitUntil([&] { return ValueAt(g.sm(follower), "k40", kMaxTs) == "v"; }, 20s));
  EXPECT_EQ(ValueAt(g.sm(follower), "k0", kMaxTs), "v");
}

}  // namespace
}  // namespace tinykv::txn
