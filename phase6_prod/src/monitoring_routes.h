// The monitoring endpoints of tinykv-server's --listen-metrics port, as
// HttpServer routes (phase6_prod/README.md, "Monitoring"):
//   /metrics     Prometheus text format (ServerMetrics::Scrape)
//   /health      {"health":"true","reason":""} 200 when the member knows a
//                leader and has no disk error; "false" with the reason, 503,
//                otherwise (etcd's shape)
//   /livez       200 while the process serves
//   /readyz      200 once the replica has applied up to the commit index it
//                had at start and knows a leader; 503 with the reason before
//   /version     {"server":"0.1.0","cluster":"not_decided","cluster_id":"..."}
//   /debug/raft  the replica status as one JSON object
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "http_server.h"
#include "metrics.h"
#include "tinykv/replica/kv_node.h"

namespace tinykv::prod {

struct MonitoringContext {
  std::function<replica::KvNodeStatus()> status;  // thread-safe
  ServerMetrics* metrics = nullptr;               // outlives the routes
  std::string version;
  uint64_t cluster_id = 0;
  uint64_t start_commit_index = 0;  // the commit index the replica had when it opened
};

// The answers, one per path. Exposed for tests.
HttpResponse HealthResponse(const replica::KvNodeStatus& st);
HttpResponse DebugRaftResponse(const replica::KvNodeStatus& st);

std::map<std::string, HttpHandler> MonitoringRoutes(MonitoringContext context);

}  // namespace tinykv::prod
