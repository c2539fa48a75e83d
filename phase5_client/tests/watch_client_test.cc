// Watch streams end to end (watch.h, the service's Watch, the watch hub) on
// three real in-process nodes: events in revision order at the revisions
// the writes answered, replays from the past, a leader stopped mid-stream
// (no gap, no duplicate), a consumer too slow for the server's bound,
// progress, compaction, cancellation, and bad input.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "local_cluster_fixture.h"
#include "tinykv/client/watch.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;
using tinykv::testing::WaitUntil;

// Collects what a watch delivers, checking the order as it goes.
struct Collected {
  std::vector<WatchEvent> events;
  uint64_t position = 0;
  int progress = 0;
};

// Reads until `done(collected)` or the bound passes; false on the bound or
// on an end of the watch.
template <typename Done>
bool ReadUntil(WatchStream& w, Collected* c, Done done, std::chrono::milliseconds bound = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done(*c)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Result<WatchBatch> b = w.Next(200ms);
    if (b.status().IsTimeout()) continue;
    if (!b.ok()) {
      ADD_FAILURE() << "watch ended: " << b.status().ToString();
      return false;
    }
    EXPECT_GE(b->revision, c->position) << "positions never go back";
    c->position = b->revision;
    if (b->kind == WatchBatch::Kind::kProgress) {
      ++c->progress;
      continue;
    }
    for (WatchEvent& e : b->events) {
      if (!c->events.empty()) {
        EXPECT_GE(e.revision, c->events.back().revision) << e.key;
      }
      EXPECT_LE(e.revision, b->revision) << "a batch holds only complete revisions";
      c->events.push_back(std::move(e));
    }
  }
  return true;
}

class WatchClientTest : public LocalClusterTest {};

TEST_F(WatchClientTest, APrefixWatchSeesPutsAndDeletesInOrderAtTheirRevisions) {
  auto c = NewClient();
  ASSERT_OK(c->Put("app/old", "before the watch"));
  WatchOptions o;
  o.key = "app/";
  o.prefix = true;
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  std::vector<std::pair<std::string, uint64_t>> want;
  for (int i = 0; i < 5; ++i) {
    auto r = c->PutWithRevision("app/k" + std::to_string(i), "v" + std::to_string(i));
    ASSERT_OK(r.status());
    want.emplace_back("app/k" + std::to_string(i), r->revision);
  }
  ASSERT_OK(c->Put("other", "not watched"));
  ASSERT_OK(c->Delete("app/k0"));
  auto deleted = c->DeleteRange("app/k3", "app/k5");
  ASSERT_OK(deleted.status());
  EXPECT_EQ(*deleted, 2u);

  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [](const Collected& in) { return in.events.size() >= 8; }));
  ASSERT_EQ(got.events.size(), 8u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(got.events[i].type, WatchEvent::Type::kPut);
    EXPECT_EQ(got.events[i].key, want[i].first);
    EXPECT_EQ(got.events[i].value, "v" + std::to_string(i));
    EXPECT_EQ(got.events[i].revision, want[i].second) << "the revision the put answered";
  }
  EXPECT_EQ(got.events[5].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(got.events[5].key, "app/k0");
  // One delete-range: one revision, both keys.
  EXPECT_EQ(got.events[6].key, "app/k3");
  EXPECT_EQ(got.events[7].key, "app/k4");
  EXPECT_EQ(got.events[6].revision, got.events[7].revision);
  EXPECT_GT(got.events[6].revision, got.events[5].revision);
}

TEST_F(WatchClientTest, AStartRevisionInThePastReplaysThenGoesLive) {
  auto c = NewClient();
  auto first = c->PutWithRevision("k", "1");
  ASSERT_OK(first.status());
  ASSERT_OK(c->Put("k", "2"));
  ASSERT_OK(c->Delete("k"));
  WatchOptions o;
  o.key = "k";
  o.start_revision = first->revision;
  o.prev_kv = true;
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  ASSERT_OK(c->Put("k", "3"));
  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [](const Collected& in) { return in.events.size() >= 4; }));
  ASSERT_EQ(got.events.size(), 4u);
  EXPECT_EQ(got.events[0].revision, first->revision);
  EXPECT_EQ(got.events[0].value, "1");
  EXPECT_FALSE(got.events[0].prev_value.has_value());
  EXPECT_EQ(got.events[1].value, "2");
  EXPECT_EQ(got.events[1].prev_value, std::optional<std::string>("1"));
  EXPECT_EQ(got.events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(got.events[2].prev_value, std::optional<std::string>("2"));
  EXPECT_EQ(got.events[3].value, "3");
  EXPECT_FALSE(got.events[3].prev_value.has_value()) << "the key had no value before it";
}

// Writers keep writing while the leader is stopped: the watch resumes on
// the new leader from where it got to. Every acknowledged write is seen
// exactly once, in revision order.
TEST_F(WatchClientTest, ALeaderStoppedMidStreamLosesAndRepeatsNothing) {
  auto c = NewClient(20s, 1s);
  WatchOptions o;
  o.key = "w/";
  o.prefix = true;
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // revision -> key
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string key = "w/" + std::to_string(t) + "/" + std::to_string(i);
        auto r = c->PutWithRevision(key, "v");
        if (r.ok()) {
          std::lock_guard<std::mutex> l(mu);
          acked[r->revision] = key;
        }
      }
    });
  }
  auto acked_count = [&] {
    std::lock_guard<std::mutex> l(mu);
    return acked.size();
  };
  ASSERT_TRUE(WaitUntil([&] { return acked_count() >= 30; }, 20s));
  const uint64_t old_leader = cluster_->Leader();
  ASSERT_NE(old_leader, 0u);
  ASSERT_OK(cluster_->StopNode(old_leader));
  const size_t at_stop = acked_count();
  ASSERT_TRUE(WaitUntil([&] { return acked_count() >= at_stop + 30; }, 30s));
  stop = true;
  for (auto& t : writers) t.join();
  std::map<uint64_t, std::string> want;
  {
    std::lock_guard<std::mutex> l(mu);
    want = acked;
  }
  Collected got;
  const uint64_t last = want.rbegin()->first;
  ASSERT_TRUE(ReadUntil(
      **w, &got, [&](const Collected& in) { return in.position >= last; }, 30s));
  std::set<std::string> seen;
  for (const WatchEvent& e : got.events) {
    EXPECT_TRUE(seen.insert(e.key).second) << "duplicate " << e.key << " @" << e.revision;
  }
  for (const auto& [rev, key] : want) {
    EXPECT_TRUE(seen.count(key)) << "missing acknowledged write " << key << " @" << rev;
  }
  // A write whose answer was lost may be there too, never out of order.
  for (size_t i = 1; i < got.events.size(); ++i)
    EXPECT_LT(got.events[i - 1].revision, got.events[i].revision);
  EXPECT_GE((*w)->stats().resumes, 1u);
}

// A consumer that stops reading: the server's queue for it stays within
// its bound and the server drops it; when it reads again the client
// resumes from where it was and every event arrives once.
class SlowWatchTest : public LocalClusterTest {
 protected:
  void Customize(LocalClusterOptions* o) override {
    o->watch.watcher_max_bytes = 1u << 20;
    o->watch.watcher_max_events = 1000;
  }
};

TEST_F(SlowWatchTest, AConsumerThatDoesNotReadIsDroppedByTheServerAndResumesWithEveryEvent) {
  auto c = NewClient(20s, 5s);
  WatchOptions o;
  o.key = "s/";
  o.prefix = true;
  o.max_buffered_bytes = 256u << 10;
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  const std::string value(256u << 10, 'x');
  constexpr int kWrites = 160;  // 40 MiB: past the client's, the sockets' and the server's buffers
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  std::mutex mu;
  std::vector<uint64_t> revisions;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < kWrites; i = next++) {
        auto r = c->PutWithRevision("s/" + std::to_string(i), value);
        ASSERT_OK(r.status());
        std::lock_guard<std::mutex> l(mu);
        revisions.push_back(r->revision);
      }
    });
  }
  // While it writes: the leader's queued bytes stay within the bound.
  uint64_t max_queued = 0;
  bool done_writing = false;
  while (!done_writing) {
    {
      std::lock_guard<std::mutex> l(mu);
      done_writing = revisions.size() == kWrites;
    }
    auto st = c->EndpointStatus(cluster_->endpoint(cluster_->Leader()), 2s);
    if (st.ok()) max_queued = std::max(max_queued, st->watch_queued_bytes);
    std::this_thread::sleep_for(20ms);  // the sampling period, not a precondition
  }
  for (auto& t : writers) t.join();
  EXPECT_LE(max_queued, 1u << 20);
  Collected got;
  std::sort(revisions.begin(), revisions.end());
  ASSERT_TRUE(ReadUntil(
      **w, &got, [&](const Collected& in) { return in.position >= revisions.back(); }, 60s));
  ASSERT_EQ(got.events.size(), revisions.size());
  for (size_t i = 0; i < revisions.size(); ++i) EXPECT_EQ(got.events[i].revision, revisions[i]);
  const WatchStats s = (*w)->stats();
  EXPECT_GE(s.resumes, 1u);
  EXPECT_NE(s.last_resume_error.find("fell behind"), std::string::npos) << s.last_resume_error;
}

TEST_F(WatchClientTest, ProgressNotificationsCarryThePositionWhenIdle) {
  auto c = NewClient();
  WatchOptions o;
  o.key = "p";
  o.progress_notify = true;
  o.progress_interval = 200ms;
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  auto put = c->PutWithRevision("elsewhere", "x");  // not watched: no event, but time goes on
  ASSERT_OK(put.status());
  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [&](const Collected& in) {
    return in.progress >= 2 && in.position >= put->revision;
  }));
  EXPECT_TRUE(got.events.empty());
}

// RequestProgress (etcd's): a watch without progress_notify gets no
// progress batches -- the server's keepalive items (one a second) are
// swallowed -- until it asks; the answer covers a write acknowledged
// before the request, though that write is not watched.
TEST_F(WatchClientTest, ARequestedProgressCoversEveryWriteAcknowledgedBefore) {
  auto c = NewClient();
  WatchOptions o;
  o.key = "p";
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  auto put = c->PutWithRevision("elsewhere", "x");
  ASSERT_OK(put.status());
  Collected before;
  // Long enough for a keepalive item to arrive (and be swallowed).
  EXPECT_FALSE(ReadUntil(**w, &before, [](const Collected& in) { return in.progress > 0; }, 1500ms))
      << "a progress batch nobody asked for";
  ASSERT_OK((*w)->RequestProgress());
  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [](const Collected& in) { return in.progress > 0; }));
  EXPECT_GE(got.position, put->revision);
  EXPECT_TRUE(got.events.empty());
}

TEST_F(WatchClientTest, AStartRevisionBelowTheCompactRevisionFailsWithIt) {
  auto c = NewClient();
  auto a = c->PutWithRevision("c", "1");
  ASSERT_OK(a.status());
  auto b = c->PutWithRevision("c", "2");
  ASSERT_OK(b.status());
  ASSERT_OK(cluster_->Compact(b->revision, 5s));
  WatchOptions o;
  o.key = "c";
  o.start_revision = a->revision;
  auto w = c->Watch(o);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsInvalidArgument()) << w.status().ToString();
  auto e = txn::WatchErrorOf(w.status());
  ASSERT_TRUE(e.has_value()) << w.status().ToString();
  EXPECT_EQ(e->kind, txn::WatchError::Kind::kCompacted);
  EXPECT_EQ(e->revision, b->revision);
  o.start_revision = b->revision + 1;
  EXPECT_OK(c->Watch(o).status());
}

TEST_F(WatchClientTest, CancelEndsTheWatchAndTheServerForgetsIt) {
  auto c = NewClient();
  WatchOptions o;
  o.key = "x";
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  const std::string leader = cluster_->endpoint(cluster_->Leader());
  EXPECT_EQ(c->EndpointStatus(leader)->watchers, 1u);
  std::thread reader([&] {
    Result<WatchBatch> b = (*w)->Next();
    EXPECT_TRUE(b.status().IsCancelled()) << b.status().ToString();
  });
  (*w)->Cancel();
  reader.join();
  w->reset();
  ASSERT_TRUE(WaitUntil([&] { return c->EndpointStatus(leader)->watchers == 0; }, 10s));
}

TEST_F(WatchClientTest, BadRangesAreRefusedBeforeAnythingIsSent) {
  auto c = NewClient();
  WatchOptions o;  // no key
  EXPECT_TRUE(c->Watch(o).status().IsInvalidArgument());
  o.key = "b";
  o.range_end = "a";
  EXPECT_TRUE(c->Watch(o).status().IsInvalidArgument());
  o.prefix = true;
  EXPECT_TRUE(c->Watch(o).status().IsInvalidArgument()) << "prefix and range end together";
  o.prefix = false;
  o.range_end.clear();
  o.key = std::string(kMaxRequestBytes, 'k');
  EXPECT_TRUE(c->Watch(o).status().IsInvalidArgument());
  // An empty key with prefix: every key; "\0" as the end: every key >= key.
  WatchOptions all;
  all.prefix = true;
  EXPECT_OK(c->Watch(all).status());
  WatchOptions from;
  from.key = "m";
  from.range_end = std::string(1, '\0');
  auto w = c->Watch(from);
  ASSERT_OK(w.status());
  ASSERT_OK(c->Put("a", "below"));
  ASSERT_OK(c->Put("zz", "above"));
  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [](const Collected& in) { return !in.events.empty(); }));
  EXPECT_EQ(got.events[0].key, "zz");
}

TEST_F(WatchClientTest, AFollowerOnlyClientIsSentToTheLeader) {
  const uint64_t leader = cluster_->Leader();
  ClientOptions co;
  for (uint64_t id = 1; id <= 3; ++id)
    if (id != leader) co.endpoints.push_back(cluster_->endpoint(id));
  co.timeout = 10s;
  auto c = Client::Create(co).value();
  WatchOptions o;
  o.key = "f";
  auto w = c->Watch(o);
  ASSERT_OK(w.status());
  auto put = c->PutWithRevision("f", "1");
  ASSERT_OK(put.status());
  Collected got;
  ASSERT_TRUE(ReadUntil(**w, &got, [](const Collected& in) { return !in.events.empty(); }));
  EXPECT_EQ(got.events[0].revision, put->revision);
}

}  // namespace
}  // namespace tinykv::client
