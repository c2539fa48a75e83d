// WatchHub: see watch_hub.h.
#include "tinykv/txn/watch_hub.h"

#include <algorithm>
#include <utility>

#include "tinykv/txn/lock_resolution.h"
#include "tinykv/txn/mvcc_history.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/txn_executor.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {
namespace {

using std::chrono::milliseconds;

size_t VersionBytes(const CommittedVersion& v) {
  return v.key.size() + (v.record.write.value ? v.record.write.value->size() : 0) + 32;
}

size_t OutputBytes(const WatchOutput& out) {
  size_t n = 0;
  for (const WatchEvent& e : out.events) n += WatchEventBytes(e);
  return n;
}

bool EventOrder(const WatchEvent& a, const WatchEvent& b) {
  return a.revision != b.revision ? a.revision < b.revision : a.key < b.key;
}

// A progress output certifies that the hub is computing resolved
// timestamps; one that has not for this long (an isolated leader whose
// oracle cannot reserve) stays silent, so its clients notice and go on.
constexpr milliseconds kHealthyFor{1000};

}  // namespace

// ---- Watcher ----

bool Watcher::Matches(const std::string& key) const {
  return key >= spec_.start && (spec_.end.empty() || key < spec_.end);
}

std::optional<WatchOutput> Watcher::Poll() {
  std::lock_guard<std::mutex> l(hub_->mu_);
  if (queue_.empty()) return std::nullopt;
  WatchOutput out = std::move(queue_.front());
  queue_.pop_front();
  queued_events_ -= out.events.size();
  queued_bytes_ -= OutputBytes(out);
  polled_revision_ = out.revision;
  return out;
}

std::optional<Status> Watcher::Ended() {
  std::lock_guard<std::mutex> l(hub_->mu_);
  if (!queue_.empty()) return std::nullopt;
  return end_;
}

void Watcher::SetNotify(std::function<void()> notify) {
  std::lock_guard<std::mutex> l(hub_->mu_);
  notify_ = std::move(notify);
}

void Watcher::Cancel() { hub_->Forget(id_); }

Status WatchHub::RequestProgress(uint64_t id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = watchers_.find(id);
    if (it == watchers_.end() || it->second->state_ == Watcher::State::kEnded)
      return Status::NotFound("watch " + std::to_string(id) + " does not run here");
    // Not the tick running now, if one is: its timestamp may predate this.
    it->second->progress_requested_tick_ = tick_number_ + 1;
    kicked_ = true;
  }
  cv_.notify_one();
  return Status::OK();
}

// ---- WatchHub ----

WatchHub::WatchHub(WatchSource* source, WatchHubOptions options)
    : source_(source), options_(options) {
  last_watcher_gone_ = last_resolved_ok_ = Clock::now();
  if (options_.worker) worker_ = std::thread([this] { Run(); });
}

WatchHub::~WatchHub() { Close(Status::Cancelled("watch hub stopped")); }

void WatchHub::Close(const Status& why) {
  std::vector<WatcherPtr> notify;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!closed_) {
      closed_ = true;
      close_status_ = why;
      for (auto& [id, w] : watchers_) {
        EndLocked(*w, why);
        notify.push_back(w);
      }
      watchers_.clear();
      recording_.store(false, std::memory_order_release);
      feed_.clear();
      feed_events_ = feed_bytes_ = 0;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  Notify(notify);
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
}

void WatchHub::Notify(const std::vector<WatcherPtr>& watchers) {
  for (const WatcherPtr& w : watchers) {
    std::function<void()> notify;
    {
      std::lock_guard<std::mutex> l(w->hub_->mu_);
      notify = w->notify_;
    }
    if (notify) notify();
  }
}

void WatchHub::Forget(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  if (it->second->state_ != Watcher::State::kEnded)
    EndLocked(*it->second, Status::Cancelled("watch cancelled"));
  watchers_.erase(it);
  if (watchers_.empty()) last_watcher_gone_ = Clock::now();
}

Result<std::shared_ptr<Watcher>> WatchHub::Watch(const WatchSpec& spec) {
  if (!spec.end.empty() && spec.end <= spec.start)
    return Status::InvalidArgument("watch: range end must be empty or greater than its start");
  const uint64_t term = source_->LeaderTerm();
  if (term == 0) return Status::NotLeader("watch: not the leader");
  if (spec.start_revision > 0) {
    uint64_t safe_point = 0;
    TINYKV_RETURN_IF_ERROR(source_->Read([&](MvccReader& r) -> Status {
      TINYKV_ASSIGN_OR_RETURN(safe_point, ReadGcSafePoint(r));
      return Status::OK();
    }));
    if (spec.start_revision <= safe_point) return CompactedError(spec.start_revision, safe_point);
  }
  std::vector<WatcherPtr> notify;
  uint64_t epoch = 0;
  bool need_floor = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::Unavailable("watch: " + close_status_.ToString());
    if (term != term_) EnterTermLocked(term, &notify);
    if (!recording_.load(std::memory_order_relaxed)) StartRecordingLocked();
    epoch = recording_epoch_;
    need_floor = !floor_valid_;
  }
  Notify(notify);
  notify.clear();
  // "After now" is after a fresh timestamp, taken once recording is on:
  // every write acknowledged before this call is below it, every later one
  // above. The same timestamp can start the feed's floor.
  uint64_t position = spec.start_revision == 0 ? 0 : spec.start_revision - 1;
  if (need_floor || spec.start_revision == 0) {
    Result<uint64_t> now = source_->Timestamp();
    if (!now.ok()) return now.status();
    if (need_floor) SetFloor(epoch, *now, &notify);
    if (spec.start_revision == 0) position = *now;
  }
  WatcherPtr w;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::Unavailable("watch: " + close_status_.ToString());
    if (term_ != term) return Status::NotLeader("watch: leadership changed");
    w = WatcherPtr(new Watcher(this, next_id_++, spec));
    w->position_ = w->polled_revision_ = position;
    WatchOutput created;
    created.kind = WatchOutput::Kind::kCreated;
    created.revision = position;
    QueueOutputLocked(*w, std::move(created));
    watchers_.emplace(w->id_, w);
    PlaceLocked(*w);
    kicked_ = true;
  }
  cv_.notify_one();
  Notify(notify);
  return w;
}

void WatchHub::EnterTermLocked(uint64_t term, std::vector<WatcherPtr>* notify) {
  // Watchers of the old term end: the new leader serves them from where
  // they got to (resolved here was only this term's, and the writes in
  // flight this term recorded are forgotten by TxnNode at a term change).
  for (auto& [id, w] : watchers_) {
    EndLocked(*w, Status::NotLeader("watch: leadership changed"));
    notify->push_back(w);
  }
  watchers_.clear();
  term_ = term;
  barrier_done_ = false;
  recording_.store(false, std::memory_order_release);
  floor_valid_ = false;
  feed_.clear();
  feed_events_ = feed_bytes_ = 0;
  resolved_ = 0;
  last_watcher_gone_ = Clock::now();
}

void WatchHub::StartRecordingLocked() {
  // Versions that applied before this point are in the engine only: the
  // floor must be at or above all of them, so it is a timestamp taken
  // after recording started (SetFloor); until then everything is kept.
  ++recording_epoch_;
  floor_valid_ = false;
  floor_ = 0;
  feed_.clear();
  feed_events_ = feed_bytes_ = 0;
  for (auto& [id, w] : watchers_)
    if (w->state_ != Watcher::State::kEnded) w->state_ = Watcher::State::kNew;
  recording_.store(true, std::memory_order_release);
}

void WatchHub::SetFloor(uint64_t epoch, uint64_t ts, std::vector<WatcherPtr>* notify) {
  std::lock_guard<std::mutex> l(mu_);
  if (!recording_.load(std::memory_order_relaxed) || epoch != recording_epoch_ || floor_valid_)
    return;
  // Every version that applied before recording started took its timestamp
  // before `ts` was handed out: at or below floor_.
  floor_ = ts - 1;
  while (!feed_.empty() && feed_.begin()->first <= floor_) {
    for (const CommittedVersion& v : feed_.begin()->second) feed_bytes_ -= VersionBytes(v);
    feed_events_ -= feed_.begin()->second.size();
    feed_.erase(feed_.begin());
  }
  floor_valid_ = true;
  for (auto& [id, w] : watchers_) {
    PlaceLocked(*w);
    notify->push_back(w);
  }
}

void WatchHub::PlaceLocked(Watcher& w) {
  if (w.state_ != Watcher::State::kNew || !floor_valid_) return;
  w.state_ = w.position_ >= floor_ ? Watcher::State::kLive : Watcher::State::kCatchingUp;
}

void WatchHub::OnVersions(std::vector<CommittedVersion> versions) {
  std::lock_guard<std::mutex> l(mu_);
  if (!recording_.load(std::memory_order_relaxed)) return;
  for (CommittedVersion& v : versions) {
    const uint64_t ts = v.record.commit_ts;
    if (floor_valid_ && ts <= floor_) continue;  // below the floor: read from history
    feed_bytes_ += VersionBytes(v);
    ++feed_events_;
    feed_[ts].push_back(std::move(v));
  }
  if (floor_valid_ && feed_bytes_ > options_.feed_max_bytes && !feed_.empty()) {
    // Resolved is stalled (a long transaction's lock) while writes go on:
    // drop the feed and raise the floor over it. The versions at or below
    // the new floor (those dropped, and any that apply later) are read from
    // history by the watchers below it, up to resolved: all applied by then.
    floor_ = std::max(floor_, feed_.rbegin()->first);
    feed_.clear();
    feed_events_ = feed_bytes_ = 0;
    ++counters_.feed_overflows;
    for (auto& [id, w] : watchers_)
      if (w->state_ == Watcher::State::kLive && w->position_ < floor_)
        w->state_ = Watcher::State::kCatchingUp;
  }
}

void WatchHub::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    const bool idle = watchers_.empty();
    const milliseconds wait = idle && !recording_.load(std::memory_order_relaxed)
                                  ? milliseconds(1000)
                              : idle ? milliseconds(100)
                                     : options_.resolve_interval;
    cv_.wait_for(l, wait, [this] { return stopping_ || kicked_; });
    if (stopping_) break;
    kicked_ = false;
    l.unlock();
    Tick();
    l.lock();
  }
}

void WatchHub::Tick() {
  // One tick at a time (the worker's and a test's): a release and a
  // history page assume nobody else moves resolved_ or a position meanwhile.
  std::lock_guard<std::mutex> one_tick(tick_mu_);
  std::vector<WatcherPtr> notify;
  const uint64_t term = source_->LeaderTerm();
  uint64_t epoch = 0;
  bool need_barrier = false, need_floor = false;
  uint64_t tick = 0;
  bool resolved_now = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return;
    tick = ++tick_number_;
    if (term != term_) EnterTermLocked(term, &notify);
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      if (it->second->state_ == Watcher::State::kEnded) {
        it = watchers_.erase(it);
        if (watchers_.empty()) last_watcher_gone_ = Clock::now();
      } else {
        ++it;
      }
    }
    if (recording_.load(std::memory_order_relaxed) && watchers_.empty() &&
        Clock::now() - last_watcher_gone_ >= options_.linger) {
      recording_.store(false, std::memory_order_release);
      floor_valid_ = false;
      feed_.clear();
      feed_events_ = feed_bytes_ = 0;
    }
    if (term == 0 || !recording_.load(std::memory_order_relaxed)) {
      epoch = 0;
    } else {
      epoch = recording_epoch_;
      need_barrier = !barrier_done_;
      need_floor = !floor_valid_;
    }
  }
  Notify(notify);
  notify.clear();
  if (epoch == 0) return;
  if (need_barrier) {
    // A new leader may not have applied its predecessors' last entries:
    // their locks must be indexed and their KV writes done before a
    // resolved timestamp means anything.
    if (!source_->Barrier(options_.barrier_timeout).ok()) return;  // the next tick retries
    std::lock_guard<std::mutex> l(mu_);
    if (term_ != term) return;
    barrier_done_ = true;
  }
  if (need_floor) {
    Result<uint64_t> ts = source_->Timestamp();
    if (!ts.ok()) return;
    SetFloor(epoch, *ts, &notify);
  }
  // The resolved timestamp, its parts read in this order (watch_hub.h): a
  // fresh timestamp T, then the lowest KV write in flight, then the lowest
  // live lock. A KV write or a commit below T is then either still holding
  // one of the two up, or its versions are already in the feed.
  Result<uint64_t> t = source_->Timestamp();
  if (t.ok()) {
    const uint64_t in_flight = source_->LowestWriteInFlight();
    const uint64_t lock = source_->LowestLockStartTs();
    const uint64_t r = std::min({*t, in_flight, lock}) - 1;
    // A term that ended meanwhile: its bound means nothing (the next tick
    // ends the watchers).
    if (source_->LeaderTerm() == term) {
      {
        std::lock_guard<std::mutex> l(mu_);
        last_resolved_ok_ = Clock::now();
        ++counters_.ticks;
      }
      Release(r, &notify);
      CatchUp(&notify);
      resolved_now = true;
      if (lock <= in_flight && lock < *t) MaybeResolveLock(lock, *t);
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    ProgressLocked(Clock::now(), tick, resolved_now, &notify);
  }
  Notify(notify);
}

void WatchHub::Release(uint64_t r, std::vector<WatcherPtr>* notify) {
  std::vector<CommittedVersion> released;
  bool want_prev = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (r <= resolved_ || !floor_valid_ || closed_) return;
    for (auto it = feed_.begin(); it != feed_.end() && it->first <= r; it = feed_.erase(it)) {
      for (CommittedVersion& v : it->second) {
        feed_bytes_ -= VersionBytes(v);
        released.push_back(std::move(v));
      }
      feed_events_ -= it->second.size();
    }
    // Every watcher that asks for prev values counts, live or not: one still
    // catching up may go live before the delivery below (which takes the
    // mutex again) and would then get these events without them.
    for (auto& [id, w] : watchers_) want_prev = want_prev || w->spec_.prev_kv;
  }
  // Values (a 2PC put's lives in its data record) and prev values: engine
  // reads, outside the mutex (the apply path takes it). Everything at or
  // below r has applied, so these reads of the past are final.
  std::vector<WatchEvent> events;
  std::vector<bool> prev_lost;  // prev value below the GC safe point: unknown
  uint64_t safe_point = 0;
  Status read = Status::OK();
  if (!released.empty()) {
    read = source_->Read([&](MvccReader& reader) -> Status {
      TINYKV_ASSIGN_OR_RETURN(safe_point, ReadGcSafePoint(reader));
      for (const CommittedVersion& v : released) {
        WatchEvent e;
        e.key = v.key;
        e.revision = v.record.commit_ts;
        if (v.record.write.kind == WriteKind::kPut) {
          TINYKV_ASSIGN_OR_RETURN(e.value, reader.ValueOf(Slice(v.key), v.record));
        } else {
          e.type = WatchEvent::Type::kDelete;
        }
        const bool lost = want_prev && e.revision - 1 < safe_point;
        if (want_prev && !lost) {
          TINYKV_ASSIGN_OR_RETURN(e.prev_value,
                                  reader.CommittedValue(Slice(v.key), e.revision - 1));
        }
        events.push_back(std::move(e));
        prev_lost.push_back(lost);
      }
      return Status::OK();
    });
  }
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return EventOrder(events[a], events[b]); });

  std::lock_guard<std::mutex> l(mu_);
  if (closed_) return;
  resolved_ = r;
  floor_ = std::max(floor_, r);
  // Nothing at or below r can have joined the feed meanwhile (the resolved
  // invariant); should anything have, it must not come out later, behind r.
  while (!feed_.empty() && feed_.begin()->first <= r) {
    for (const CommittedVersion& v : feed_.begin()->second) feed_bytes_ -= VersionBytes(v);
    feed_events_ -= feed_.begin()->second.size();
    feed_.erase(feed_.begin());
  }
  ++counters_.releases;
  for (auto& [id, wp] : watchers_) {
    Watcher& w = *wp;
    if (w.state_ != Watcher::State::kLive || w.position_ >= r) continue;
    if (!read.ok()) {
      EndLocked(w, Status::Unavailable("watch: reading released versions: " + read.ToString()));
      notify->push_back(wp);
      continue;
    }
    std::vector<WatchEvent> mine;
    size_t bytes = 0;
    Status lost = Status::OK();
    for (size_t i : order) {
      const WatchEvent& e = events[i];
      if (e.revision <= w.position_ || !w.Matches(e.key)) continue;
      if (w.spec_.prev_kv && prev_lost[i]) {
        lost = CompactedError(e.revision - 1, safe_point);
        break;
      }
      WatchEvent copy = e;
      if (!w.spec_.prev_kv) copy.prev_value.reset();
      bytes += WatchEventBytes(copy);
      mine.push_back(std::move(copy));
    }
    if (!lost.ok()) {
      EndLocked(w, lost);
      notify->push_back(wp);
      continue;
    }
    if (!mine.empty()) {
      const bool over = w.queued_events_ + mine.size() > options_.watcher_max_events ||
                        w.queued_bytes_ + bytes > options_.watcher_max_bytes;
      if (over) {
        // Its stream does not keep up (or a burst larger than the bound
        // came): end it, free its queue, and let the client come back from
        // what it has -- from history, in pages its stream can take.
        ++counters_.slow_ended;
        EndLocked(w, ResumeError("watcher fell behind: " +
                                     std::to_string(w.queued_events_ + mine.size()) +
                                     " events / " + std::to_string(w.queued_bytes_ + bytes) +
                                     " bytes to queue, the limit is " +
                                     std::to_string(options_.watcher_max_events) + " / " +
                                     std::to_string(options_.watcher_max_bytes),
                                 w.polled_revision_ + 1));
        notify->push_back(wp);
        continue;
      }
      QueueEventsLocked(w, std::move(mine), r);
      notify->push_back(wp);
    }
    w.position_ = std::max(w.position_, r);
  }
}

void WatchHub::CatchUp(std::vector<WatcherPtr>* notify) {
  struct Job {
    WatcherPtr w;
    HistoryQuery q;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!floor_valid_ || closed_) return;
    const uint64_t upto = std::min(floor_, resolved_);
    for (auto& [id, wp] : watchers_) {
      Watcher& w = *wp;
      if (w.state_ != Watcher::State::kCatchingUp) continue;
      if (w.position_ >= upto) {
        if (w.position_ >= floor_) w.state_ = Watcher::State::kLive;
        continue;
      }
      // A page only once its stream took the last one: a page holds at
      // least one whole revision, so it could pass the room left.
      if (w.queued_events_ > 0) continue;
      Job job{wp, {}};
      job.q.start = w.spec_.start;
      job.q.end = w.spec_.end;
      job.q.after_ts = w.position_;
      job.q.upto_ts = upto;
      job.q.prev_kv = w.spec_.prev_kv;
      job.q.max_events = std::min(options_.history_page_events, options_.watcher_max_events);
      job.q.max_bytes = std::min(options_.history_page_bytes, options_.watcher_max_bytes);
      jobs.push_back(std::move(job));
    }
  }
  for (Job& job : jobs) {
    Result<HistoryPage> page = HistoryPage{};
    Status s = source_->Read([&](MvccReader& reader) -> Status {
      page = ReadHistory(reader, job.q);
      return Status::OK();
    });
    if (!s.ok()) page = s;
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.history_reads;
    Watcher& w = *job.w;
    if (w.state_ != Watcher::State::kCatchingUp || w.position_ != job.q.after_ts) continue;
    if (!page.ok()) {
      Status why = WatchErrorOf(page.status())
                       ? page.status()
                       : Status::Unavailable("watch: reading history: " + page.status().ToString());
      EndLocked(w, why);
      notify->push_back(job.w);
      continue;
    }
    if (!page->events.empty()) QueueEventsLocked(w, std::move(page->events), page->reached);
    w.position_ = page->reached;
    if (w.position_ >= floor_) w.state_ = Watcher::State::kLive;
    notify->push_back(job.w);
  }
}

void WatchHub::MaybeResolveLock(uint64_t lock, uint64_t now) {
  const auto clock_now = Clock::now();
  if (clock_now - last_lock_resolve_ < options_.lock_resolve_interval) return;
  std::optional<std::string> key = source_->LowestLockKey();
  if (!key) return;
  std::optional<Lock> found;
  Status s = source_->Read([&](MvccReader& reader) -> Status {
    TINYKV_ASSIGN_OR_RETURN(found, reader.GetLock(Slice(*key)));
    return Status::OK();
  });
  // Gone meanwhile, replaced, or not expired: nothing to do.
  if (!s.ok() || !found || found->start_ts != lock || !LockTtlPassed(*found, now)) return;
  last_lock_resolve_ = clock_now;
  // Its failure (a leader change, a timeout) is retried after the interval.
  source_->ResolveLock(LockInfo{*key, *found}, now).IgnoreError();
  std::lock_guard<std::mutex> l(mu_);
  ++counters_.locks_resolved;
}

void WatchHub::ProgressLocked(Clock::time_point now, uint64_t tick, bool resolved,
                              std::vector<WatcherPtr>* notify) {
  for (auto& [id, wp] : watchers_) {
    Watcher& w = *wp;
    if (w.state_ == Watcher::State::kEnded) continue;
    if (resolved && w.progress_requested_tick_ != 0 && tick >= w.progress_requested_tick_) {
      // After any events queued: outputs keep their order, and the
      // position only grows.
      w.progress_requested_tick_ = 0;
      WatchOutput out;
      out.kind = WatchOutput::Kind::kProgress;
      out.revision = w.position_;
      out.requested = true;
      QueueOutputLocked(w, std::move(out));
      notify->push_back(wp);
      continue;
    }
    if (w.spec_.progress_interval.count() <= 0 ||
        !w.queue_.empty()) {
      continue;
    }
    const auto interval = std::max(w.spec_.progress_interval, options_.min_progress_interval);
    if (now - w.last_output_ < interval) continue;
    if (now - last_resolved_ok_ > std::max<Clock::duration>(interval, kHealthyFor)) continue;
    WatchOutput out;
    out.kind = WatchOutput::Kind::kProgress;
    out.revision = w.position_;
    QueueOutputLocked(w, std::move(out));
    notify->push_back(wp);
  }
}

void WatchHub::QueueEventsLocked(Watcher& w, std::vector<WatchEvent> events, uint64_t upto) {
  size_t i = 0;
  while (i < events.size()) {
    WatchOutput out;
    out.kind = WatchOutput::Kind::kEvents;
    size_t bytes = 0;
    while (i < events.size() && (out.events.empty() ||
                                 bytes + WatchEventBytes(events[i]) <= options_.output_max_bytes)) {
      bytes += WatchEventBytes(events[i]);
      out.events.push_back(std::move(events[i]));
      ++i;
    }
    // Complete up to just below the next output's first revision (which
    // may be this output's last: a revision split over two outputs).
    out.revision = i < events.size() ? events[i].revision - 1 : upto;
    QueueOutputLocked(w, std::move(out));
  }
}

void WatchHub::QueueOutputLocked(Watcher& w, WatchOutput out) {
  w.queued_events_ += out.events.size();
  w.queued_bytes_ += OutputBytes(out);
  w.queue_.push_back(std::move(out));
  w.last_output_ = Clock::now();
}

void WatchHub::EndLocked(Watcher& w, Status why) {
  if (w.state_ == Watcher::State::kEnded) return;
  w.state_ = Watcher::State::kEnded;
  w.end_ = std::move(why);
  w.queue_.clear();
  w.queued_events_ = w.queued_bytes_ = 0;
}

WatchHubStats WatchHub::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  WatchHubStats s = counters_;
  s.watchers = watchers_.size();
  s.feed_events = feed_events_;
  s.feed_bytes = feed_bytes_;
  s.resolved_ts = resolved_;
  s.recording = recording_.load(std::memory_order_relaxed);
  for (const auto& [id, w] : watchers_) {
    s.queued_bytes += w->queued_bytes_;
    s.max_queued_bytes = std::max<uint64_t>(s.max_queued_bytes, w->queued_bytes_);
  }
  return s;
}

}  // namespace tinykv::txn
