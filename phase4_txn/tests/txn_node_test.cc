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
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/timestamp.h"

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

  testing::TempDir dir_;
  std::map<uint64_t, std::unique_ptr<TxnNode>> nodes_;
};

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

}  // namespace
}  // namespace tinykv::txn
