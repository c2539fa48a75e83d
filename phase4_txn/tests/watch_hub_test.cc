// WatchHub (watch_hub.h) driven by hand: a real engine holds the MVCC
// families, the commands run on it as the state machine runs them (write,
// then the versions to the hub, then the lock index), and the resolved
// timestamp's parts (the oracle, the writes in flight) are the test's. No
// worker thread: TickForTest is the only tick, so every test is
// deterministic.
#include "tinykv/txn/watch_hub.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tinykv/storage/db.h"
#include "tinykv/testing/test_util.h"
#include "tinykv/txn/batch_changes.h"
#include "tinykv/txn/lock_index.h"
#include "tinykv/txn/lock_resolution.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

using std::chrono::milliseconds;

// The node as the hub sees it, over one engine.
class FakeNode final : public WatchSource {
 public:
  FakeNode() {
    storage::Options o;
    o.create_if_missing = true;
    db_ = storage::DB::Open(o, dir_.path() / "db").value();
  }

  uint64_t LeaderTerm() override { return term; }
  Status Barrier(milliseconds) override {
    return term == 0 ? Status::NotLeader("fake") : Status::OK();
  }
  Result<uint64_t> Timestamp() override {
    if (term == 0) return Status::NotLeader("fake");
    return ++now;
  }
  uint64_t LowestWriteInFlight() override {
    return in_flight.empty() ? kMaxTs : *in_flight.begin();
  }
  uint64_t LowestLockStartTs() override { return locks.MinStartTs(); }
  std::optional<std::string> LowestLockKey() override { return locks.MinKey(); }
  Status ResolveLock(const LockInfo& lock, uint64_t current_ts) override {
    ++resolves;
    TxnCommandResult st = Run(CheckStatusOf(lock, current_ts));
    if (std::optional<ResolveLockCmd> resolve = ResolutionOf(lock, st)) Run(*resolve);
    return Status::OK();
  }
  Status Read(const std::function<Status(MvccReader&)>& fn) override {
    MvccReader reader(db_.get());
    return fn(reader);
  }

  // Runs `cmd` as the state machine applies it: the engine write, then its
  // versions to the observer, then its lock changes.
  void Apply(const TxnCommand& cmd) {
    TxnCommandResult r = Run(cmd);
    ASSERT_TRUE(r.errors.empty()) << KeyErrorToString(r.errors.front());
  }
  TxnCommandResult Run(const TxnCommand& cmd) {
    EXPECT_TRUE(ValidateTxnCommand(cmd).ok());
    storage::WriteBatch batch;
    auto r = ExecuteTxnCommand(db_.get(), cmd, 1, &batch);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(db_->Write(storage::WriteOptions{}, batch).ok());
    const bool wanted = observer != nullptr && observer->WantsVersions();
    auto changes = DecodeBatchChanges(batch, wanted);
    EXPECT_TRUE(changes.ok());
    if (wanted) observer->OnVersions(std::move(changes->versions));
    locks.Apply(changes->locks);
    return r.ok() ? *r : TxnCommandResult{};
  }
  void Put(const std::string& k, const std::string& v, uint64_t ts) {
    replica::KvCommand c;
    c.op = replica::KvCommand::Op::kPut;
    c.key = k;
    c.value = v;
    Apply(KvWriteCmd{c, ts});
  }
  void Delete(const std::string& k, uint64_t ts) {
    replica::KvCommand c;
    c.op = replica::KvCommand::Op::kDelete;
    c.key = k;
    Apply(KvWriteCmd{c, ts});
  }

  uint64_t term = 1;
  uint64_t now = 100;  // the oracle: Timestamp() hands out now + 1, ...
  std::set<uint64_t> in_flight;
  LockIndex locks;
  int resolves = 0;
  VersionObserver* observer = nullptr;

 private:
  testing::TempDir dir_;
  std::unique_ptr<storage::DB> db_;
};

WatchHubOptions Manual() {
  WatchHubOptions o;
  o.worker = false;
  return o;
}

class WatchHubTest : public ::testing::Test {
 protected:
  void Start(WatchHubOptions o = Manual()) {
    hub_ = std::make_unique<WatchHub>(&node_, o);
    node_.observer = hub_.get();
  }
  void TearDown() override {
    node_.observer = nullptr;
    hub_.reset();
  }

  std::shared_ptr<Watcher> Watch(const std::string& start, const std::string& end,
                                 uint64_t start_revision = 0, bool prev_kv = false) {
    WatchSpec spec;
    spec.start = start;
    spec.end = end;
    spec.start_revision = start_revision;
    spec.prev_kv = prev_kv;
    auto w = hub_->Watch(spec);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : nullptr;
  }

  // Every event polled so far (outputs in order), and the last position.
  struct Seen {
    std::vector<WatchEvent> events;
    uint64_t position = 0;
    int outputs = 0;
  };
  static void Drain(Watcher& w, Seen* seen) {
    while (auto out = w.Poll()) {
      ++seen->outputs;
      EXPECT_GE(out->revision, seen->position) << "positions never go back";
      seen->position = out->revision;
      for (WatchEvent& e : out->events) seen->events.push_back(std::move(e));
    }
  }
  static std::vector<std::pair<std::string, uint64_t>> KeysAndRevisions(const Seen& s) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const WatchEvent& e : s.events) out.emplace_back(e.key, e.revision);
    return out;
  }

  FakeNode node_;
  std::unique_ptr<WatchHub> hub_;
};

TEST_F(WatchHubTest, TheFirstOutputIsCreatedAtAFreshTimestamp) {
  Start();
  node_.Put("a", "before", 50);
  auto w = Watch("", "");
  auto created = w->Poll();
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->kind, WatchOutput::Kind::kCreated);
  EXPECT_GT(created->revision, 100u);  // after every write acknowledged before the watch
  hub_->TickForTest();
  Seen seen;
  Drain(*w, &seen);
  EXPECT_TRUE(seen.events.empty()) << "a write before the watch is not an event of it";
}

// The ordering problem (watch_hub.h): a put at a lower revision applies
// after one at a higher revision. Without the writes in flight in the
// resolved timestamp, 12 would be released at the first tick and 10 would
// come after it (or never, to a client that resumed from 13).
TEST_F(WatchHubTest, ALowerRevisionThatAppliesLaterIsStillDeliveredFirst) {
  Start();
  auto w = Watch("k", "l");
  node_.in_flight = {110};    // a put took 110 and is still being replicated
  node_.Put("k2", "b", 112);  // a later one applied first
  node_.now = 120;            // the oracle is past both
  hub_->TickForTest();
  Seen seen;
  Drain(*w, &seen);
  EXPECT_TRUE(seen.events.empty()) << "112 must wait: 110 may still apply";
  EXPECT_LT(hub_->stats().resolved_ts, 110u);

  node_.Put("k1", "a", 110);
  node_.in_flight.clear();
  hub_->TickForTest();
  Drain(*w, &seen);
  ASSERT_EQ(KeysAndRevisions(seen),
            (std::vector<std::pair<std::string, uint64_t>>{{"k1", 110}, {"k2", 112}}));
  EXPECT_GE(seen.position, 112u);
}

// A transaction takes its commit_ts, then commits: a KV put with a higher
// revision can apply in between. The lock (start_ts < commit_ts) holds the
// resolved timestamp below the commit until it applies.
TEST_F(WatchHubTest, ALiveLockHoldsBackLaterRevisionsUntilItsCommitApplies) {
  Start();
  auto w = Watch("", "");
  node_.Apply(PrewriteCmd{{Mutation{MutationKind::kPut, "t", "txn"}}, "t", 105, 3000});
  const uint64_t commit_ts = 120;
  node_.Put("p", "plain", 130);  // taken after commit_ts, applied before the commit
  node_.now = 200;
  hub_->TickForTest();
  Seen seen;
  Drain(*w, &seen);
  EXPECT_TRUE(seen.events.empty()) << "130 must wait for the lock taken at 105";
  EXPECT_LT(hub_->stats().resolved_ts, 105u);

  node_.Apply(CommitCmd{105, commit_ts, {"t"}});
  hub_->TickForTest();
  Drain(*w, &seen);
  ASSERT_EQ(KeysAndRevisions(seen),
            (std::vector<std::pair<std::string, uint64_t>>{{"t", 120}, {"p", 130}}));
  EXPECT_EQ(seen.events[0].value, "txn") << "a 2PC put's value comes from its data record";
}

// A client that died after its prewrite leaves a lock nobody reads: once
// its TTL passed, the hub resolves it (here: rolls it back, the primary
// never committed), and the watch goes on. A live one is left alone.
TEST_F(WatchHubTest, AnAbandonedLockIsResolvedOnceItsTtlPassed) {
  WatchHubOptions o = Manual();
  o.lock_resolve_interval = milliseconds(0);
  Start(o);
  node_.now = ComposeTs(10000, 0);
  auto w = Watch("", "");
  const uint64_t start = ComposeTs(10001, 0);
  node_.Apply(PrewriteCmd{{Mutation{MutationKind::kPut, "dead", "x"}}, "dead", start, 500});
  node_.Put("after", "v", ComposeTs(10002, 0));
  node_.now = ComposeTs(10300, 0);  // 300 ms on: the lock lives
  hub_->TickForTest();
  Seen seen;
  Drain(*w, &seen);
  EXPECT_TRUE(seen.events.empty());
  EXPECT_EQ(node_.resolves, 0) << "a lock within its TTL is not touched";
  EXPECT_EQ(node_.locks.size(), 1u);
  node_.now = ComposeTs(11000, 0);  // its TTL has passed
  hub_->TickForTest();             // resolves it
  hub_->TickForTest();             // and releases past it
  Drain(*w, &seen);
  EXPECT_EQ(node_.resolves, 1);
  EXPECT_EQ(node_.locks.size(), 0u);
  ASSERT_EQ(KeysAndRevisions(seen),
            (std::vector<std::pair<std::string, uint64_t>>{{"after", ComposeTs(10002, 0)}}));
  EXPECT_EQ(hub_->stats().locks_resolved, 1u);
}

TEST_F(WatchHubTest, OneRevisionOfSeveralKeysComesWhole) {
  Start();
  auto w = Watch("", "");
  node_.Apply(
      PrewriteCmd{{Mutation{MutationKind::kPut, "x", "1"}, Mutation{MutationKind::kPut, "y", "2"}},
                  "x",
                  105,
                  3000});
  node_.Apply(CommitCmd{105, 110, {"x"}});  // the primary; the secondary commits later
  node_.now = 150;
  hub_->TickForTest();
  Seen seen;
  Drain(*w, &seen);
  EXPECT_TRUE(seen.events.empty()) << "y's lock still holds revision 110";
  node_.Apply(CommitCmd{105, 110, {"y"}});
  hub_->TickForTest();
  Drain(*w, &seen);
  ASSERT_EQ(KeysAndRevisions(seen),
            (std::vector<std::pair<std::string, uint64_t>>{{"x", 110}, {"y", 110}}));
}

TEST_F(WatchHubTest, PutsAndDeletesCarryPrevValuesWhenAsked) {
  Start();
  node_.Put("k", "v1", 50);
  auto with = Watch("k", "k\x01", 0, /*prev_kv=*/true);
  auto without = Watch("k", "k\x01");
  node_.now = 150;
  node_.Put("k", "v2", 160);
  node_.Delete("k", 170);
  node_.now = 180;
  hub_->TickForTest();
  Seen a, b;
  Drain(*with, &a);
  Drain(*without, &b);
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(a.events[0].value, "v2");
  EXPECT_EQ(a.events[0].prev_value, std::optional<std::string>("v1"));
  EXPECT_EQ(a.events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(a.events[1].prev_value, std::optional<std::string>("v2"));
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_FALSE(b.events[0].prev_value.has_value());
}

// A start revision in the past replays history, then the same watcher
// goes on live: every revision once, in order, across the switch.
TEST_F(WatchHubTest, HistoryThenLiveHasNoGapAndNoDuplicate) {
  Start();
  std::vector<std::pair<std::string, uint64_t>> want;
  for (uint64_t ts = 10; ts < 60; ts += 2) {
    node_.Put("h" + std::to_string(ts % 7), "v" + std::to_string(ts), ts);
    want.emplace_back("h" + std::to_string(ts % 7), ts);
  }
  node_.Put("other", "x", 61);  // outside the range
  auto w = Watch("h", "i", /*start_revision=*/10, true);
  Seen seen;
  // Live writes while it catches up, some of them applying out of order.
  uint64_t ts = 110;
  for (int round = 0; round < 20; ++round) {
    node_.now = ts + 5;  // the oracle is past this round's writes
    node_.in_flight = {ts};
    node_.Put("h" + std::to_string(round % 5), "live", ts + 1);
    want.emplace_back("h" + std::to_string(round % 5), ts + 1);
    hub_->TickForTest();
    Drain(*w, &seen);
    node_.Put("h9", "late", ts);
    node_.in_flight.clear();
    hub_->TickForTest();
    Drain(*w, &seen);
    ts += 10;
  }
  hub_->TickForTest();
  Drain(*w, &seen);
  // Every live round: the late (lower) revision before the early one.
  std::vector<std::pair<std::string, uint64_t>> expected(want.begin(), want.begin() + 25);
  for (int round = 0; round < 20; ++round) {
    const uint64_t t = 110 + 10 * round;
    expected.emplace_back("h9", t);
    expected.emplace_back("h" + std::to_string(round % 5), t + 1);
  }
  EXPECT_EQ(KeysAndRevisions(seen), expected);
  // The replayed events carry their values and prev values too.
  EXPECT_EQ(seen.events[0].value, "v10");
  EXPECT_FALSE(seen.events[0].prev_value.has_value());
}

TEST_F(WatchHubTest, AStartRevisionAtOrBelowTheGcSafePointIsCompacted) {
  Start();
  node_.Put("k", "a", 20);
  node_.Put("k", "b", 30);
  node_.Apply(GcCmd{30});
  WatchSpec spec;
  spec.start_revision = 30;
  auto r = hub_->Watch(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  auto e = WatchErrorOf(r.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, WatchError::Kind::kCompacted);
  EXPECT_EQ(e->revision, 30u);
  EXPECT_NE(r.status().ToString().find("compacted"), std::string::npos);
  spec.start_revision = 31;
  EXPECT_TRUE(hub_->Watch(spec).ok());
}

TEST_F(WatchHubTest, BadInputIsRefused) {
  Start();
  WatchSpec spec;
  spec.start = "b";
  spec.end = "a";
  EXPECT_TRUE(hub_->Watch(spec).status().IsInvalidArgument());
  node_.term = 0;
  spec.end = "";
  EXPECT_TRUE(hub_->Watch(spec).status().IsNotLeader());
}

// A watcher whose stream does not poll: its queue stays within the bound,
// then it is ended with a resume revision, and a watch from there gets
// every event (from history).
TEST_F(WatchHubTest, ASlowWatcherIsEndedAtItsBoundAndResumesWithoutLoss) {
  WatchHubOptions o = Manual();
  o.watcher_max_events = 20;
  o.watcher_max_bytes = 1u << 20;
  Start(o);
  auto w = Watch("s", "t");
  ASSERT_TRUE(w->Poll().has_value());  // created
  std::vector<uint64_t> revisions;
  for (int i = 0; i < 100; ++i) {
    node_.now += 5;
    node_.Put("s" + std::to_string(i % 3), std::string(100, 'x'), node_.now);
    revisions.push_back(node_.now);
    hub_->TickForTest();
    EXPECT_LE(hub_->stats().max_queued_bytes, 20u * 200) << "the queue stays bounded";
    if (i == 0) {
      auto first = w->Poll();  // the stream takes one output, then stalls
      ASSERT_TRUE(first.has_value());
    }
  }
  Seen seen;
  Drain(*w, &seen);
  auto end = w->Ended();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->IsResourceExhausted()) << end->ToString();
  auto e = WatchErrorOf(*end);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, WatchError::Kind::kResume);
  EXPECT_EQ(e->revision, revisions[0] + 1) << "after the one output its stream took";
  EXPECT_EQ(hub_->stats().slow_ended, 1u);
  EXPECT_EQ(hub_->stats().queued_bytes, 0u) << "its queue is freed";
  w->Cancel();

  auto again = Watch("s", "t", e->revision);
  Seen rest;
  for (int i = 0; i < 20; ++i) {
    hub_->TickForTest();
    Drain(*again, &rest);
  }
  ASSERT_EQ(rest.events.size(), revisions.size() - 1);
  for (size_t i = 0; i < rest.events.size(); ++i)
    EXPECT_EQ(rest.events[i].revision, revisions[i + 1]);
}

// A lock stalls resolved while writes pile up past the feed's bound: the
// feed is dropped, its watchers read history instead, nothing is lost.
TEST_F(WatchHubTest, AFeedPastItsBoundFallsBackToHistory) {
  WatchHubOptions o = Manual();
  o.feed_max_bytes = 4096;
  Start(o);
  auto w = Watch("", "");
  node_.Apply(PrewriteCmd{{Mutation{MutationKind::kPut, "lock", "l"}}, "lock", 101, 3000});
  for (int i = 0; i < 100; ++i) node_.Put("f" + std::to_string(i), std::string(100, 'y'), 110 + i);
  EXPECT_GE(hub_->stats().feed_overflows, 1u);
  EXPECT_LE(hub_->stats().feed_bytes, 4096u);
  node_.Apply(CommitCmd{101, 105, {"lock"}});
  node_.now = 300;
  Seen seen;
  for (int i = 0; i < 10; ++i) {
    hub_->TickForTest();
    Drain(*w, &seen);
  }
  ASSERT_EQ(seen.events.size(), 101u);
  EXPECT_EQ(seen.events[0].key, "lock");
  for (size_t i = 1; i < seen.events.size(); ++i) EXPECT_EQ(seen.events[i].revision, 109 + i);
}

TEST_F(WatchHubTest, ARevisionLargerThanOneOutputIsSplitWithoutAdvancingThePosition) {
  WatchHubOptions o = Manual();
  o.output_max_bytes = 40;  // two delete events
  Start(o);
  for (int i = 0; i < 10; ++i) node_.Put("r" + std::to_string(i), "v", 50 + i);
  auto w = Watch("r", "s");
  replica::KvCommand del;
  del.op = replica::KvCommand::Op::kDeleteRange;
  del.key = "r";
  del.value = "s";
  node_.Apply(KvWriteCmd{del, 150});
  node_.now = 160;
  hub_->TickForTest();
  ASSERT_TRUE(w->Poll().has_value());  // created
  std::vector<WatchOutput> outs;
  while (auto out = w->Poll()) outs.push_back(std::move(*out));
  ASSERT_GT(outs.size(), 1u);
  size_t events = 0;
  for (size_t i = 0; i < outs.size(); ++i) {
    events += outs[i].events.size();
    for (const WatchEvent& e : outs[i].events) EXPECT_EQ(e.revision, 150u);
    if (i + 1 < outs.size()) {
      EXPECT_LT(outs[i].revision, 150u) << "150 is not complete yet";
    }
  }
  EXPECT_EQ(events, 10u);
  EXPECT_GE(outs.back().revision, 150u);
}

TEST_F(WatchHubTest, ALeaderChangeEndsTheWatchersWithNotLeader) {
  Start();
  auto w = Watch("", "");
  node_.term = 2;
  hub_->TickForTest();
  while (w->Poll()) {
  }
  auto end = w->Ended();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->IsNotLeader()) << end->ToString();
  EXPECT_EQ(hub_->stats().watchers, 0u);
}

TEST_F(WatchHubTest, IdleWatchersThatAskGetProgress) {
  WatchHubOptions o = Manual();
  o.min_progress_interval = milliseconds(1);
  Start(o);
  WatchSpec spec;
  spec.progress_interval = milliseconds(1);
  auto w = hub_->Watch(spec).value();
  auto quiet = Watch("", "");
  ASSERT_TRUE(w->Poll().has_value());
  ASSERT_TRUE(quiet->Poll().has_value());
  std::optional<WatchOutput> progress;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        hub_->TickForTest();
        progress = w->Poll();
        return progress.has_value();
      },
      milliseconds(5000)));
  EXPECT_EQ(progress->kind, WatchOutput::Kind::kProgress);
  EXPECT_TRUE(progress->events.empty());
  EXPECT_GT(progress->revision, 100u);
  EXPECT_FALSE(quiet->Poll().has_value()) << "no progress unless asked";
}

// RequestProgress: one progress output, from the next tick that resolves,
// at a position past every write acknowledged before the request -- also
// for a watcher that never asked for idle progress. A tick that cannot
// resolve (not leader) answers nothing; an unknown watch is NotFound.
TEST_F(WatchHubTest, ARequestedProgressComesFromTheNextResolvedTick) {
  Start();
  auto w = Watch("k", "l");
  auto other = Watch("", "");
  ASSERT_TRUE(w->Poll().has_value());
  ASSERT_TRUE(other->Poll().has_value());
  node_.Put("z", "unwatched", 150);  // acknowledged before the request
  node_.now = 160;
  ASSERT_OK(hub_->RequestProgress(w->id()));
  hub_->TickForTest();
  std::optional<WatchOutput> progress;
  while (auto out = w->Poll()) progress = out;
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->kind, WatchOutput::Kind::kProgress);
  EXPECT_TRUE(progress->requested);
  EXPECT_GE(progress->revision, 150u);
  hub_->TickForTest();
  EXPECT_FALSE(w->Poll().has_value()) << "one request, one answer";
  while (auto out = other->Poll()) EXPECT_NE(out->kind, WatchOutput::Kind::kProgress);

  EXPECT_TRUE(hub_->RequestProgress(w->id() + 100).IsNotFound());
}

TEST_F(WatchHubTest, RecordingStopsAfterTheLastWatcherLeft) {
  WatchHubOptions o = Manual();
  o.linger = milliseconds(0);
  Start(o);
  EXPECT_FALSE(hub_->WantsVersions()) << "nobody watches: nothing recorded";
  auto w = Watch("", "");
  EXPECT_TRUE(hub_->WantsVersions());
  w->Cancel();
  hub_->TickForTest();
  EXPECT_FALSE(hub_->WantsVersions());
  EXPECT_EQ(hub_->stats().watchers, 0u);
}

TEST_F(WatchHubTest, CloseEndsEveryWatchAndRefusesNewOnes) {
  Start();
  auto w = Watch("", "");
  hub_->Close(Status::Unavailable("server is shutting down"));
  while (w->Poll()) {
  }
  ASSERT_TRUE(w->Ended().has_value());
  EXPECT_TRUE(w->Ended()->IsUnavailable());
  EXPECT_TRUE(hub_->Watch(WatchSpec{}).status().IsUnavailable());
}

}  // namespace
}  // namespace tinykv::txn
