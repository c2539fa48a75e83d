// tinykv-demo-server: the phase 2 milestone — a single-node KV store over RPC.
//
//   tinykv-demo-server --port 7000 [--data-dir /tmp/kv] [--io-threads 2]
//
// Prints "listening on HOST:PORT" on stdout once it accepts connections
// (--port 0 picks a free port), serves until SIGINT/SIGTERM, then shuts down
// gracefully (drains in-flight calls for up to --drain-ms).
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>

#include "kv_service.h"
#include "tinykv/common/logging.h"

using namespace tinykv;
using namespace tinykv::net;

int main(int argc, char** argv) {
  CLI::App app{"TinyKV phase 2 demo: a single-node KV server over the RPC layer"};
  ServerOptions options;
  std::string data_dir;
  std::string log_level = "info";
  int drain_ms = 5000;
  int idle_timeout_ms = 300000;
  app.add_option("--host", options.host, "listen address (loopback by default)");
  app.add_option("--port", options.port, "listen port; 0 picks a free one");
  app.add_option("--io-threads", options.io_threads, "I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--max-connections", options.max_connections, "connection limit");
  app.add_option("--idle-timeout-ms", idle_timeout_ms, "close idle connections after this");
  app.add_option("--data-dir", data_dir,
                 "phase 1 storage directory; empty = in-memory map");
  app.add_option("--drain-ms", drain_ms, "graceful shutdown drain deadline");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  CLI11_PARSE(app, argc, argv);
  options.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);

  logging::LogOptions lo;
  lo.level = log_level;
  if (Status s = logging::Init(lo); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 2;
  }
  std::shared_ptr<demo::KvBackend> backend;
  if (data_dir.empty()) {
    backend = std::make_shared<demo::MemoryBackend>();
  } else {
    auto b = demo::OpenStorageBackend(data_dir);
    if (!b.ok()) {
      std::cerr << "tinykv-demo-server: " << b.status().ToString() << "\n";
      return 1;
    }
    backend = std::move(b).value();
  }
  auto server = RpcServer::Create(options);
  if (!server.ok()) {
    std::cerr << "tinykv-demo-server: " << server.status().ToString() << "\n";
    return 2;
  }
  demo::RegisterKvService(server->get(), backend);
  if (Status s = (*server)->Start(); !s.ok()) {
    std::cerr << "tinykv-demo-server: " << s.ToString() << "\n";
    return 1;
  }
  std::cout << "listening on " << (*server)->address() << " backend=" << backend->name()
            << std::endl;

  asio::io_context signals_ctx;
  asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});
  signals_ctx.run();  // returns after the first signal
  (*server)->Shutdown(std::chrono::milliseconds(drain_ms));
  std::cout << "stopped" << std::endl;
  return 0;
}
