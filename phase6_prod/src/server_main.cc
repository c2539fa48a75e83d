// tinykv-server: one member of a TinyKV cluster. See phase6_prod/README.md.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT); 2 for a bad flag,
// config file or environment value; 1 when the server cannot start (unusable
// data dir, address in use, corrupt log). Errors are one line on stderr:
// `tinykv-server: error: ...`.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "tinykv/prod/server.h"
#include "tinykv/prod/server_config.h"

namespace {

int Fail(int code, const std::string& message) {
  std::cerr << "tinykv-server: error: " << message << std::endl;
  return code;
}

// The options a config file or the environment may set: every option with a
// long name but --help, --version and --config themselves.
bool Settable(const CLI::Option* opt) {
  const auto& names = opt->get_lnames();
  return !names.empty() && names[0] != "help" && names[0] != "version" && names[0] != "config";
}

// The config file's keys, with types, from the options declared on `app`:
// one declaration per setting, so the flags and the file cannot drift apart.
tinykv::prod::ConfigSchema SchemaOf(const CLI::App& app) {
  using tinykv::prod::ConfigValueType;
  tinykv::prod::ConfigSchema schema;
  for (const CLI::Option* opt : app.get_options()) {
    if (!Settable(opt)) continue;
    ConfigValueType type = ConfigValueType::kString;
    const std::string name = opt->get_type_name().substr(0, opt->get_type_name().find(':'));
    if (opt->get_expected_min() == 0) {
      type = ConfigValueType::kBool;  // a flag (takes no value on the command line)
    } else if (name == "INT") {
      type = ConfigValueType::kInteger;
    } else if (name == "UINT") {
      type = ConfigValueType::kUnsigned;
    } else {
      TINYKV_CHECK(name == "TEXT")
          << "no config type for option --" << opt->get_lnames()[0] << " of CLI11 type " << name;
    }
    for (const std::string& n : opt->get_lnames()) schema.emplace(n, type);
  }
  return schema;
}

// CLI11 reads --config FILE through a Config formatter; this one reads the
// file with ParseConfigFile, so an unknown key, a line that is not
// `key = value`, a section or a value of the wrong type stops the server
// (CLI11's own TOML reader skips what it does not understand).
class StrictConfig : public CLI::ConfigBase {
 public:
  StrictConfig(CLI::App* app, const CLI::Option* config_option)
      : app_(app), config_option_(config_option), schema_(SchemaOf(*app)) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    const std::string file = config_option_->as<std::string>();
    auto settings = tinykv::prod::ParseConfigFile(in, file, schema_);
    if (!settings.ok()) {
      throw CLI::ConfigError("--config " + std::string(settings.status().message()));
    }
    std::map<const CLI::Option*, const tinykv::prod::ConfigSetting*> by_option;  // aliases
    std::vector<CLI::ConfigItem> items;
    for (const auto& s : *settings) {
      const CLI::Option* opt = app_->get_option("--" + s.key);
      if (auto [it, fresh] = by_option.emplace(opt, &s); !fresh) {
        throw CLI::ConfigError("--config " + file + ":" + std::to_string(s.line) + ": " + s.key +
                               ": sets the same setting as " + it->second->key + " on line " +
                               std::to_string(it->second->line));
      }
      CLI::ConfigItem item;
      item.name = s.key;
      item.inputs = {s.value};
      items.push_back(std::move(item));
    }
    return items;
  }

 private:
  CLI::App* app_;
  const CLI::Option* config_option_;
  tinykv::prod::ConfigSchema schema_;
};

// TINYKV_<FLAG>: "--data-dir" -> TINYKV_DATA_DIR (etcd's ETCD_DATA_DIR).
std::string EnvName(const std::string& long_name) {
  std::string env = "TINYKV_";
  for (char ch : long_name) {
    env += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  tinykv::prod::ServerConfig c;
  CLI::App app{"tinykv-server: one member of a TinyKV cluster (Raft-replicated key-value store)",
               "tinykv-server"};
  CLI::Option* config = app.set_config(
      "--config", "",
      "Read settings from a file of `key = value` lines (`data-dir = \"...\"`); unknown "
      "keys and malformed lines are errors");
  config->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  app.set_version_flag("--version", std::string("tinykv-server ") + TINYKV_VERSION);
  // --id and --data-dir are required, but checked by ValidateServerConfig
  // rather than CLI11: CLI11 reports a missing required option before an
  // unknown one, and the unknown flag (a typo) is the more useful message.
  app.add_option("--id,--name", c.id,
                 "This member's id (1..n), as in --initial-cluster (required)");
  app.add_option("--data-dir", c.data_dir,
                 "Directory for the Raft log, snapshots and KV engine (required)");
  app.add_option("--listen-client", c.listen_client, "Client address host:port (or https://host:port: needs --cert-file)")
      ->capture_default_str();
  app.add_option("--listen-peer", c.listen_peer, "Peer (Raft) address host:port (or https://host:port: needs --peer-cert-file)")
      ->capture_default_str();
  app.add_option("--listen-metrics", c.listen_metrics,
                 "HTTP monitoring address host:port (/metrics, /health, /livez, /readyz, "
                 "/version, /debug/raft); empty: off");
  app.add_option("--listen-etcd", c.listen_etcd,
                 "etcd v3 gRPC API address host:port (for etcdctl and etcd's clients: KV, "
                 "Watch, Lease, Cluster, Maintenance; phase5_client/etcd/README.md); empty: off");
  app.add_option("--initial-cluster", c.initial_cluster,
                 "Members as ID=host:port,... (peer addresses; https://host:port needs peer TLS); "
                 "empty: a one-node cluster");
  app.add_option("--initial-cluster-client", c.initial_cluster_client,
                 "Members' client addresses as ID=host:port,... (for leader hints)");
  app.add_option("--initial-cluster-state", c.initial_cluster_state,
                 "new: bootstrap --initial-cluster; existing: join a running cluster after "
                 "`tinykv member add` (no bootstrap, waits for the leader)")
      ->capture_default_str();
  app.add_option("--initial-cluster-token", c.initial_cluster_token,
                 "Mixed into a new cluster's id, so clusters with the same members never mix")
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
  app.add_option("--watch-buffer-events", c.watch_buffer_events,
                 "Events one watcher may have queued on the leader before it is dropped "
                 "(its client resumes from history)")
      ->capture_default_str();
  app.add_option("--watch-buffer-bytes", c.watch_buffer_bytes,
                 "Bytes of events one watcher may have queued on the leader before it is dropped")
      ->capture_default_str();
  app.add_option("--auto-compaction-mode", c.auto_compaction_mode,
                 "periodic: compact the history older than --auto-compaction-retention")
      ->capture_default_str();
  app.add_option("--auto-compaction-retention", c.auto_compaction_retention,
                 "How much history to keep, e.g. 72h, 30m, 10s (a bare number is hours); 0 = "
                 "never compact automatically")
      ->capture_default_str();
  app.add_option("--corrupt-check-interval-ms", c.corrupt_check_interval_ms,
                 "How often the leader compares the members' state hashes (CORRUPT alarm on "
                 "a mismatch); 0 = never")
      ->capture_default_str();
  app.add_flag("--initial-corrupt-check,!--no-initial-corrupt-check", c.initial_corrupt_check,
               "At start, compare this node's state with the other members' before it serves "
               "as leader (default on)");
  app.add_flag("--lease-reads", c.lease_reads,
               "Serve linearizable reads on the leader from a lease (no heartbeat round) while "
               "a quorum acknowledged it within the last election timeout minus one tick; "
               "assumes the members' clocks run at nearly the same rate (default off)");
  app.add_option("--cert-file", c.cert_file,
                 "Client port TLS: this server's certificate (PEM); turns TLS on");
  app.add_option("--key-file", c.key_file, "Client port TLS: the key of --cert-file (PEM)");
  app.add_option("--trusted-ca-file", c.trusted_ca_file,
                 "Client port TLS: the CA that signs client certificates (PEM)");
  app.add_flag("--client-cert-auth", c.client_cert_auth,
               "Client port TLS: require a client certificate signed by --trusted-ca-file");
  app.add_option("--peer-cert-file", c.peer_cert_file,
                 "Peer TLS: this member's certificate (PEM), presented on the peer port and "
                 "when dialling members; turns peer TLS on");
  app.add_option("--peer-key-file", c.peer_key_file, "Peer TLS: the key of --peer-cert-file");
  app.add_option("--peer-trusted-ca-file", c.peer_trusted_ca_file,
                 "Peer TLS: the CA that signs the members' certificates (required with peer TLS)");
  app.add_flag("--peer-client-cert-auth", c.peer_client_cert_auth,
               "Peer TLS: members dialling in must present a certificate of "
               "--peer-trusted-ca-file");
  bool no_fsync = false;
  app.add_flag("--unsafe-no-fsync", no_fsync,
               "Do not fsync the Raft log (loses acknowledged writes on power loss; tests only)");
  // Every setting may also come from the environment (TINYKV_ID,
  // TINYKV_INITIAL_CLUSTER, ...; the first long name), below a flag and the
  // config file; and from the config file, read strictly.
  for (CLI::Option* opt : app.get_options()) {
    if (Settable(opt)) opt->envname(EnvName(opt->get_lnames()[0]));
  }
  app.config_formatter(std::make_shared<StrictConfig>(&app, config));
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
  tinykv::logging::Log(log, spdlog::level::info, "ready",
                       {{"node", c.id},
                        {"client", (*server)->client_address()},
                        {"peer", (*server)->peer_address()}});
  log->flush();

  int sig = 0;
  sigwait(&signals, &sig);
  tinykv::logging::Log(log, spdlog::level::info, "shutdown",
                       {{"node", c.id}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->Shutdown();
  tinykv::logging::Log(log, spdlog::level::info, "exited cleanly", {{"node", c.id}});
  log->flush();
  return 0;
}
