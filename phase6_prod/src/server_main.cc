// tinykv-server: one member of a TinyKV cluster. See phase6_prod/README.md.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT); 2 for a bad flag or
// config file; 1 when the server cannot start (unusable data dir, address in
// use, corrupt log). Errors are one line on stderr: `tinykv-server: error: ...`.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "tinykv/common/logging.h"
#include "tinykv/prod/server.h"
#include "tinykv/prod/server_config.h"

namespace {

int Fail(int code, const std::string& message) {
  std::cerr << "tinykv-server: error: " << message << std::endl;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  tinykv::prod::ServerConfig c;
  CLI::App app{"tinykv-server: one member of a TinyKV cluster (Raft-replicated key-value store)",
               "tinykv-server"};
  app.set_config("--config", "", "Read flags from a TOML/INI file (`data-dir = \"...\"` lines)");
  app.set_version_flag("--version", "tinykv-server 0.1.0");
  // --id and --data-dir are required, but checked by ValidateServerConfig
  // rather than CLI11: CLI11 reports a missing required option before an
  // unknown one, and the unknown flag (a typo) is the more useful message.
  app.add_option("--id,--name", c.id,
                 "This member's id (1..n), as in --initial-cluster (required)");
  app.add_option("--data-dir", c.data_dir,
                 "Directory for the Raft log, snapshots and KV engine (required)");
  app.add_option("--listen-client", c.listen_client, "Client address host:port")
      ->capture_default_str();
  app.add_option("--listen-peer", c.listen_peer, "Peer (Raft) address host:port")
      ->capture_default_str();
  app.add_option("--initial-cluster", c.initial_cluster,
                 "Members as ID=host:port,... (peer addresses); empty: a one-node cluster");
  app.add_option("--initial-cluster-client", c.initial_cluster_client,
                 "Members' client addresses as ID=host:port,... (for leader hints)");
  app.add_option("--initial-cluster-state", c.initial_cluster_state,
                 "new: bootstrap --initial-cluster; existing: join a running cluster after "
                 "`tinykv member add` (no bootstrap, waits for the leader)")
      ->capture_default_str();
  app.add_option("--cluster-id", c.cluster_id,
                 "This cluster's id: peers with another are refused (0: not checked)")
      ->capture_default_str();
  app.add_option("--tick-ms", c.tick_ms, "Raft tick in milliseconds")->capture_default_str();
  app.add_option("--election-ticks", c.election_ticks,
                 "Election timeout in ticks (randomized in [1x, 2x))")
      ->capture_default_str();
  app.add_option("--heartbeat-ticks", c.heartbeat_ticks, "Heartbeat interval in ticks")
      ->capture_default_str();
  app.add_option("--snapshot-threshold", c.snapshot_threshold,
                 "Applied entries between state machine snapshots")
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  app.add_option("--log-format", c.log_format, "text or json")->capture_default_str();
  app.add_flag("--enable-fault-injection", c.enable_fault_injection,
               "Serve the admin RPC that drops traffic to/from peers (tests only)");
  app.add_option("--io-threads", c.io_threads, "Threads for client and peer I/O")
      ->capture_default_str();
  app.add_option("--request-timeout-ms", c.request_timeout_ms,
                 "Deadline of a client request that carries none")
      ->capture_default_str();
  app.add_option("--shutdown-drain-ms", c.shutdown_drain_ms,
                 "On SIGTERM, how long in-flight requests may take to finish")
      ->capture_default_str();
  bool no_fsync = false;
  app.add_flag("--unsafe-no-fsync", no_fsync,
               "Do not fsync the Raft log (loses acknowledged writes on power loss; tests only)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(2, std::string(e.what()) + " (see --help)");
  }
  c.sync = !no_fsync;

  if (auto s = tinykv::logging::Init({c.log_level, c.log_format, ""}); !s.ok()) {
    return Fail(2, "--log-level/--log-format: " + std::string(s.message()));
  }
  if (auto s = tinykv::prod::ValidateServerConfig(c); !s.ok()) {
    return Fail(s.IsInvalidArgument() ? 2 : 1, std::string(s.message()));
  }

  // Block the shutdown signals in every thread (threads created from here on
  // inherit the mask); the main thread then waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = tinykv::prod::Server::Start(c);
  if (!server.ok()) return Fail(1, server.status().ToString());
  auto log = tinykv::logging::Get("server");
  log->info("node={} ready client={} peer={}", c.id, (*server)->client_address(),
            (*server)->peer_address());
  log->flush();

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("node={} shutdown signal={}", c.id, sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  log->info("node={} exited cleanly", c.id);
  log->flush();
  return 0;
}
