// WatchLog: the watchers' arrivals and their latencies (watch_log.h).
//
// A stream only appends (its own vector, its own counter), so receiving
// costs no lock; the matching with the puts' tables, the duplicate check and
// the sorting all happen once, in Finish.
#include "watch_log.h"

#include <algorithm>
#include <charconv>

namespace tinykv::bench {

WatchLog::WatchLog(std::string prefix, int key_size, int watchers, uint64_t puts)
    : prefix_(std::move(prefix)), key_size_(key_size), puts_(puts), per_watcher_(watchers) {
  for (PerWatcher& pw : per_watcher_) pw.arrivals.reserve(puts);
}

void WatchLog::Created(int /*w*/) { created_.fetch_add(1, std::memory_order_acq_rel); }

void WatchLog::Event(int w, std::string_view key, std::chrono::steady_clock::time_point at) {
  PerWatcher& pw = per_watcher_[static_cast<size_t>(w)];
  uint32_t put = kForeign;
  if (key.size() == prefix_.size() + static_cast<size_t>(key_size_) && key.starts_with(prefix_)) {
    uint64_t n = 0;
    const char* end = key.data() + key.size();
    auto [p, ec] = std::from_chars(key.data() + prefix_.size(), end, n);
    if (ec == std::errc() && p == end && n < puts_) put = static_cast<uint32_t>(n);
  }
  pw.arrivals.push_back({SteadyNs(at), put});
  pw.count.fetch_add(1, std::memory_order_relaxed);
}

uint64_t WatchLog::delivered() const {
  uint64_t n = 0;
  for (const PerWatcher& pw : per_watcher_) n += pw.count.load(std::memory_order_relaxed);
  return n;
}

WatchOutcome WatchLog::Finish(const Outcome& puts) {
  WatchOutcome out;
  uint64_t acked = 0;
  for (int64_t a : puts.acked_ns) acked += a != 0;
  std::vector<bool> seen;
  for (PerWatcher& pw : per_watcher_) {
    seen.assign(puts_, false);
    uint64_t acked_seen = 0;
    for (const Arrival& a : pw.arrivals) {
      if (a.put == kForeign || a.put >= puts.sent_ns.size()) {
        out.foreign++;
        continue;
      }
      if (seen[a.put]) {
        out.duplicates++;
        continue;
      }
      seen[a.put] = true;
      out.events++;
      out.last_event_ns = std::max(out.last_event_ns, a.at_ns);
      const int64_t sent = puts.sent_ns[a.put];
      if (sent != 0) {
        out.after_send.latency_ns.push_back(
            static_cast<uint64_t>(std::max<int64_t>(0, a.at_ns - sent)));
      }
      const int64_t ack = puts.acked_ns[a.put];
      if (ack == 0) continue;  // the put failed (or timed out) yet applied
      acked_seen++;
      if (a.at_ns < ack) out.early++;
      out.after_ack.latency_ns.push_back(
          static_cast<uint64_t>(std::max<int64_t>(0, a.at_ns - ack)));
    }
    out.missing += acked - acked_seen;
    pw.arrivals = {};  // the memory back: a run of 1000 watchers holds millions
  }
  std::sort(out.after_ack.latency_ns.begin(), out.after_ack.latency_ns.end());
  std::sort(out.after_send.latency_ns.begin(), out.after_send.latency_ns.end());
  return out;
}

}  // namespace tinykv::bench
