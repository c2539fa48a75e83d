// TxnNode (txn_node.h): the plain KV API on MVCC, client transaction
// commands, and the record of writes in flight that makes a read at a
// timestamp a snapshot -- in a 3-member group on loopback.
#include "tinykv/txn/txn_node.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "tinykv/testing/test_util.h"
#include "tinykv/txn/auto_compactor.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

using std::chrono::milliseconds;
using testing::IsOk;

constexpr milliseconds kTimeout{5000};

class TxnNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t i = 1; i <= 3; ++i) {
      replica::KvNodeOptions o;
      o.id = i;
      o.data_dir = dir_.path() / ("n" + std::to_string(i));
      for (uint64_t j = 1; j <= 3; ++j) o.peers[j] = "";
      o.tick_ms = 20;
      // A long election timeout: a leader cut off from its followers (one
      // test does that) keeps leading for the test's few hundred ms.
      o.election_ticks = 100;
      o.sync = false;
      o.io_threads = 1;
      auto r = TxnNode::Open(o);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      nodes_[i] = std::move(r).value();
    }
    for (auto& [i, a] : nodes_)
      for (auto& [j, b] : nodes_)
        if (i != j) a->SetPeerAddress(j, "127.0.0.1:" + std::to_string(b->peer_port()));
    ASSERT_TRUE(testing::WaitUntil([&] { return Leader() != nullptr; }, milliseconds(10000)));
    // The first proposals of a term wait for its no-op: write once.
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return Leader() != nullptr && Put("warmup", "x").ok(); }, milliseconds(10000)));
  }

  TxnNode* Leader() {
    for (auto& [i, n] : nodes_)
      if (n->GetStatus().role == "leader") return n.get();
    return nullptr;
  }
  std::set<uint64_t> Followers(TxnNode* leader) {
    std::set<uint64_t> out;
    for (auto& [i, n] : nodes_)
      if (n.get() != leader) out.insert(i);
    return out;
  }

  Result<replica::KvCommandResult> Put(const std::string& k, const std::string& v) {
    replica::KvCommand c;
    c.op = replica::KvCommand::Op::kPut;
    c.key = k;
    c.value = v;
    return Leader()->ProposeSync(std::move(c), kTimeout);
  }

  Result<TxnCommandResult> RunTxn(TxnCommand cmd) {
    std::promise<Result<TxnCommandResult>> p;
    Leader()->ProposeTxn(std::move(cmd), kTimeout,
                         [&p](Result<TxnCommandResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  Status Wait(TxnNode* n, uint64_t ts, milliseconds timeout) {
    std::promise<Status> p;
    n->WaitForWrites(ts, timeout, [&p](Status s) { p.set_value(std::move(s)); });
    return p.get_future().get();
  }

  Result<CompactResult> Compact(TxnNode* n, uint64_t revision) {
    std::promise<Result<CompactResult>> p;
    n->Compact(revision, kTimeout, [&p](Result<CompactResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  testing::TempDir dir_;
  std::map<uint64_t, std::unique_ptr<TxnNode>> nodes_;
};

// The compacted revision a status carries (kCompacted), or nullopt.
std::optional<uint64_t> CompactedAt(const Status& s) {
  std::optional<WatchError> e = WatchErrorOf(s);
  if (!s.IsInvalidArgument() || !e || e->kind != WatchError::Kind::kCompacted) return std::nullopt;
  return e->revision;
}

TEST_F(TxnNodeTest, KvWritesHaveIncreasingRevisionsAndOldVersionsStayReadable) {
  auto a = Put("k", "v1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = Put("k", "v2");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GT(a->revision, 0u);
  EXPECT_GT(b->revision, a->revision);
  TxnNode* l = Leader();
  EXPECT_EQ(*l->GetAt("k", a->revision)->value, "v1");
  EXPECT_EQ(*l->GetAt("k", b->revision)->value, "v2");
  EXPECT_FALSE(l->GetAt("k", a->revision - 1)->value.has_value());
  EXPECT_EQ(**l->Get("k"), "v2");
}

TEST_F(TxnNodeTest, ClientCommandsOnlyAreAccepted) {
  for (TxnCommand c : {TxnCommand(ReserveTsCmd{1}), TxnCommand(GcCmd{1}),
                       TxnCommand(KvWriteCmd{replica::KvCommand{}, 5})}) {
    auto r = RunTxn(c);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  }
  // And a malformed client command is refused before it is proposed.
  auto r = RunTxn(CommitCmd{10, 5, {"k"}});
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
}

TEST_F(TxnNodeTest, APutOnALockedKeyAnswersWithTheLock) {
  const uint64_t start = *Leader()->GetTimestamps(1);
  auto pw = RunTxn(PrewriteCmd{{Mutation{MutationKind::kPut, "k", "txn"}}, "k", start, 60000});
  ASSERT_TRUE(pw.ok() && pw->errors.empty());
  auto put = Put("k", "plain");
  ASSERT_TRUE(put.status().IsConflict()) << put.status().ToString();
  std::optional<KeyError> e = KeyErrorOf(put.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, KeyError::Kind::kLocked);
  EXPECT_EQ(e->lock.lock.start_ts, start);
  EXPECT_EQ(e->lock.lock.primary, "k");
  // Once the transaction commits the put goes through, above it.
  const uint64_t commit = *Leader()->GetTimestamps(1);
  ASSERT_TRUE(RunTxn(CommitCmd{start, commit, {"k"}}).ok());
  auto again = Put("k", "plain");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(again->revision, commit);
  EXPECT_EQ(*Leader()->GetAt("k", commit)->value, "txn");
}

// A read at ts must wait for a write that took a smaller timestamp but has
// not applied yet: else the read misses it, and a later read at the same ts
// sees it (no snapshot). The followers are cut off so the write cannot
// commit; the read point taken after it must not be released until it
// applies.
TEST_F(TxnNodeTest, AReadWaitsForWritesBelowItsTimestamp) {
  TxnNode* l = Leader();
  const uint64_t before = *l->GetTimestamps(1);
  l->SetDroppedPeers(Followers(l));
  std::promise<Result<replica::KvCommandResult>> done;
  replica::KvCommand c;
  c.op = replica::KvCommand::Op::kPut;
  c.key = "pending";
  c.value = "v";
  l->Propose(c, kTimeout,
             [&done](Result<replica::KvCommandResult> r) { done.set_value(std::move(r)); });
  ASSERT_TRUE(testing::WaitUntil([&] { return l->writes_in_flight() == 1; }, kTimeout));
  const uint64_t read_ts = *l->GetTimestamps(1);
  // Held up by the pending write (and told so at its deadline) ...
  Status held = Wait(l, read_ts, milliseconds(200));
  EXPECT_TRUE(held.IsTimeout()) << held.ToString();
  // ... while a read below the write's timestamp is not.
  EXPECT_TRUE(IsOk(Wait(l, before, milliseconds(200))));
  std::promise<Status> waited;
  l->WaitForWrites(read_ts, kTimeout, [&waited](Status s) { waited.set_value(std::move(s)); });
  auto f = waited.get_future();
  EXPECT_EQ(f.wait_for(milliseconds(100)), std::future_status::timeout);
  l->SetDroppedPeers({});
  auto r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(r->revision, read_ts);
  ASSERT_TRUE(IsOk(f.get()));
  // The read now sees the write.
  EXPECT_EQ(*l->GetAt("pending", read_ts)->value, "v");
  EXPECT_EQ(l->writes_in_flight(), 0u);
}

TEST_F(TxnNodeTest, AFollowerHandsOutNoTimestamps) {
  TxnNode* l = Leader();
  for (auto& [i, n] : nodes_) {
    if (n.get() == l) continue;
    EXPECT_TRUE(n->GetTimestamps(1).status().IsNotLeader());
  }
}

// The watch hub on a real leader (watch_hub.h): a transaction takes its
// commit_ts, a plain put with a later revision applies before the commit,
// and the watcher still gets the commit first -- the lock, kept in the
// state machine's lock index, holds the resolved timestamp below it.
TEST_F(TxnNodeTest, AWatchGetsACommitBeforeALaterPutThatAppliedFirst) {
  TxnNode* l = Leader();
  WatchHub& hub = l->watch_hub();
  auto w = hub.Watch(WatchSpec{}).value();
  std::vector<WatchEvent> events;
  auto drain = [&] {
    while (auto out = w->Poll())
      for (WatchEvent& e : out->events) events.push_back(std::move(e));
  };
  const uint64_t start = *l->GetTimestamps(1);
  auto pw = RunTxn(PrewriteCmd{{Mutation{MutationKind::kPut, "t", "txn"}}, "t", start, 60000});
  ASSERT_TRUE(pw.ok() && pw->errors.empty());
  const uint64_t commit_ts = *l->GetTimestamps(1);
  auto put = Put("p", "plain");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_GT(put->revision, commit_ts);
  // Resolved timestamps keep being computed; none may pass the lock.
  const uint64_t ticks = hub.stats().ticks;
  ASSERT_TRUE(testing::WaitUntil([&] { return hub.stats().ticks >= ticks + 5; },
                                 milliseconds(10000)));
  drain();
  EXPECT_TRUE(events.empty()) << "released " << events.size() << " events past a live lock";
  EXPECT_LT(hub.stats().resolved_ts, start);

  auto c = RunTxn(CommitCmd{start, commit_ts, {"t"}});
  ASSERT_TRUE(c.ok() && c->errors.empty());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        drain();
        return events.size() >= 2;
      },
      milliseconds(10000)));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].key, "t");
  EXPECT_EQ(events[0].value, "txn");
  EXPECT_EQ(events[0].revision, commit_ts);
  EXPECT_EQ(events[1].key, "p");
  EXPECT_EQ(events[1].revision, put->revision);
  w->Cancel();
}

TEST_F(TxnNodeTest, AFollowerServesNoWatch) {
  TxnNode* l = Leader();
  for (auto& [i, n] : nodes_) {
    if (n.get() == l) continue;
    EXPECT_TRUE(n->watch_hub().Watch(WatchSpec{}).status().IsNotLeader());
  }
}

// Compaction at R: every member drops what a read at R or later does not
// see, and refuses reads below R (they would see a history with holes) and
// watches from R or below (a delete at R itself is gone).
TEST_F(TxnNodeTest, CompactionDropsTheHistoryBelowItsRevisionOnEveryMember) {
  auto a = Put("k", "v1");
  auto b = Put("k", "v2");
  auto c = Put("k", "v3");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto r = Compact(Leader(), b->revision);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->revision, b->revision);
  EXPECT_GE(r->removed, 1u);  // at least v1 of "k"
  for (auto& [id, n] : nodes_) {
    ASSERT_TRUE(testing::WaitUntil([&] { return n->compacted_revision() == b->revision; },
                                   kTimeout))
        << "member " << id;
    auto below = n->GetAt("k", a->revision);
    EXPECT_EQ(CompactedAt(below.status()), b->revision) << below.status().ToString();
    EXPECT_NE(below.status().message().find("has been compacted"), std::string::npos);
    EXPECT_EQ(CompactedAt(n->ScanAt("", "", b->revision - 1, 10).status()), b->revision);
    // At R itself and above the state is whole.
    EXPECT_EQ(*n->GetAt("k", b->revision)->value, "v2") << "member " << id;
    EXPECT_EQ(*n->GetAt("k", c->revision)->value, "v3");
    EXPECT_EQ(n->ScanAt("", "", b->revision, 10)->pairs.size(), 2u);  // warmup, k
  }
  WatchSpec from_r;
  from_r.start_revision = b->revision;
  EXPECT_EQ(CompactedAt(Leader()->watch_hub().Watch(from_r).status()), b->revision);
  WatchSpec after_r;
  after_r.start_revision = b->revision + 1;
  auto w = Leader()->watch_hub().Watch(after_r);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  (*w)->Cancel();
}

TEST_F(TxnNodeTest, CompactionRefusesZeroTheFutureWhatIsCompactedAndFollowers) {
  auto a = Put("k", "v1");
  ASSERT_TRUE(a.ok());
  TxnNode* l = Leader();
  EXPECT_TRUE(Compact(l, 0).status().IsInvalidArgument());
  const uint64_t future = *l->GetTimestamps(1) + (uint64_t{1} << 40);
  auto f = Compact(l, future);
  EXPECT_TRUE(f.status().IsInvalidArgument());
  EXPECT_NE(f.status().message().find("in the future"), std::string::npos) << f.status().ToString();
  ASSERT_TRUE(Compact(l, a->revision).ok());
  for (uint64_t again : {a->revision, a->revision - 1}) {
    auto r = Compact(l, again);
    EXPECT_EQ(CompactedAt(r.status()), a->revision) << r.status().ToString();
    EXPECT_NE(r.status().message().find("compacted already"), std::string::npos);
  }
  for (auto& [id, n] : nodes_) {
    if (n.get() == l) continue;
    EXPECT_TRUE(Compact(n.get(), a->revision + 1).status().IsNotLeader()) << "member " << id;
  }
}

// A write that took a timestamp below R but has not applied yet must not
// land under a GC that already passed over its key: the compaction waits
// for it (WaitForWrites) before it proposes anything. Held up past its
// deadline, it gives up unproposed -- so nothing compacts once the write
// gets through (with no wait, its GC entry would sit in the log behind the
// write and apply after the heal).
TEST_F(TxnNodeTest, CompactionWaitsForWritesBelowItsRevision) {
  ASSERT_TRUE(Put("pending", "old").ok());
  TxnNode* l = Leader();
  l->SetDroppedPeers(Followers(l));
  std::promise<Result<replica::KvCommandResult>> written;
  replica::KvCommand c;
  c.op = replica::KvCommand::Op::kPut;
  c.key = "pending";
  c.value = "new";
  l->Propose(c, kTimeout,
             [&written](Result<replica::KvCommandResult> r) { written.set_value(std::move(r)); });
  ASSERT_TRUE(testing::WaitUntil([&] { return l->writes_in_flight() == 1; }, kTimeout));
  const uint64_t revision = *l->GetTimestamps(1);
  std::promise<Result<CompactResult>> compacted;
  l->Compact(revision, milliseconds(300),
             [&compacted](Result<CompactResult> r) { compacted.set_value(std::move(r)); });
  auto held = compacted.get_future().get();
  EXPECT_TRUE(held.status().IsTimeout()) << held.status().ToString();
  l->SetDroppedPeers({});
  auto w = written.get_future().get();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_LT(w->revision, revision);
  ASSERT_TRUE(Put("after", "x").ok());  // a later entry applied: the log is through
  EXPECT_EQ(l->compacted_revision(), 0u) << "a compaction was proposed past a write in flight";
  // With nothing in flight it goes through, and keeps the write below it.
  auto r = Compact(l, revision);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*l->GetAt("pending", revision)->value, "new");
}

// Defragmentation gives back the space GC freed: the history of many
// overwritten and deleted keys stays on disk until a compaction drops it
// (a defrag before it keeps most bytes), then a defrag removes it.
TEST_F(TxnNodeTest, DefragmentationReclaimsWhatCompactionDropped) {
  const std::string value(1024, 'x');
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(Put("big/" + std::to_string(i), value).ok());
  replica::KvCommand del;
  del.op = replica::KvCommand::Op::kDeleteRange;
  del.key = "big/";
  del.value = "big0";  // the range end
  ASSERT_TRUE(Leader()->ProposeSync(del, kTimeout).ok());
  auto defrag = [](TxnNode* n) {
    std::promise<Result<MvccStateMachine::DefragmentResult>> p;
    n->Defragment([&p](Result<MvccStateMachine::DefragmentResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  TxnNode* l = Leader();
  auto kept = defrag(l);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_GT(kept->bytes_after, 600u * 1024) << "the history is still there before compaction";
  ASSERT_TRUE(Compact(l, *l->GetTimestamps(1)).ok());
  auto freed = defrag(l);
  ASSERT_TRUE(freed.ok()) << freed.status().ToString();
  EXPECT_LT(freed->bytes_after, 64u * 1024) << "before " << freed->bytes_before;
  EXPECT_FALSE(l->Get("big/1")->has_value());
  EXPECT_EQ(**l->Get("warmup"), "x");
}

TEST(AutoCompaction, IntervalIsATenthOfTheRetentionWithinBounds) {
  using std::chrono::hours;
  EXPECT_EQ(AutoCompactionInterval({milliseconds(10000)}), milliseconds(1000));
  EXPECT_EQ(AutoCompactionInterval({milliseconds(50)}), milliseconds(100));
  EXPECT_EQ(AutoCompactionInterval({hours(72)}), hours(1));
  AutoCompactionOptions fixed{hours(1), milliseconds(250)};
  EXPECT_EQ(AutoCompactionInterval(fixed), milliseconds(250));
}

// A pass compacts at "retention ago" on the leader's oracle clock, and does
// nothing on a follower or when that revision is compacted already.
TEST_F(TxnNodeTest, AutoCompactionCompactsAtTheRevisionRetentionAgo) {
  auto a = Put("k", "v1");
  ASSERT_TRUE(a.ok());
  AutoCompactionOptions o;
  o.retention = milliseconds(20);
  o.interval = std::chrono::hours(1);  // only the passes this test runs
  for (auto& [id, n] : nodes_) {
    if (n.get() == Leader()) continue;
    AutoCompactor follower(n.get(), o, nullptr);
    auto r = follower.RunOnce();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->has_value());
  }
  auto b = Put("k", "v2");
  ASSERT_TRUE(b.ok());
  // Once the oracle's clock is past b by the retention, a pass compacts above b.
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return PhysicalMs(*Leader()->GetTimestamps(1)) > PhysicalMs(b->revision) + 20; },
      kTimeout));
  AutoCompactor compactor(Leader(), o, nullptr);
  auto r = compactor.RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  EXPECT_GT(**r, b->revision);
  EXPECT_EQ(compactor.compactions(), 1u);
  EXPECT_EQ(Leader()->compacted_revision(), **r);
  EXPECT_EQ(CompactedAt(Leader()->GetAt("k", a->revision).status()), **r);
  EXPECT_EQ(*Leader()->GetAt("k", **r)->value, "v2");
}

}  // namespace
}  // namespace tinykv::txn
