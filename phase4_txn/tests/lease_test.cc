// Leases in the MVCC state machine (lease.h): grant, attach by a put, detach
// by a put without a lease or a delete, revoke deleting every attached key
// in one revision; the records they leave; and the in-memory lease table
// that lets puts skip their lease lookup, rebuilt at open and on install.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/mvcc_state_machine.h"

namespace tinykv::txn {
namespace {

using testing::KvCas;
using testing::KvDelete;
using testing::KvDeleteRange;
using testing::KvPut;
using testing::MvccEngine;
using testing::Ts;
using ::tinykv::testing::TempDir;

KvWriteCmd LeasedPut(std::string key, std::string value, uint64_t ts, uint64_t lease) {
  KvWriteCmd c = KvPut(std::move(key), std::move(value), ts);
  c.lease = lease;
  return c;
}

// The key the reverse record of `key` names (0: none), checked against the
// forward record.
uint64_t AttachedTo(MvccEngine& e, const std::string& key) {
  auto rec = e.Raw(LeaseOfKey(Slice(key)));
  if (!rec) return 0;
  const uint64_t id = DecodeVarintValue(Slice(*rec)).value();
  EXPECT_TRUE(e.Raw(LeaseAttachKey(id, Slice(key))).has_value()) << "no forward record";
  return id;
}

size_t ForwardRecords(MvccEngine& e, uint64_t id) {
  size_t n = 0;
  const std::string prefix = LeaseAttachPrefix(id);
  for (const auto& [k, v] : e.Contents()) n += Slice(k).starts_with(Slice(prefix)) ? 1 : 0;
  return n;
}

TEST(Lease, GrantWritesTheLeaseAndRefusesAnExistingId) {
  MvccEngine e;
  auto r = e.Run(LeaseGrantCmd{7, 10});
  EXPECT_EQ(r.lease_status, LeaseStatus::kOk);
  EXPECT_EQ(DecodeVarintValue(Slice(e.Raw(LeaseKey(7)).value())), 10u);
  auto before = e.Contents();
  auto again = e.Run(LeaseGrantCmd{7, 99});
  EXPECT_EQ(again.lease_status, LeaseStatus::kLeaseExists);
  EXPECT_EQ(e.Contents(), before);
}

TEST(Lease, APutNamingAMissingLeaseIsRefusedAndWritesNothing) {
  MvccEngine e;
  auto before = e.Contents();
  auto r = e.Run(LeasedPut("k", "v", Ts(10), 42));
  EXPECT_EQ(r.lease_status, LeaseStatus::kLeaseNotFound);
  EXPECT_FALSE(r.kv.succeeded);
  EXPECT_EQ(e.Contents(), before);
  EXPECT_EQ(e.Value("k", kMaxTs), std::nullopt);
}

TEST(Lease, APutAttachesItsKeyForwardAndReverse) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  auto r = e.Run(LeasedPut("k", "v", Ts(10), 7));
  EXPECT_EQ(r.lease_status, LeaseStatus::kOk);
  EXPECT_EQ(e.Value("k", kMaxTs), "v");
  EXPECT_EQ(AttachedTo(e, "k"), 7u);
  EXPECT_EQ(ForwardRecords(e, 7), 1u);
}

TEST(Lease, APutWithAnotherLeaseMovesTheKey) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeaseGrantCmd{8, 10});
  e.Run(LeasedPut("k", "v", Ts(10), 7));
  e.Run(LeasedPut("k", "w", Ts(11), 8));
  EXPECT_EQ(AttachedTo(e, "k"), 8u);
  EXPECT_EQ(ForwardRecords(e, 7), 0u);
  EXPECT_EQ(ForwardRecords(e, 8), 1u);
}

TEST(Lease, APutWithoutALeaseDetaches) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeasedPut("k", "v", Ts(10), 7));
  e.Run(KvPut("k", "plain", Ts(11)));
  EXPECT_EQ(AttachedTo(e, "k"), 0u);
  EXPECT_EQ(ForwardRecords(e, 7), 0u);
  // So the revoke leaves it.
  auto r = e.Run(LeaseRevokeCmd{7, Ts(12)});
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(e.Value("k", kMaxTs), "plain");
}

TEST(Lease, ADeleteAndADeleteRangeDetach) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeasedPut("a", "1", Ts(10), 7));
  e.Run(LeasedPut("b", "2", Ts(11), 7));
  e.Run(LeasedPut("c", "3", Ts(12), 7));
  e.Run(KvDelete("a", Ts(13)));
  EXPECT_EQ(AttachedTo(e, "a"), 0u);
  e.Run(KvDeleteRange("b", "c", Ts(14)));
  EXPECT_EQ(AttachedTo(e, "b"), 0u);
  EXPECT_EQ(AttachedTo(e, "c"), 7u);
  EXPECT_EQ(ForwardRecords(e, 7), 1u);
}

TEST(Lease, ASuccessfulCasAttachesAFailedOneChangesNothing) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  KvWriteCmd cas = KvCas("k", std::nullopt, "v", Ts(10));
  cas.lease = 7;
  EXPECT_TRUE(e.Run(cas).kv.succeeded);
  EXPECT_EQ(AttachedTo(e, "k"), 7u);
  KvWriteCmd fail = KvCas("k", std::string("other"), "w", Ts(11));
  EXPECT_FALSE(e.Run(fail).kv.succeeded);
  EXPECT_EQ(AttachedTo(e, "k"), 7u);  // the failed cas wrote nothing, detached nothing
}

TEST(Lease, RevokeDeletesEveryAttachedKeyAtOneRevisionAndTheLease) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeaseGrantCmd{8, 10});
  e.Run(LeasedPut("a", "1", Ts(10), 7));
  e.Run(LeasedPut("b", "2", Ts(11), 7));
  e.Run(LeasedPut("other", "x", Ts(12), 8));
  auto r = e.Run(LeaseRevokeCmd{7, Ts(20)});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.lease_status, LeaseStatus::kOk);
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(r.commit_ts, Ts(20));
  // Both tombstones at the one commit ts: a read just below it sees both
  // keys, a read at it sees neither.
  EXPECT_EQ(e.WriteAt("a", Ts(20)), (Write{WriteKind::kDelete, Ts(20)}));
  EXPECT_EQ(e.WriteAt("b", Ts(20)), (Write{WriteKind::kDelete, Ts(20)}));
  EXPECT_EQ(e.Value("a", Ts(20) - 1), "1");
  EXPECT_EQ(e.Value("b", Ts(20) - 1), "2");
  EXPECT_EQ(e.Value("a", Ts(20)), std::nullopt);
  EXPECT_EQ(e.Value("b", Ts(20)), std::nullopt);
  // The lease and its attachments are gone; the other lease is untouched.
  EXPECT_FALSE(e.Raw(LeaseKey(7)).has_value());
  EXPECT_EQ(ForwardRecords(e, 7), 0u);
  EXPECT_EQ(AttachedTo(e, "a"), 0u);
  EXPECT_EQ(AttachedTo(e, "other"), 8u);
  EXPECT_EQ(e.Value("other", kMaxTs), "x");
  // Revoking it again: not found, nothing written.
  auto before = e.Contents();
  EXPECT_EQ(e.Run(LeaseRevokeCmd{7, Ts(30)}).lease_status, LeaseStatus::kLeaseNotFound);
  EXPECT_EQ(e.Contents(), before);
}

TEST(Lease, ARevokeThatMeetsANewerWriteRefusesWholeAndRetriesAbove) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeasedPut("a", "1", Ts(10), 7));
  e.Run(LeasedPut("b", "2", Ts(30), 7));
  auto before = e.Contents();
  auto r = e.Run(LeaseRevokeCmd{7, Ts(20)});  // below b's version
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, KeyError::Kind::kWriteConflict);
  EXPECT_EQ(e.Contents(), before);  // not even "a" was deleted: all or nothing
  EXPECT_EQ(e.Run(LeaseRevokeCmd{7, Ts(40)}).count, 2u);
}

TEST(Lease, ARevokeLockedOutWritesNothing) {
  MvccEngine e;
  e.Run(LeaseGrantCmd{7, 10});
  e.Run(LeasedPut("a", "1", Ts(10), 7));
  e.Run(PrewriteCmd{{testing::Put("a", "txn")}, "a", Ts(15), 3000});
  auto before = e.Contents();
  auto r = e.Run(LeaseRevokeCmd{7, Ts(20)});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].kind, KeyError::Kind::kLocked);
  EXPECT_EQ(e.Contents(), before);
}

// The record layout the format doc gives (doc/mvcc_format.md, "Leases").
TEST(Lease, RecordBytesAreAsDocumented) {
  EXPECT_EQ(Slice(LeaseKey(0x694d5765fc71500bULL)).ToHex(),
            Slice(std::string("mlease/") + "\x69\x4d\x57\x65\xfc\x71\x50\x0b").ToHex());
  EXPECT_EQ(LeaseAttachKey(1, Slice("k")), std::string("mlease_attach/\0\0\0\0\0\0\0\x01k", 23));
  EXPECT_EQ(LeaseOfKey(Slice("k")), "mlease_of/k");
  EXPECT_EQ(DecodeLeaseId(Slice(LeaseKey(99))), 99u);
  EXPECT_EQ(DecodeLeaseId(Slice("mlease/short")), std::nullopt);
}

// --- the state machine's lease table -----------------------------------------

std::string Cmd(const TxnCommand& c) { return EncodeTxnCommand(c); }

TxnCommandResult ApplyOk(MvccStateMachine* sm, uint64_t index, const TxnCommand& c) {
  auto out = sm->Apply(index, 1, Slice(Cmd(c)));
  EXPECT_TRUE(out.ok() && out->status.ok());
  return DecodeTxnCommandResult(Slice(out->result)).value();
}

TEST(LeaseStateMachine, TheTableFollowsGrantAndRevoke) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_TRUE(sm->Leases().empty());
  ApplyOk(sm.get(), 1, LeaseGrantCmd{7, 10});
  ApplyOk(sm.get(), 2, LeaseGrantCmd{8, 20});
  EXPECT_EQ(sm->Leases(), (std::map<uint64_t, uint64_t>{{7, 10}, {8, 20}}));
  EXPECT_EQ(sm->LeaseTtl(8), 20u);
  ApplyOk(sm.get(), 3, LeasedPut("k2", "v", Ts(10), 7));
  ApplyOk(sm.get(), 4, LeasedPut("k1", "v", Ts(11), 7));
  EXPECT_EQ(sm->LeaseKeys(7).value(), (std::vector<std::string>{"k1", "k2"}));
  ApplyOk(sm.get(), 5, LeaseRevokeCmd{7, Ts(12)});
  EXPECT_EQ(sm->Leases(), (std::map<uint64_t, uint64_t>{{8, 20}}));
  EXPECT_EQ(sm->LeaseTtl(7), std::nullopt);
}

// Without the table rebuilt at open, the reopened state machine would think
// no lease exists, skip the put's detachment, and the revoke would delete a
// key that a plain put had taken back (tried: the last expectation fails).
TEST(LeaseStateMachine, TheTableIsRebuiltAtOpenSoAPutStillDetaches) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  ApplyOk(sm.get(), 1, LeaseGrantCmd{7, 10});
  ApplyOk(sm.get(), 2, LeasedPut("k", "v", Ts(10), 7));
  sm.reset();
  sm = MvccStateMachine::Open(dir.path()).value();
  EXPECT_EQ(sm->Leases(), (std::map<uint64_t, uint64_t>{{7, 10}}));
  ApplyOk(sm.get(), 3, KvPut("k", "plain", Ts(11)));
  EXPECT_EQ(ApplyOk(sm.get(), 4, LeaseRevokeCmd{7, Ts(12)}).count, 0u);
  EXPECT_EQ(sm->Get("k", kMaxTs)->value, "plain");
}

// The same after a snapshot install: the table is the installed engine's
// (without LoadLeases in Install, `b` keeps its own empty table and the
// put naming lease 7 is refused).
TEST(LeaseStateMachine, TheTableIsRebuiltOnInstall) {
  TempDir a_dir, b_dir, ckpt;
  auto a = MvccStateMachine::Open(a_dir.path()).value();
  ApplyOk(a.get(), 1, LeaseGrantCmd{7, 10});
  ASSERT_OK(a->Checkpoint(ckpt.path() / "c"));
  auto b = MvccStateMachine::Open(b_dir.path()).value();
  ASSERT_OK(b->Install(ckpt.path() / "c"));
  EXPECT_EQ(b->Leases(), (std::map<uint64_t, uint64_t>{{7, 10}}));
  EXPECT_EQ(ApplyOk(b.get(), 2, LeasedPut("k", "v", Ts(10), 7)).lease_status, LeaseStatus::kOk);
}

// The hot path: with no lease, a put neither reads nor writes lease records
// -- and a put naming a lease is refused without a lookup.
TEST(LeaseStateMachine, WithNoLeaseAPutLeavesNoLeaseRecord) {
  TempDir dir;
  auto sm = MvccStateMachine::Open(dir.path()).value();
  ApplyOk(sm.get(), 1, KvPut("k", "v", Ts(10)));
  EXPECT_EQ(ApplyOk(sm.get(), 2, LeasedPut("k", "v", Ts(11), 5)).lease_status,
            LeaseStatus::kLeaseNotFound);
  EXPECT_EQ(sm->Get("k", kMaxTs)->value, "v");
  EXPECT_TRUE(sm->LeaseKeys(5).value().empty());
}

TEST(LeaseStateMachine, AppliedOnTwoReplicasTheStateHashesAgree) {
  TempDir d1, d2;
  auto one = MvccStateMachine::Open(d1.path()).value();
  auto two = MvccStateMachine::Open(d2.path()).value();
  std::vector<TxnCommand> run = {LeaseGrantCmd{7, 10}, LeasedPut("a", "1", Ts(10), 7),
                                 LeasedPut("b", "2", Ts(11), 7), KvPut("a", "p", Ts(12)),
                                 LeaseRevokeCmd{7, Ts(13)}};
  std::vector<replica::CommittedCommand> batch;
  std::vector<std::string> bytes;
  for (const auto& c : run) bytes.push_back(Cmd(c));
  for (size_t i = 0; i < run.size(); ++i) {
    ApplyOk(one.get(), i + 1, run[i]);
    batch.push_back(replica::CommittedCommand{i + 1, 1, Slice(bytes[i])});
  }
  ASSERT_OK(two->ApplyBatch(batch));
  EXPECT_EQ(one->Hash().value(), two->Hash().value());
  EXPECT_EQ(two->Get("a", kMaxTs)->value, "p");
  EXPECT_EQ(two->Get("b", kMaxTs)->value, std::nullopt);
}

}  // namespace
}  // namespace tinykv::txn
