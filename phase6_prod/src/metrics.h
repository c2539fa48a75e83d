// ServerMetrics: tinykv-server's Prometheus metrics (phase6_prod/doc/metrics.md
// lists them), exposed in the Prometheus text format by prometheus-cpp's
// TextSerializer.
//
// Two kinds, by where the value comes from:
//   * refreshed at scrape time from the replica's status (a prometheus-cpp
//     Collectable that calls `status()` once per scrape): has_leader,
//     is_leader, leader changes, proposals committed/applied/pending/failed,
//     WAL fsyncs, rejected peer messages, build info. Nothing on the Raft
//     path is touched to keep them.
//   * counted at the event: the client requests, by method and status code,
//     with a latency histogram (ObserveRequest, wired to
//     client::ServiceOptions::on_request_done).
//
// Thread safety: every method from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tinykv/common/status.h"
#include "tinykv/replica/kv_node.h"

namespace tinykv::prod {

class ServerMetrics {
 public:
  ServerMetrics(std::function<replica::KvNodeStatus()> status, std::string version);
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
