// KvStateMachine: commands apply atomically with the applied index, retries
// are deduplicated, checkpoints install into another instance, and the
// state hash covers exactly the replicated state.
#include "tinykv/replica/kv_state_machine.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
using namespace raft;  // NOLINT: core types in tests
namespace {

namespace fs = std::filesystem;

KvCommand Put(std::string k, std::string v, uint64_t client = 0, uint64_t seq = 0) {
  KvCommand c;
  c.op = KvCommand::Op::kPut;
  c.key = std::move(k);
  c.value = std::move(v);
  c.client_id = client;
  c.request_seq = seq;
  return c;
}

KvCommand Cas(std::string k, std::optional<std::string> expected, std::string v) {
  KvCommand c;
  c.op = KvCommand::Op::kCas;
  c.key = std::move(k);
  c.expected = std::move(expected);
  c.value = std::move(v);
  return c;
}

TEST(KvCommandCodecTest, RoundTripsAndRejectsGarbage) {
  KvCommand c = Cas("k", std::string("old"), "new");
  c.client_id = 7;
  c.request_seq = 9;
  std::string enc = EncodeKvCommand(c);
  auto d = DecodeKvCommand(Slice(enc)).value();
  EXPECT_EQ(d.key, "k");
  EXPECT_EQ(d.expected, std::optional<std::string>("old"));
  EXPECT_EQ(d.value, "new");
  EXPECT_EQ(d.client_id, 7u);
  EXPECT_EQ(d.request_seq, 9u);
  EXPECT_TRUE(DecodeKvCommand(Slice(enc.data(), enc.size() - 1)).status().IsCorruption());
  EXPECT_TRUE(DecodeKvCommand(Slice(enc + "x")).status().IsCorruption());
}

TEST(KvStateMachineTest, AppliesPutDeleteCasAndDeleteRange) {
  testing::TempDir dir;
  auto sm = KvStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->applied_index(), 0u);
  ASSERT_OK(sm->ApplyCommand(1, 1, Put("a", "1")).status());
  ASSERT_OK(sm->ApplyCommand(2, 1, Put("b", "2")).status());
  ASSERT_OK(sm->ApplyCommand(3, 1, Put("c", "3")).status());
  auto r = sm->ApplyCommand(4, 1, Cas("a", std::string("wrong"), "x")).value();
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.current, std::optional<std::string>("1"));
  r = sm->ApplyCommand(5, 1, Cas("a", std::string("1"), "x")).value();
  EXPECT_TRUE(r.succeeded);
  r = sm->ApplyCommand(6, 1, Cas("new", std::nullopt, "n")).value();
  EXPECT_TRUE(r.succeeded);
  KvCommand dr;
  dr.op = KvCommand::Op::kDeleteRange;
  dr.key = "b";
  dr.value = "d";
  r = sm->ApplyCommand(7, 1, dr).value();
  EXPECT_EQ(r.deleted, 2u);
  KvCommand del;
  del.op = KvCommand::Op::kDelete;
  del.key = "new";
  ASSERT_OK(sm->ApplyCommand(8, 2, del).status());
  auto all = sm->Scan("", "", 100).value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (std::pair<std::string, std::string>("a", "x")));
  EXPECT_EQ(sm->applied_index(), 8u);
  EXPECT_EQ(sm->applied_term(), 2u);
}

TEST(KvStateMachineTest, AppliedIndexAndDedupSurviveReopen) {
  testing::TempDir dir;
  {
    auto sm = KvStateMachine::Open(dir.path()).value();
    auto r = sm->ApplyCommand(1, 1, Cas("k", std::nullopt, "v1")).value();
    EXPECT_TRUE(r.succeeded);
    KvCommand c = Put("counter", "1", /*client=*/5, /*seq=*/1);
    ASSERT_OK(sm->ApplyCommand(2, 1, c).status());
    ASSERT_OK(sm->ApplyConfChange(3, 2, Membership{ConfState{{1, 2}, {}, {}, {}, false}, {}}));
  }
  auto sm = KvStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->applied_index(), 3u);
  EXPECT_EQ(sm->membership()->conf.voters, (std::vector<uint64_t>{1, 2}));
  // A retry of (client 5, seq 1) does not execute again: it returns the old result.
  auto r = sm->ApplyCommand(4, 2, Put("counter", "RETRY", 5, 1)).value();
  EXPECT_EQ(r.index, 2u);
  EXPECT_EQ(sm->Get("counter").value(), std::optional<std::string>("1"));
  ASSERT_OK(sm->ApplyCommand(5, 2, Put("counter", "2", 5, 2)).status());
  EXPECT_EQ(sm->Get("counter").value(), std::optional<std::string>("2"));
  EXPECT_EQ(sm->Get("missing").value(), std::nullopt);
}

// Through the StateMachine interface (what a Replica calls): the result is the
// encoded KvCommandResult, and a command that does not decode is consumed as
// a no-op with a Corruption outcome instead of failing the state machine.
TEST(KvStateMachineTest, OpaqueApplyEncodesResultsAndConsumesGarbageAsNoop) {
  testing::TempDir dir;
  auto sm = KvStateMachine::Open(dir.path()).value();
  StateMachine& generic = *sm;
  auto out = generic.Apply(1, 1, Slice(EncodeKvCommand(Put("a", "1")))).value();
  ASSERT_OK(out.status);
  KvCommandResult r;
  Slice in(out.result);
  ASSERT_TRUE(DecodeKvCommandResult(&in, &r));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(r.index, 1u);
  out = generic.Apply(2, 1, Slice("\x01\x09garbage")).value();
  EXPECT_TRUE(out.status.IsCorruption()) << out.status.ToString();
  EXPECT_EQ(sm->applied_index(), 2u);
  EXPECT_EQ(sm->Get("a").value(), std::optional<std::string>("1"));
}

// A run applied with ApplyBatch (one engine write, what a busy replica does)
// gives the outcomes and the state that applying each entry alone gives:
// later commands see earlier ones of the same run (a CAS after a put, a
// retry after the original), a delete-range in the middle sees everything
// before it, and garbage is still a no-op with a Corruption outcome.
TEST(KvStateMachineTest, BatchedRunEqualsEntryByEntry) {
  KvCommand dr;
  dr.op = KvCommand::Op::kDeleteRange;
  dr.key = "a";
  dr.value = "b";
  KvCommand del;
  del.op = KvCommand::Op::kDelete;
  del.key = "b";
  const std::vector<std::string> cmds = {
      EncodeKvCommand(Put("a", "1", 5, 1)),    EncodeKvCommand(Cas("a", std::string("1"), "2")),
      EncodeKvCommand(Put("a", "9", 5, 1)),    EncodeKvCommand(Put("b", "x")),
      EncodeKvCommand(Put("ab", "y")),         EncodeKvCommand(dr),
      EncodeKvCommand(Cas("a", std::nullopt, "3")), std::string("\x01\x09garbage"),
      EncodeKvCommand(del),                    EncodeKvCommand(Put("c", "z", 5, 2)),
      EncodeKvCommand(Cas("c", std::string("z"), "w"))};
  std::vector<CommittedCommand> run;
  for (size_t i = 0; i < cmds.size(); ++i) run.push_back({i + 1, 1, Slice(cmds[i])});

  testing::TempDir one_dir, batch_dir;
  auto one = KvStateMachine::Open(one_dir.path()).value();
  auto batch = KvStateMachine::Open(batch_dir.path()).value();
  std::vector<CommandOutcome> singles;
  for (const auto& c : run) singles.push_back(one->Apply(c.index, c.term, c.command).value());
  auto outs = batch->ApplyBatch(run);
  ASSERT_OK(outs.status());
  ASSERT_EQ(outs->size(), singles.size());
  for (size_t i = 0; i < singles.size(); ++i) {
    EXPECT_EQ((*outs)[i].status.ToString(), singles[i].status.ToString()) << "entry " << i + 1;
    EXPECT_EQ((*outs)[i].result, singles[i].result) << "entry " << i + 1;
  }
  EXPECT_EQ(batch->applied_index(), cmds.size());
  EXPECT_EQ(batch->Hash().value(), one->Hash().value());
  // What the run means, spelled out: the retry got the first put's outcome
  // (and did not overwrite the CAS), the delete-range removed "a" and "ab".
  EXPECT_EQ(batch->Get("a").value(), std::optional<std::string>("3"));
  EXPECT_EQ(batch->Get("ab").value(), std::nullopt);
  EXPECT_EQ(batch->Get("b").value(), std::nullopt);
  EXPECT_EQ(batch->Get("c").value(), std::optional<std::string>("w"));
  EXPECT_TRUE((*outs)[7].status.IsCorruption());
  // Durable as one position: a reopened machine is at the end of the run.
  batch.reset();
  batch = KvStateMachine::Open(batch_dir.path()).value();
  EXPECT_EQ(batch->applied_index(), cmds.size());
  EXPECT_EQ(batch->Hash().value(), one->Hash().value());
}

TEST(KvStateMachineTest, CheckpointInstallsIntoAnotherMachine) {
  testing::TempDir a, b;
  auto src = KvStateMachine::Open(a.path()).value();
  for (int i = 1; i <= 50; ++i) ASSERT_OK(src->ApplyCommand(i, 1, Put("k" + std::to_string(i), "v")).status());
  ASSERT_OK(src->Checkpoint(a.path() / "ckpt"));
  auto dst = KvStateMachine::Open(b.path()).value();
  ASSERT_OK(dst->ApplyCommand(1, 1, Put("stale", "x")).status());
  ASSERT_OK(dst->Install(a.path() / "ckpt"));
  EXPECT_EQ(dst->applied_index(), 50u);
  EXPECT_EQ(dst->Get("stale").value(), std::nullopt);
  EXPECT_EQ(dst->Scan("", "", 1000).value().size(), 50u);
}

// ---- Hash (StateMachine::Hash): exactly the replicated state, at the cut
// PrepareHash took, and Corruption for a damaged table.

// Two state machines fed the same entries: equal hashes; and the same after
// reopening (the hash is of the durable state, not of a process).
void ApplySome(KvStateMachine* sm) {
  ASSERT_OK(sm->ApplyConfChange(1, 1, Membership{raft::ConfState{{1, 2, 3}}, {}}));
  ASSERT_OK(sm->ApplyCommand(2, 1, Put("a", "1")).status());
  ASSERT_OK(sm->ApplyCommand(3, 1, Put("b", "2", /*client=*/7, /*seq=*/1)).status());
  ASSERT_OK(sm->ApplyNoop(4, 2));
}

TEST(KvStateMachineHash, SameEntriesSameHashAcrossInstancesAndReopen) {
  testing::TempDir d1, d2;
  uint64_t h1 = 0;
  {
    auto a = KvStateMachine::Open(d1.path()).value();
    auto b = KvStateMachine::Open(d2.path()).value();
    ApplySome(a.get());
    ApplySome(b.get());
    h1 = a->Hash().value();
    EXPECT_EQ(b->Hash().value(), h1);
  }
  auto a = KvStateMachine::Open(d1.path()).value();
  EXPECT_EQ(a->Hash().value(), h1);
}

TEST(KvStateMachineHash, CoversDataDedupPositionAndConfigurationButNotAddresses) {
  testing::TempDir dir;
  auto sm = KvStateMachine::Open(dir.path()).value();
  ApplySome(sm.get());
  const uint64_t base = sm->Hash().value();
  auto with = [&](auto change) {
    testing::TempDir other;
    auto o = KvStateMachine::Open(other.path()).value();
    ApplySome(o.get());
    change(o.get());
    return o->Hash().value();
  };
  // A different value, a different dedup record, another applied position,
  // another configuration: another hash.
  auto applying = [](KvCommand c) {
    return [c](KvStateMachine* o) { ASSERT_OK(o->ApplyCommand(5, 2, c).status()); };
  };
  EXPECT_NE(with(applying(Put("a", "x"))), with(applying(Put("a", "1"))));
  EXPECT_NE(with(applying(Put("c", "3", 7, 2))), with(applying(Put("c", "3", 8, 2))));
  EXPECT_NE(with([](KvStateMachine* o) { ASSERT_OK(o->ApplyNoop(5, 2)); }),
            with([](KvStateMachine* o) { ASSERT_OK(o->ApplyNoop(5, 3)); }));
  EXPECT_NE(base, with([](KvStateMachine* o) {
              ASSERT_OK(o->ApplyConfChange(4, 2, Membership{raft::ConfState{{1, 2}}, {}}));
            }));
  // The same configuration with other addresses in the book: the same hash.
  AddressBook book;
  book[1] = MemberAddress{"127.0.0.1:2380", ""};
  book[2] = MemberAddress{"localhost:2381", "localhost:2379"};
  EXPECT_EQ(with([&](KvStateMachine* o) {
              ASSERT_OK(o->ApplyConfChange(5, 2, Membership{raft::ConfState{{1, 2, 3}}, book}));
            }),
            with([](KvStateMachine* o) {
              ASSERT_OK(o->ApplyConfChange(5, 2, Membership{raft::ConfState{{1, 2, 3}}, {}}));
            }));
}

// PrepareHash is the cut: what applies after it does not change its hash.
TEST(KvStateMachineHash, PreparedJobHashesTheStateAsOfItsPreparation) {
  testing::TempDir dir;
  auto sm = KvStateMachine::Open(dir.path()).value();
  ApplySome(sm.get());
  const uint64_t before = sm->Hash().value();
  auto job = sm->PrepareHash().value();
  for (uint64_t i = 5; i < 500; ++i)
    ASSERT_OK(sm->ApplyCommand(i, 2, Put("k" + std::to_string(i), "v")).status());
  const std::atomic<bool> cancel{false};
  EXPECT_EQ(job(cancel).value(), before);
  EXPECT_NE(sm->Hash().value(), before);
  // A cancelled job stops with Aborted instead of a hash.
  for (uint64_t i = 500; i < 3000; ++i)
    ASSERT_OK(sm->ApplyCommand(i, 2, Put("k" + std::to_string(i), "v")).status());
  auto job2 = sm->PrepareHash().value();
  const std::atomic<bool> cancelled{true};
  EXPECT_TRUE(job2(cancelled).status().IsAborted());
}

// A table whose bytes were damaged on disk: the hash says Corruption (every
// block checksum is verified), it never returns a hash of garbage.
TEST(KvStateMachineHash, DamagedTableIsCorruption) {
  testing::TempDir dir;
  {
    auto sm = KvStateMachine::Open(dir.path()).value();
    for (uint64_t i = 1; i <= 2000; ++i)
      ASSERT_OK(
          sm->ApplyCommand(i, 1, Put("key" + std::to_string(i), std::string(100, 'v'))).status());
  }
  {
    storage::Options o;
    auto db = storage::DB::Open(o, dir.path() / "db").value();
    ASSERT_OK(db->Flush());
  }
  std::vector<fs::path> tables;
  for (const auto& e : fs::directory_iterator(dir.path() / "db"))
    if (e.path().extension() == ".sst") tables.push_back(e.path());
  ASSERT_FALSE(tables.empty());
  {
    std::fstream f(tables[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);  // inside the first data block
    f.write("\xde\xad\xbe\xef", 4);
  }
  auto sm = KvStateMachine::Open(dir.path()).value();
  auto h = sm->Hash();
  ASSERT_FALSE(h.ok());
  EXPECT_TRUE(h.status().IsCorruption()) << h.status().ToString();
}

}  // namespace
}  // namespace tinykv::replica
