// EchoLoad: a closed-loop load generator for kv.Echo, shared by the
// benchmark tool (bench/net_bench.cc), the Python bindings and the notebook.
//
// `concurrency` callers (coroutines on the client's io threads) each send
// one request, wait for its answer, and send the next, until `requests`
// calls have been made in total or `duration` has passed. Every call's
// latency is recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/net/client.h"

namespace tinykv::net::demo {

struct EchoLoadOptions {
  std::string address;
  int concurrency = 1;
  size_t payload_bytes = 64;
  uint64_t requests = 0;                      // 0: run for `duration` only
  std::chrono::milliseconds duration{1000};   // ignored when requests > 0
  std::chrono::milliseconds timeout{5000};    // per call
};

struct EchoLoadResult {
  uint64_t calls = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latencies_us;  // one per successful call, in completion order
  std::string first_error;
  double throughput() const { return seconds > 0 ? calls / seconds : 0; }
  // q in [0, 1]; 0 if no samples.
  double Percentile(double q) const;
};

EchoLoadResult RunEchoLoad(RpcClient* client, const EchoLoadOptions& options);

}  // namespace tinykv::net::demo
