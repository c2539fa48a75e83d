// ServerMetrics: tinykv-server's Prometheus metrics (phase6_prod/doc/metrics.md
// lists them), exposed in the Prometheus text format by prometheus-cpp's
// TextSerializer.
//
// Two kinds, by where the value comes from:
//   * refreshed at scrape time from the replica's status (a prometheus-cpp
//     Collectable that calls `status()` once per scrape): has_leader,
//     is_leader, leader changes, proposals committed/applied/pending/failed,
//     WAL fsyncs, rejected peer messages, build info; and, from an MvccStatus
//     read in the same scrape, the watches, leases and compaction of the
//     MVCC layer. Nothing on the Raft path is touched to keep them.
//   * counted at the event: the client requests, by method and status code,
//     with a latency histogram (ObserveRequest, wired to
//     client::ServiceOptions::on_request_done).
//
// Thread safety: every method from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tinykv/common/status.h"
#include "tinykv/replica/kv_node.h"

namespace tinykv::prod {

// The MVCC layer's values for one scrape (phase4_txn's TxnNode, WatchHub and
// AutoCompactor; the server fills it).
struct MvccStatus {
  uint64_t watchers = 0;             // WatchHubStats::watchers
  uint64_t watch_queued_bytes = 0;   // WatchHubStats::queued_bytes
  uint64_t slow_watchers_ended = 0;  // WatchHubStats::slow_ended (cumulative)
  uint64_t leases = 0;               // TxnNode::applied_lease_count
  uint64_t compacted_revision = 0;   // TxnNode::compacted_revision
  uint64_t auto_compactions = 0;     // AutoCompactor::compactions (0 when it is off)
};

class ServerMetrics {
 public:
  // `mvcc` may be empty (a node without the MVCC layer): its metrics are
  // then left out. Both functions are called once per scrape, from the
  // scraping thread.
  ServerMetrics(std::function<replica::KvNodeStatus()> status, std::string version,
                std::function<MvccStatus()> mvcc = nullptr);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // One client request done: `method` is the protocol's name ("tinykv.Put").
  void ObserveRequest(std::string_view method, const Status& status,
                      std::chrono::nanoseconds elapsed);

  // The whole exposition (text format 0.0.4), status read once.
  std::string Scrape();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinykv::prod
