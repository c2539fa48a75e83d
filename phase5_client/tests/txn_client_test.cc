// Client transactions (txn.h) and lock resolution (client.h "Locks")
// against an in-process 3-member MVCC cluster (LocalCluster).
#include "tinykv/client/txn.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tinykv/client/local_cluster.h"
#include "tinykv/client/protocol.h"
#include "tinykv/net/client.h"

#include "local_cluster_fixture.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;

class TxnClientTest : public LocalClusterTest {
 protected:
  void SetUp() override {
    LocalClusterTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = NewClient(10s, 2s);
  }
  // Prewrites `keys` as a transaction whose client then vanishes (no
  // commit, no rollback): its locks stay, with `ttl_ms`.
  uint64_t AbandonedPrewrite(const std::vector<std::string>& keys, uint64_t ttl_ms) {
    const uint64_t start = client_->Timestamps().value();
    std::vector<txn::Mutation> ms;
    for (const auto& k : keys) ms.push_back(txn::Mutation{txn::MutationKind::kPut, k, "abandoned"});
    auto r = client_->RunTxnCommand(txn::PrewriteCmd{ms, keys.front(), start, ttl_ms});
    EXPECT_TRUE(r.ok() && r->errors.empty());
    return start;
  }

  std::unique_ptr<Client> client_;
};

TEST_F(TxnClientTest, CommitMakesAllWritesVisibleAtOnceWithReadYourWrites) {
  ASSERT_OK(client_->Put("a", "0"));
  auto t = Txn::Begin(*client_).value();
  ASSERT_OK(t->Put("a", "1"));
  ASSERT_OK(t->Put("b", "1"));
  ASSERT_OK(t->Delete("c"));
  EXPECT_EQ(*t->Get("a").value(), "1");  // its own write
  EXPECT_EQ(*client_->Get("a").value(), "0");  // nobody else's yet
  auto scan = t->Scan("a", "z").value();
  ASSERT_EQ(scan.size(), 2u);
  EXPECT_EQ(scan[1].key, "b");
  auto commit_ts = t->Commit();
  ASSERT_OK(commit_ts.status());
  EXPECT_GT(*commit_ts, t->start_ts());
  EXPECT_EQ(*client_->Get("a").value(), "1");
  EXPECT_EQ(*client_->Get("b").value(), "1");
  // The past stays readable at its revision.
  CallOptions before;
  before.revision = t->start_ts();
  EXPECT_EQ(*client_->Get("a", before).value(), "0");
  EXPECT_FALSE(client_->Get("b", before).value().has_value());
}

TEST_F(TxnClientTest, TheSecondOfTwoConflictingWritersFails) {
  auto t1 = Txn::Begin(*client_).value();
  auto t2 = Txn::Begin(*client_).value();
  ASSERT_OK(t1->Put("x", "t1"));
  ASSERT_OK(t2->Put("x", "t2"));
  ASSERT_OK(t1->Commit().status());
  auto r = t2->Commit();
  EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_EQ(*client_->Get("x").value(), "t1");
  // A retry in a new transaction succeeds.
  auto again = RunTxn(*client_, [](Txn& t) { return t.Put("x", "t2"); });
  ASSERT_OK(again.status());
  EXPECT_EQ(*client_->Get("x").value(), "t2");
}

// A key read and Lock()ed is part of the commit: a write to it after
// start_ts fails the commit, as for a written key. Without the Lock the
// same interleaving commits (write skew), which is what makes this test
// meaningful: each transaction moves "stock" to "sold" only if stock is in.
TEST_F(TxnClientTest, ALockedKeyChangedAfterStartFailsTheCommit) {
  ASSERT_OK(client_->Put("stock", "in"));
  for (bool lock : {false, true}) {
    auto t = Txn::Begin(*client_).value();
    ASSERT_EQ(*t->Get("stock").value(), "in");
    if (lock) {
      ASSERT_OK(t->Lock("stock"));
    }
    ASSERT_OK(t->Put(lock ? "sold2" : "sold1", "yes"));
    ASSERT_OK(client_->Put("stock", "out"));  // someone else, after start_ts
    auto r = t->Commit();
    if (lock) {
      EXPECT_TRUE(r.status().IsConflict()) << r.status().ToString();
      EXPECT_FALSE(client_->Get("sold2").value().has_value());
    } else {
      EXPECT_OK(r.status());  // snapshot isolation alone does not see it
    }
    ASSERT_OK(client_->Put("stock", "in"));
  }
}

// A Lock()ed key smaller than every written one is the primary: a lock-only
// primary commits the transaction, and the locked key's value stays.
TEST_F(TxnClientTest, ALockOnlyPrimaryCommitsAndWritesNothing) {
  ASSERT_OK(client_->Put("a", "kept"));
  auto t = Txn::Begin(*client_).value();
  ASSERT_OK(t->Lock("a"));
  ASSERT_OK(t->Put("b", "1"));
  ASSERT_OK(t->Put("c", "1"));
  auto commit_ts = t->Commit();
  ASSERT_OK(commit_ts.status());
  CallOptions at;
  at.revision = *commit_ts;
  EXPECT_EQ(*client_->Get("a", at).value(), "kept");
  EXPECT_EQ(*client_->Get("b", at).value(), "1");
  EXPECT_EQ(*client_->Get("c").value(), "1");  // a secondary, committed or rolled forward
  // Locks alone (nothing written) commit at once, at start_ts.
  auto ro = Txn::Begin(*client_).value();
  ASSERT_OK(ro->Lock("a"));
  EXPECT_EQ(ro->Commit().value(), ro->start_ts());
}

TEST_F(TxnClientTest, AnExpiredAbandonedLockIsRolledBackByAReader) {
  ASSERT_OK(client_->Put("p", "old"));
  AbandonedPrewrite({"p", "s"}, /*ttl_ms=*/200);
  // The reader meets the lock on the secondary, finds the primary expired,
  // rolls the transaction back: nothing of it is visible.
  auto s = client_->Get("s");
  ASSERT_OK(s.status());
  EXPECT_FALSE(s->has_value());
  EXPECT_EQ(*client_->Get("p").value(), "old");
  // And a plain write to the key goes through.
  ASSERT_OK(client_->Put("s", "new"));
}

TEST_F(TxnClientTest, ALockWhosePrimaryCommittedIsRolledForward) {
  const uint64_t start = AbandonedPrewrite({"p", "s"}, /*ttl_ms=*/60000);
  const uint64_t commit = client_->Timestamps().value();
  auto c = client_->RunTxnCommand(txn::CommitCmd{start, commit, {"p"}});
  ASSERT_TRUE(c.ok() && c->errors.empty());
  // The client "died" before committing the secondary: a reader completes it.
  EXPECT_EQ(*client_->Get("s").value(), "abandoned");
  EXPECT_EQ(*client_->Get("p").value(), "abandoned");
}

TEST_F(TxnClientTest, AReadWaitsOutALiveLockUntilItsDeadline) {
  AbandonedPrewrite({"live"}, /*ttl_ms=*/60000);
  CallOptions quick;
  quick.timeout = 300ms;
  auto r = client_->Get("live", quick);
  EXPECT_TRUE(r.status().IsTimeout()) << r.status().ToString();
}

TEST_F(TxnClientTest, AScanIsOneSnapshotAcrossPages) {
  // More than one page (kMaxScanPageItems) of keys.
  for (int i = 0; i < 1200; ++i) ASSERT_OK(client_->Put("k" + std::to_string(10000 + i), "gen1"));
  auto first = client_->GetWithRevision("k10000").value();
  for (int i = 0; i < 1200; i += 100) ASSERT_OK(client_->Put("k" + std::to_string(10000 + i), "gen2"));
  CallOptions at;
  at.revision = first.revision;
  auto all = client_->Scan("k", "l", 0, at).value();
  ASSERT_EQ(all.size(), 1200u);
  for (const auto& kv : all) EXPECT_EQ(kv.value, "gen1") << kv.key;
}

// A leader cut off from the others keeps believing it leads for up to an
// election timeout, and its oracle window lies below the next leader's. It
// must not hand out timestamps meanwhile: a start_ts from it would miss
// commits that finished before the transaction began. Negative control:
// without the barrier in the service's Tso, the isolated leader answers at
// once with a timestamp below the new leader's.
TEST_F(TxnClientTest, AnIsolatedLeaderHandsOutNoTimestamp) {
  const uint64_t old_leader = cluster_->Leader();
  ASSERT_NE(old_leader, 0u);
  auto rpc = net::RpcClient::Create({}).value();
  const std::string old_ep = cluster_->endpoint(old_leader);
  ASSERT_OK(rpc->CallSync<TsoMethod>(old_ep, TsoRequest{1}).status());
  std::vector<uint64_t> others;
  for (uint64_t id : cluster_->Running())
    if (id != old_leader) others.push_back(id);
  cluster_->Partition({{old_leader}, others});
  // Asked at once, before it can have noticed: no answer it could give is safe.
  auto stale = rpc->CallSync<TsoMethod>(old_ep, TsoRequest{1});
  EXPECT_FALSE(stale.ok()) << "an isolated leader handed out timestamp " << stale->ts;
  // The majority side goes on, above everything handed out before.
  const uint64_t fresh = client_->Timestamps().value();
  if (stale.ok()) {
    EXPECT_GT(fresh, stale->ts);
  }
  cluster_->Heal();
}

}  // namespace
}  // namespace tinykv::client
