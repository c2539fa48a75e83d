// tinykv-net-bench: small-request round trips over loopback.
//
// Starts an in-process RpcServer with the demo service (or targets
// --address), then runs a closed-loop echo load (demo/echo_load.h) for each
// payload size and concurrency, `--runs` times, and prints one CSV row per
// (payload, concurrency) with the median over runs of throughput, p50 and p99:
//
//   system,test,payload_bytes,concurrency,rps,p50_ms,p99_ms,errors
//
// scripts/bench-net.sh runs this next to redis-benchmark and prints the
// side-by-side table (phase2_net/README.md).
#include <algorithm>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "echo_load.h"
#include "kv_service.h"
#include "tinykv/common/logging.h"

using namespace tinykv;
using namespace tinykv::net;

namespace {
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"TinyKV RPC echo benchmark"};
  std::vector<size_t> payloads = {64, 4096};
  std::vector<int> concurrency = {1, 16, 64, 256};
  int duration_ms = 2000, warmup_ms = 300, runs = 3;
  int server_threads = 1, client_threads = 1;
  size_t connections = 1;
  std::string address;
  app.add_option("--payload", payloads, "echo payload sizes in bytes")->delimiter(',');
  app.add_option("--concurrency", concurrency, "concurrent callers")->delimiter(',');
  app.add_option("--duration-ms", duration_ms, "measured time per run");
  app.add_option("--warmup-ms", warmup_ms, "unmeasured warm-up per (payload, concurrency)");
  app.add_option("--runs", runs, "runs per point; the median is reported");
  app.add_option("--server-threads", server_threads, "server io threads (in-process server)");
  app.add_option("--client-threads", client_threads, "client io threads");
  app.add_option("--connections", connections, "client connections per peer (multiplexed)");
  app.add_option("--address", address, "benchmark this server instead of an in-process one");
  CLI11_PARSE(app, argc, argv);
  logging::LogOptions lo;
  lo.level = "warn";
  logging::Init(lo).IgnoreError();

  std::unique_ptr<RpcServer> server;
  if (address.empty()) {
    ServerOptions so;
    so.io_threads = server_threads;
    auto s = RpcServer::Create(so);
    if (!s.ok()) {
      std::cerr << s.status().ToString() << "\n";
      return 1;
    }
    server = std::move(s).value();
    demo::RegisterKvService(server.get(), std::make_shared<demo::MemoryBackend>());
    if (Status st = server->Start(); !st.ok()) {
      std::cerr << st.ToString() << "\n";
      return 1;
    }
    address = server->address();
  }
  ClientOptions co;
  co.io_threads = client_threads;
  co.max_connections_per_peer = connections;
  auto client = RpcClient::Create(co);
  if (!client.ok()) {
    std::cerr << client.status().ToString() << "\n";
    return 1;
  }
  std::cout << "system,test,payload_bytes,concurrency,rps,p50_ms,p99_ms,errors" << std::endl;
  int exit_code = 0;
  for (size_t payload : payloads) {
    for (int c : concurrency) {
      demo::EchoLoadOptions lo2;
      lo2.address = address;
      lo2.concurrency = c;
      lo2.payload_bytes = payload;
      lo2.duration = std::chrono::milliseconds(warmup_ms);
      (void)demo::RunEchoLoad(client->get(), lo2);  // warm-up: connections, allocator, caches
      lo2.duration = std::chrono::milliseconds(duration_ms);
      std::vector<double> rps, p50, p99;
      uint64_t errors = 0;
      std::string first_error;
      for (int r = 0; r < runs; ++r) {
        demo::EchoLoadResult res = demo::RunEchoLoad(client->get(), lo2);
        rps.push_back(res.throughput());
        p50.push_back(res.Percentile(0.50) / 1000.0);
        p99.push_back(res.Percentile(0.99) / 1000.0);
        errors += res.errors;
        if (first_error.empty()) first_error = res.first_error;
      }
      std::cout << "tinykv,ECHO," << payload << "," << c << "," << static_cast<uint64_t>(Median(rps))
                << "," << Median(p50) << "," << Median(p99) << "," << errors << std::endl;
      if (errors > 0) {
        std::cerr << "errors during the run, first: " << first_error << "\n";
        exit_code = 1;
      }
    }
  }
  client->get()->Shutdown();
  if (server) server->Shutdown(std::chrono::seconds(2));
  return exit_code;
}
