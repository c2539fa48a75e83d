// WatchHub: watch streams by revision on the leader -- every watcher of a
// node fed from ONE observer on the apply path, released in revision order
// once nothing at or below a revision can still apply (a resolved
// timestamp, as TiKV's resolved-ts and CDC do it).
//
// What a watcher sees. A watch names a key range [start, end) and a start
// revision S (0: "after now"); it gets every put and delete of a key in the
// range with revision >= S, in revision order, all events of one revision
// together (a transaction's keys, a delete-range), with the value before
// each (prev_kv) when asked, each exactly once. The stream begins with a
// kCreated output naming its position (S - 1, or a fresh timestamp for
// "now") and may carry kProgress outputs (no events) when idle.
//
// Positions. Every output carries the stream's position P: every matching
// event with revision <= P has been output. A client that loses the stream
// watches again from P + 1 (on this node or the next leader): no gap, no
// duplicate. An output may end inside a revision too large for one output
// (its last events then have revisions above P, and the next outputs carry
// the rest), so a client delivers a revision once the position passed it.
//
// THE ORDERING PROBLEM, AND THE RESOLVED TIMESTAMP. A revision is a commit
// timestamp, and timestamps are handed out before the writes that carry
// them apply: a KV write takes its timestamp before it is proposed, and a
// transaction takes its commit_ts from the oracle, then sends the commit.
// So entries apply out of timestamp order -- a put at 10 can apply after a
// put at 12 (two io threads), a 2PC commit at 11 after a KV put at 15. An
// event released at 12 followed by one at 10 would break the order, and a
// client resuming from 13 would miss 10 for good. The hub therefore keeps
// applied events in a feed and releases those at or below R only once
//
//   Invariant (resolved): no version with commit_ts <= resolved_ can still
//   apply here, and every one that did is in the feed or below its floor.
//
// On the leader, at each tick (WatchSource has the parts):
//   resolved = min(T, lowest KV write in flight, lowest live lock start_ts) - 1
// read in that order, where
//   * T is a fresh timestamp from the oracle, taken now (after the previous
//     bound): any timestamp handed out later is above it;
//   * a KV write with ts < T was recorded in flight (TxnNode, under the
//     lock that hands timestamps out) before T was handed out, and leaves
//     that record only after its versions reached the feed (the state
//     machine's observer order, mvcc_state_machine.h) -- so it is either
//     still in flight (bounding resolved below it) or in the feed;
//   * a transaction commits at commit_ts only after its prewrite applied
//     here (Percolator: the client takes commit_ts after every prewrite
//     succeeded), so its lock, with start_ts < commit_ts, is in the lock
//     index (lock_index.h) until the commit applies, and leaves it only
//     after the commit's versions reached the feed. One-phase writes
//     (OnePhaseWriteCmd) have neither; clients cannot send them.
// A new leader first runs a read barrier (every entry of an earlier term
// applied here: their locks indexed, their KV writes done or never), and
// the hub's state is dropped at every term change (the old term's writes
// in flight were forgotten by TxnNode; the new term starts over).
//
// The feed and its floor. While anyone watches, the observer puts every
// applied version with revision above floor_ into the feed; a release
// moves those at or below resolved to the live watchers and raises floor_
// to resolved. A watcher whose position is below floor_ catches up from the
// engine's history (mvcc_history.h: bounded pages, up to min(floor_,
// resolved_), which is all applied) and then joins the feed. A feed larger
// than feed_max_bytes (a lock stalls resolved while writes go on) is
// dropped and floor_ raised to the highest revision it held: its watchers
// catch up from history instead -- memory stays bounded, nobody is failed.
// Recording stops `linger` after the last watcher left (nothing on the
// apply path then but one flag read).
//
// Slow watchers. Each watcher's queue (outputs not yet polled by its
// stream) holds at most watcher_max_events / watcher_max_bytes. A live
// watcher whose queue would pass that is ended with a resume error
// (watch_error.h kResume: the revision after the last output its stream
// took) and its queue freed: the client watches again from there and
// catches up from history. A catching-up watcher reads its next page only
// once its stream took the last one, a page within the bound (or one whole
// revision, if a single revision is larger), so it is never ended for it.
//
// Abandoned locks. A transaction whose client died leaves locks nobody may
// resolve for a long time (readers resolve what they meet); the lowest
// would hold every watch back for ever. So when the lock that binds resolved
// has outlived its TTL, the hub resolves it as a reader would
// (lock_resolution.h: check the primary, which rolls an expired transaction
// back, then commit or roll back the lock), at most every
// lock_resolve_interval. A live transaction (its primary heartbeated) is
// left alone.
//
// Progress on request (etcd's RequestProgress). RequestProgress(id) asks
// for one kProgress output (WatchOutput::requested set) from the first tick
// that starts after the request and computes a resolved timestamp: its
// position then covers every write acknowledged before the request (the
// tick's fresh timestamp T is above all of them), for a live watcher; a
// catching-up one reports the position its history reached.
//
// Other ends: NotLeader (leadership changed; the client resumes on the new
// leader), a compacted error (watch_error.h: history below the GC safe
// point is gone), Close's status (server shutdown).
//
// Thread safety: every method of WatchHub and Watcher from any thread. One
// worker thread ticks (resolved ts, releases, history pages, progress);
// OnVersions runs on the applying thread and only appends under the mutex.
// Notify callbacks run on the worker or the caller's thread, without the
// hub's mutex: they must be quick (post to an executor).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/txn/batch_changes.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/watch_event.h"

namespace tinykv::txn {

// What one watch asks for.
struct WatchSpec {
  std::string start;
  std::string end;              // empty: to the end of the key space
  uint64_t start_revision = 0;  // the first revision wanted; 0: after now
  bool prev_kv = false;
  // Idle progress: a kProgress output whenever nothing was output for this
  // long (0: none; raised to WatchHubOptions::min_progress_interval).
  std::chrono::milliseconds progress_interval{0};
};

// One item of a watch stream.
struct WatchOutput {
  enum class Kind : uint8_t { kCreated = 1, kEvents = 2, kProgress = 3 };
  Kind kind = Kind::kEvents;
  std::vector<WatchEvent> events;  // kEvents only; revision order
  uint64_t revision = 0;           // the stream's position after it (header comment)
  bool requested = false;          // kProgress only: the answer to RequestProgress
};

// The parts of the node the hub reads: TxnNode's, or a test's fake.
class WatchSource {
 public:
  virtual ~WatchSource() = default;
  // The current term if this node leads, else 0.
  virtual uint64_t LeaderTerm() = 0;
  // Blocks until every entry of earlier terms has applied here (a read
  // barrier); NotLeader or Timeout otherwise.
  virtual Status Barrier(std::chrono::milliseconds timeout) = 0;
  // A fresh timestamp from the oracle (NotLeader on a follower).
  virtual Result<uint64_t> Timestamp() = 0;
  // The lowest timestamp of a KV write handed out and not yet applied (or
  // known never to apply); kMaxTs when none.
  virtual uint64_t LowestWriteInFlight() = 0;
  // The smallest start_ts of a live lock (lock_index.h); kMaxTs when none.
  virtual uint64_t LowestLockStartTs() = 0;
  // A key whose lock has that start_ts (nullopt: none).
  virtual std::optional<std::string> LowestLockKey() = 0;
  // Resolves `lock` as a reader would (lock_resolution.h): check-txn-status
  // on its primary at current_ts, then, unless its transaction lives,
  // resolve-lock on the key, through Raft. Blocking.
  virtual Status ResolveLock(const LockInfo& lock, uint64_t current_ts) = 0;
  // Runs fn on a reader of the applied state.
  virtual Status Read(const std::function<Status(MvccReader&)>& fn) = 0;
};

struct WatchHubOptions {
  size_t watcher_max_events = 100000;    // one watcher's queue
  size_t watcher_max_bytes = 16u << 20;  //   ... in events' bytes (WatchEventBytes)
  size_t feed_max_bytes = 64u << 20;     // the shared feed of unreleased versions
  size_t output_max_bytes = 1u << 20;    // events of one output (a revision may span several)
  size_t history_page_events = 10000;    // one history read
  size_t history_page_bytes = 4u << 20;
  std::chrono::milliseconds resolve_interval{10};  // ticks while anyone watches
  std::chrono::milliseconds min_progress_interval{100};
  std::chrono::milliseconds linger{5000};  // recording goes on after the last watcher left
  std::chrono::milliseconds barrier_timeout{5000};
  // A lock that holds resolved back and whose TTL has passed is resolved
  // (its client may be gone), at most this often.
  std::chrono::milliseconds lock_resolve_interval{1000};
  bool worker = true;  // false: no thread, TickForTest drives the hub (deterministic tests)
};

struct WatchHubStats {
  uint64_t watchers = 0;
  uint64_t feed_events = 0;  // now: applied versions waiting for resolved
  uint64_t feed_bytes = 0;
  uint64_t queued_bytes = 0;      // now: all watchers' queues
  uint64_t max_queued_bytes = 0;  // now: the largest queue
  uint64_t resolved_ts = 0;
  uint64_t ticks = 0;          // resolved timestamps computed
  uint64_t releases = 0;       // times resolved moved and the feed was released
  uint64_t history_reads = 0;  // history pages read for catching-up watchers
  uint64_t slow_ended = 0;     // watchers ended for passing their queue bound
  uint64_t feed_overflows = 0;
  uint64_t locks_resolved = 0;  // resolve attempts on expired locks that held resolved back
  bool recording = false;
};

class WatchHub;

// One registered watch, shared by the hub and the stream that serves it.
class Watcher {
 public:
  // The next output, or nullopt when none is queued (non-blocking).
  std::optional<WatchOutput> Poll();
  // Once the watch ended (and its queue is empty): the status its stream
  // ends with. nullopt while it runs.
  std::optional<Status> Ended();
  // Called (from hub threads, without locks) when Poll or Ended may have
  // something new. Must be quick; may be called spuriously.
  void SetNotify(std::function<void()> notify);
  // The stream is gone: the hub forgets the watcher. Idempotent.
  void Cancel();

  uint64_t id() const { return id_; }

 private:
  friend class WatchHub;
  enum class State : uint8_t { kNew, kCatchingUp, kLive, kEnded };
  Watcher(WatchHub* hub, uint64_t id, WatchSpec spec)
      : hub_(hub), id_(id), spec_(std::move(spec)) {}
  bool Matches(const std::string& key) const;

  WatchHub* const hub_;
  const uint64_t id_;
  const WatchSpec spec_;
  // Guarded by the hub's mutex:
  State state_ = State::kNew;
  uint64_t position_ = 0;         // every matching event <= it is queued or polled
  uint64_t polled_revision_ = 0;  // the position of the last output polled
  std::deque<WatchOutput> queue_;
  size_t queued_events_ = 0;
  size_t queued_bytes_ = 0;
  std::optional<Status> end_;
  std::chrono::steady_clock::time_point last_output_;
  // A RequestProgress to answer in the first tick numbered >= it (0: none).
  uint64_t progress_requested_tick_ = 0;
  std::function<void()> notify_;
};

class WatchHub final : public VersionObserver {
 public:
  // REQUIRES: `source` outlives the hub. Starts the worker thread.
  WatchHub(WatchSource* source, WatchHubOptions options = {});
  ~WatchHub();  // Close(Cancelled) and joins the worker
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Registers a watch. NotLeader on a follower (the caller adds the hint),
  // InvalidArgument for a range with end <= start, the compacted error
  // (watch_error.h) for a start revision at or below the GC safe point,
  // Unavailable after Close. May take a timestamp from the oracle.
  Result<std::shared_ptr<Watcher>> Watch(const WatchSpec& spec);

  // The apply path (the MVCC state machine's VersionObserver): versions an
  // engine write committed, wanted while anyone watches. Cheap: appends to
  // the feed.
  bool WantsVersions() const override { return recording_.load(std::memory_order_acquire); }
  void OnVersions(std::vector<CommittedVersion> versions) override;

  // Ends every watch with `why` and refuses new ones; stops the worker.
  // Idempotent. For a server that shuts down: its clients resume elsewhere.
  void Close(const Status& why);
  // Asks for a progress output on watcher `id` (header comment "Progress
  // on request"); NotFound when no such watcher runs here.
  Status RequestProgress(uint64_t id);
  // Runs one tick now on the caller's thread (tests drive the hub so).
  void TickForTest() { Tick(); }
  WatchHubStats stats() const;

 private:
  friend class Watcher;
  using Clock = std::chrono::steady_clock;
  using WatcherPtr = std::shared_ptr<Watcher>;

  void Run();
  void Tick();
  // REQUIRES: mu_ held. Drops the state of another term (its watchers end
  // with NotLeader) and starts `term`'s.
  void EnterTermLocked(uint64_t term, std::vector<WatcherPtr>* notify);
  // REQUIRES: mu_ held. Starts recording (floor_ not valid until SetFloor).
  void StartRecordingLocked();
  // Makes floor_ = ts - 1 if recording epoch `epoch` still waits for one.
  void SetFloor(uint64_t epoch, uint64_t ts, std::vector<WatcherPtr>* notify);
  // Resolved moved to r: the feed's versions up to r go to live watchers.
  void Release(uint64_t r, std::vector<WatcherPtr>* notify);
  // One history page for each catching-up watcher with room.
  void CatchUp(std::vector<WatcherPtr>* notify);
  // The lock with start_ts `lock` holds resolved back: if its TTL passed at
  // `now` (and no attempt was made lately), resolve it as a reader would.
  void MaybeResolveLock(uint64_t lock, uint64_t now);
  // REQUIRES: mu_ held. Idle watchers that asked for progress get one, and
  // so do those that requested it, if this tick (number `tick`) resolved.
  void ProgressLocked(Clock::time_point now, uint64_t tick, bool resolved,
                      std::vector<WatcherPtr>* notify);
  // REQUIRES: mu_ held. Places a new watcher once floor_ is known.
  void PlaceLocked(Watcher& w);
  // REQUIRES: mu_ held. Queues events as outputs of at most
  // output_max_bytes, the last at position `upto`.
  void QueueEventsLocked(Watcher& w, std::vector<WatchEvent> events, uint64_t upto);
  void QueueOutputLocked(Watcher& w, WatchOutput out);
  // REQUIRES: mu_ held. Ends `w` with `why`, its queue freed.
  void EndLocked(Watcher& w, Status why);
  void Forget(uint64_t id);
  static void Notify(const std::vector<WatcherPtr>& watchers);

  WatchSource* const source_;
  const WatchHubOptions options_;

  std::mutex tick_mu_;  // held through a Tick
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool closed_ = false;
  Status close_status_;
  bool kicked_ = false;
  uint64_t term_ = 0;          // the leader term of the state below; 0: not leading
  bool barrier_done_ = false;  // term_'s barrier ran: resolved_ can be computed
  std::atomic<bool> recording_{false};
  uint64_t recording_epoch_ = 0;  // bumped whenever recording (re)starts
  bool floor_valid_ = false;      // floor_ set for this recording epoch
  // Invariant (floor): while recording with floor_valid_, every version that
  // applied with commit_ts > floor_ is in feed_; every one in feed_ is above it.
  uint64_t floor_ = 0;
  uint64_t resolved_ = 0;  // Invariant (resolved): see the header comment
  std::map<uint64_t, std::vector<CommittedVersion>> feed_;  // by commit_ts
  size_t feed_events_ = 0;
  size_t feed_bytes_ = 0;
  std::map<uint64_t, WatcherPtr> watchers_;
  uint64_t next_id_ = 1;
  uint64_t tick_number_ = 0;  // ticks started (RequestProgress waits for the next)
  Clock::time_point last_watcher_gone_;
  Clock::time_point last_resolved_ok_;
  Clock::time_point last_lock_resolve_;  // the worker's (MaybeResolveLock)
  WatchHubStats counters_;  // the cumulative fields

  std::thread worker_;
};

}  // namespace tinykv::txn
