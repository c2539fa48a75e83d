// ServerMetrics (metrics.h). Names follow etcd's where the data exists
// (etcd_server_has_leader -> tinykv_server_has_leader, ...) and Prometheus'
// conventions: base units in the name, `_total` on counters.
#include "metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace tinykv::prod {

namespace {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type,
                                double value, prometheus::ClientMetric::Label label = {}) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  if (!label.name.empty()) m.label.push_back(std::move(label));
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {std::move(m)}};
}

// A LatencyHistogram's snapshot as a Prometheus histogram in seconds (its
// buckets are etcd's: latency_histogram.h); the +Inf bucket is the count.
prometheus::MetricFamily HistogramFamily(std::string name, std::string help,
                                         const LatencyHistogram::Snapshot& s) {
  prometheus::ClientMetric m;
  m.histogram.sample_count = s.count;
  m.histogram.sample_sum = static_cast<double>(s.sum_micros) / 1e6;
  uint64_t cumulative = 0;
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += s.counts[i];
    m.histogram.bucket.push_back({cumulative, LatencyHistogram::UpperBoundSeconds(i)});
  }
  m.histogram.bucket.push_back({s.count, std::numeric_limits<double>::infinity()});
  return prometheus::MetricFamily{std::move(name), std::move(help),
                                  prometheus::MetricType::Histogram, {std::move(m)}};
}

// The MVCC layer's metrics (etcd's names in parentheses: what each mirrors).
// Revisions are commit timestamps near 2^59 (timestamp.h), so a gauge of one
// holds it to the double's 53 bits, and the text format writes it to 16
// significant digits: exact enough to follow compaction, not to read the
// revision back (the answer of a Compact request has it exactly).
void AppendMvccFamilies(const MvccStatus& m, std::vector<prometheus::MetricFamily>* out) {
  using prometheus::MetricType;
  // (etcd_debugging_mvcc_watcher_total)
  out->push_back(Family("tinykv_watchers",
                        "Watchers registered on this member (the leader serves every watch).",
                        MetricType::Gauge, static_cast<double>(m.watchers)));
  // (etcd_debugging_mvcc_pending_events_total counts events; these are bytes)
  out->push_back(Family("tinykv_watch_queued_bytes",
                        "Bytes of watch events queued for this member's watchers and not yet "
                        "taken by their streams.",
                        MetricType::Gauge, static_cast<double>(m.watch_queued_bytes)));
  // (etcd_debugging_mvcc_slow_watcher_total is a gauge of the slow watchers
  // etcd keeps; TinyKV ends them, so this counts the endings)
  out->push_back(Family("tinykv_slow_watchers_dropped_total",
                        "Watchers ended for passing their queue bound (--watch-buffer-events, "
                        "--watch-buffer-bytes); their clients resume from history.",
                        MetricType::Counter, static_cast<double>(m.slow_watchers_ended)));
  // (etcd_debugging_lease_granted_total - etcd_debugging_lease_revoked_total)
  out->push_back(Family("tinykv_leases",
                        "Leases in this member's state machine: granted and not yet revoked or "
                        "expired, as applied here.",
                        MetricType::Gauge, static_cast<double>(m.leases)));
  // (etcd_debugging_mvcc_compact_revision)
  out->push_back(Family("tinykv_compact_revision",
                        "The compacted revision as applied on this member (0: never compacted).",
                        MetricType::Gauge, static_cast<double>(m.compacted_revision)));
  out->push_back(Family("tinykv_auto_compactions_total",
                        "Compactions this member's auto-compactor made while it led "
                        "(--auto-compaction-retention); manual ones are the Compact requests.",
                        MetricType::Counter, static_cast<double>(m.auto_compactions)));
}

// The values read from the replica's status at scrape time. Counters here
// are the replica's own (they restart at 0 with the process, which
// Prometheus' rate() handles), or Raft indexes, which only grow.
class StatusCollectable final : public prometheus::Collectable {
 public:
  StatusCollectable(std::function<replica::KvNodeStatus()> status, std::string version,
                    std::function<MvccStatus()> mvcc)
      : status_(std::move(status)), version_(std::move(version)), mvcc_(std::move(mvcc)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    const replica::KvNodeStatus st = status_();
    const bool has_leader = st.leader != 0 && st.error.empty();
    std::vector<prometheus::MetricFamily> out;
    out.push_back(Family("tinykv_build_info", "Always 1; the server's version in the label.",
                         MetricType::Gauge, 1, {"version", version_}));
    out.push_back(Family("tinykv_server_has_leader",
                         "1 if this member knows a leader and has no disk error, else 0.",
                         MetricType::Gauge, has_leader ? 1 : 0));
    out.push_back(Family("tinykv_server_is_leader", "1 if this member is the leader, else 0.",
                         MetricType::Gauge, st.role == "leader" ? 1 : 0));
    out.push_back(Family("tinykv_server_leader_changes_seen_total",
                         "Leader changes this member has seen since it started.",
                         MetricType::Counter, static_cast<double>(st.leader_changes)));
    out.push_back(Family("tinykv_server_proposals_committed_total",
                         "The commit index: entries committed in the Raft log.",
                         MetricType::Counter, static_cast<double>(st.commit_index)));
    out.push_back(Family("tinykv_server_proposals_applied_total",
                         "The applied index: entries applied to the state machine.",
                         MetricType::Counter, static_cast<double>(st.applied_index)));
    out.push_back(Family("tinykv_server_proposals_pending",
                         "Proposals submitted on this member and not yet completed.",
                         MetricType::Gauge, static_cast<double>(st.proposals_pending)));
    out.push_back(Family("tinykv_server_proposals_failed_total",
                         "Proposals that ended in an error other than NotLeader (aborted, "
                         "timed out, cancelled, busy, disk error) since start.",
                         MetricType::Counter, static_cast<double>(st.proposals_failed)));
    out.push_back(Family("tinykv_server_term", "The current Raft term.", MetricType::Gauge,
                         static_cast<double>(st.term)));
    out.push_back(Family("tinykv_server_disk_error",
                         "1 if the replica stopped on a disk error (it acknowledges nothing "
                         "until it recovers), else 0.",
                         MetricType::Gauge, st.error.empty() ? 0 : 1));
    prometheus::MetricFamily alarms =
        Family("tinykv_server_alarm",
               "1 for each alarm raised on this member (NOSPACE: its disk filled, writes "
               "refused until disarmed; CORRUPT: its state differs from the majority's), else 0.",
               MetricType::Gauge, st.nospace ? 1 : 0, {"alarm", "NOSPACE"});
    prometheus::ClientMetric corrupt;
    corrupt.gauge.value = st.alarm.empty() ? 0 : 1;
    corrupt.label.push_back({"alarm", "CORRUPT"});
    alarms.metric.push_back(std::move(corrupt));
    out.push_back(std::move(alarms));
    out.push_back(Family("tinykv_server_rejected_peer_messages_total",
                         "Peer messages the Raft core refused (malformed, non-member, ...).",
                         MetricType::Counter, static_cast<double>(st.rejected_messages)));
    out.push_back(Family("tinykv_disk_wal_fsync_total", "fdatasync calls on the Raft log.",
                         MetricType::Counter, static_cast<double>(st.log_fsyncs)));
    out.push_back(Family("tinykv_disk_wal_entries_written_total",
                         "Entries written to the Raft log.", MetricType::Counter,
                         static_cast<double>(st.log_entries_written)));
    out.push_back(HistogramFamily("tinykv_wal_fsync_duration_seconds",
                                  "The latency of the Raft log's fdatasync calls.",
                                  st.wal_fsync_duration));
    out.push_back(HistogramFamily("tinykv_backend_commit_duration_seconds",
                                  "The latency of applying a run of committed commands to the "
                                  "KV engine (one batch write).",
                                  st.backend_commit_duration));
    if (mvcc_) AppendMvccFamilies(mvcc_(), &out);
    return out;
  }

 private:
  const std::function<replica::KvNodeStatus()> status_;
  const std::string version_;
  const std::function<MvccStatus()> mvcc_;  // may be empty
};

}  // namespace

struct ServerMetrics::Impl {
  StatusCollectable from_status;
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& handling;
  // (method, code) -> counter, and method -> histogram: Family::Add hashes
  // the labels under its own lock; this map is cheaper per request.
  std::mutex mu;
  std::map<std::pair<std::string, Status::Code>, prometheus::Counter*, std::less<>> counters;
  std::map<std::string, prometheus::Histogram*, std::less<>> histograms;

  Impl(std::function<replica::KvNodeStatus()> status, std::string version,
       std::function<MvccStatus()> mvcc)
      : from_status(std::move(status), std::move(version), std::move(mvcc)),
        handled(prometheus::BuildCounter()
                    .Name("tinykv_grpc_server_handled_total")
                    .Help("Client requests completed, by method and status code.")
                    .Register(registry)),
        handling(prometheus::BuildHistogram()
                     .Name("tinykv_grpc_server_handling_seconds")
                     .Help("Time from a client request's arrival to its answer, by method.")
                     .Register(registry)) {}
};

ServerMetrics::ServerMetrics(std::function<replica::KvNodeStatus()> status, std::string version,
                             std::function<MvccStatus()> mvcc)
    : impl_(std::make_unique<Impl>(std::move(status), std::move(version), std::move(mvcc))) {}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::ObserveRequest(std::string_view method, const Status& status,
                                   std::chrono::nanoseconds elapsed) {
  // "tinykv.Put" -> service "tinykv", method "Put", as grpc-prometheus names them.
  const size_t dot = method.rfind('.');
  const std::string service(dot == std::string_view::npos ? "" : method.substr(0, dot));
  const std::string name(dot == std::string_view::npos ? method : method.substr(dot + 1));
  prometheus::Counter* counter = nullptr;
  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto key = std::make_pair(name, status.code());
    auto c = impl_->counters.find(key);
    if (c == impl_->counters.end()) {
      prometheus::Counter& added =
          impl_->handled.Add({{"grpc_service", service},
                              {"grpc_method", name},
                              {"grpc_code", std::string(StatusCodeName(status.code()))}});
      c = impl_->counters.emplace(std::move(key), &added).first;
    }
    counter = c->second;
    auto h = impl_->histograms.find(name);
    if (h == impl_->histograms.end()) {
      // 0.5 ms .. 10 s: a loopback read to a write waiting on fsyncs and an election.
      prometheus::Histogram& added = impl_->handling.Add(
          {{"grpc_service", service}, {"grpc_method", name}},
          prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1, 0.25, 0.5, 1, 2.5, 5, 10});
      h = impl_->histograms.emplace(name, &added).first;
    }
    histogram = h->second;
  }
  counter->Increment();
  histogram->Observe(std::chrono::duration<double>(elapsed).count());
}

std::string ServerMetrics::Scrape() {
  std::vector<prometheus::MetricFamily> families = impl_->from_status.Collect();
  for (auto& f : impl_->registry.Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tinykv::prod
