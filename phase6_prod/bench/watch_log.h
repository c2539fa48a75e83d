// WatchLog: what tinykv-bench's watchers received (tinykv-bench watch), and
// the delivery latencies that follows from it.
//
// The run: `watchers` watchers of one prefix are created first; then the
// watched puts (workload.h `watched`) write keys prefix + MakeKey(n) for
// n = 0 .. puts-1, each put a key of its own, and keep the time each was
// sent and acknowledged by n. Every watcher should receive every put once.
// A watcher's stream logs each event it receives (Event: the key names the
// put) with the time it arrived; Finish matches the logs with the puts'
// tables once everything has stopped.
//
// Which latency, and why. A put commits somewhere between its send and its
// ack, and neither side can see when, so two latencies bracket it:
//   after_ack   arrival - the put's ack, 0 when the event came first (the
//               watcher was notified before the putter got its answer) --
//               what etcd's `benchmark watch-latency` reports (it records
//               the put's ack time by key and clamps the same way). It is
//               the watch path alone: the fan-out and the event's trip,
//               minus the answer's trip to the putter.
//   after_send  arrival - the put's send: the put's own commit (consensus,
//               fsync) plus the watch path; an upper bound.
// Both are read on this process's one steady clock, by the putters and the
// watchers alike, so no clocks need agreeing. The ack time is recorded by
// key rather than stamped in the value because a value is written before
// the ack exists; the send time could be stamped, but the table serves both
// and leaves the value the plain --val-size bytes of the other modes.
//
// Thread safety: Created and delivered from any thread; Event for watcher w
// from one thread at a time (its stream's); Finish once, after every stream
// has stopped and the puts' Outcome is final.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workload.h"

namespace tinykv::bench {

struct WatchOutcome {
  uint64_t events = 0;        // distinct (watcher, put) pairs delivered
  uint64_t duplicates = 0;    // deliveries of a put a watcher already had
  uint64_t foreign = 0;       // events of keys no put of this run wrote
  uint64_t missing = 0;       // (watcher, acknowledged put) pairs never delivered
  uint64_t early = 0;         // events that arrived before their put's ack
  int64_t last_event_ns = 0;  // steady clock; 0 when none arrived
  Outcome after_ack;          // latency_ns: arrival - ack (clamped at 0), sorted
  Outcome after_send;         // latency_ns: arrival - send, sorted
};

class WatchLog {
 public:
  // REQUIRES: puts < 2^32.
  WatchLog(std::string prefix, int key_size, int watchers, uint64_t puts);

  const std::string& prefix() const { return prefix_; }
  int watchers() const { return static_cast<int>(per_watcher_.size()); }

  // Watcher w's watch is in place (the server confirmed it).
  void Created(int w);
  int created() const { return created_.load(std::memory_order_acquire); }

  // Watcher w received the put of `key` at `at`.
  void Event(int w, std::string_view key, std::chrono::steady_clock::time_point at);
  // Events received so far, over every watcher (duplicates included).
  uint64_t delivered() const;

  // Matches the logs with puts.sent_ns / acked_ns (workload.h).
  WatchOutcome Finish(const Outcome& puts);

 private:
  struct Arrival {
    int64_t at_ns;
    uint32_t put;  // n; kForeign for a key no put wrote
  };
  struct alignas(64) PerWatcher {
    std::vector<Arrival> arrivals;
    std::atomic<uint64_t> count{0};
  };
  static constexpr uint32_t kForeign = UINT32_MAX;

  const std::string prefix_;
  const int key_size_;
  const uint64_t puts_;
  std::vector<PerWatcher> per_watcher_;
  std::atomic<int> created_{0};
};

}  // namespace tinykv::bench
