#include "tinykv/prod/server_config.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "tinykv/net/address.h"

namespace tinykv::prod {
namespace {

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<std::map<uint64_t, std::string>> ParseInitialCluster(const std::string& text,
                                                            const std::string& flag) {
  std::map<uint64_t, std::string> peers;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = Trim(std::string_view(text).substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) {
      if (comma == text.size()) break;
      return Status::InvalidArgument(flag + ": empty member in '" + text + "'");
    }
    const auto eq = item.find('=');
    uint64_t id = 0;
    if (eq == std::string::npos || !ParseUint(item.substr(0, eq), &id) || id == 0) {
      return Status::InvalidArgument(flag + ": '" + item +
                                     "' is not ID=host:port with a positive ID");
    }
    const std::string addr = Trim(item.substr(eq + 1));
    auto hp = net::ParseHostPort(addr);
    if (!hp.ok()) return Status::InvalidArgument(flag + ": " + std::string(hp.status().message()));
    if (hp->port == 0) {
      return Status::InvalidArgument(flag + ": member " + std::to_string(id) +
                                     " needs a fixed port, not 0");
    }
    if (!peers.emplace(id, addr).second) {
      return Status::InvalidArgument(flag + ": member " + std::to_string(id) +
                                     " appears twice");
    }
  }
  return peers;
}

Status ValidateServerConfig(const ServerConfig& c) {
  if (c.id == 0) return Status::InvalidArgument("--id is required (a positive integer)");
  if (c.data_dir.empty()) return Status::InvalidArgument("--data-dir is required");
  if (auto hp = net::ParseHostPort(c.listen_client); !hp.ok()) {
    return Status::InvalidArgument("--listen-client: " + std::string(hp.status().message()));
  }
  if (auto hp = net::ParseHostPort(c.listen_peer); !hp.ok()) {
    return Status::InvalidArgument("--listen-peer: " + std::string(hp.status().message()));
  }
  if (!c.initial_cluster.empty()) {
    auto peers = ParseInitialCluster(c.initial_cluster);
    if (!peers.ok()) return peers.status();
    if (!peers->contains(c.id)) {
      return Status::InvalidArgument("--initial-cluster does not list this node's --id " +
                                     std::to_string(c.id));
    }
  }
  if (c.initial_cluster_state != "new" && c.initial_cluster_state != "existing") {
    return Status::InvalidArgument("--initial-cluster-state must be new or existing, not '" +
                                   c.initial_cluster_state + "'");
  }
  if (!c.initial_cluster_client.empty()) {
    auto clients = ParseInitialCluster(c.initial_cluster_client, "--initial-cluster-client");
    if (!clients.ok()) return clients.status();
  }
  if (c.tick_ms < 1 || c.tick_ms > 10000) {
    return Status::InvalidArgument("--tick-ms must be in 1..10000");
  }
  if (c.heartbeat_ticks < 1) return Status::InvalidArgument("--heartbeat-ticks must be >= 1");
  if (c.election_ticks <= c.heartbeat_ticks) {
    return Status::InvalidArgument("--election-ticks must be greater than --heartbeat-ticks");
  }
  if (c.snapshot_threshold == 0) {
    return Status::InvalidArgument("--snapshot-threshold must be positive");
  }
  if (c.io_threads < 1 || c.io_threads > 64) {
    return Status::InvalidArgument("--io-threads must be in 1..64");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return Status::InvalidArgument("--log-format must be text or json, not '" + c.log_format + "'");
  }
  if (c.request_timeout_ms < 1) return Status::InvalidArgument("--request-timeout-ms must be > 0");
  if (c.shutdown_drain_ms < 0) return Status::InvalidArgument("--shutdown-drain-ms must be >= 0");

  // The data dir: create it if missing, and prove it is writable now, so a
  // read-only or mistyped path fails at startup with its reason.
  std::error_code ec;
  const std::filesystem::path dir(c.data_dir);
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    return Status::IOError("--data-dir " + c.data_dir + " exists and is not a directory");
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IOError("--data-dir " + c.data_dir + " cannot be created: " + ec.message());
  }
  const auto probe = dir / (".tinykv-write-probe." + std::to_string(::getpid()));
  {
    std::ofstream f(probe);
    f << "probe";
    if (!f.good()) {
      return Status::IOError("--data-dir " + c.data_dir + " is not writable");
    }
  }
  std::filesystem::remove(probe, ec);
  return Status::OK();
}

}  // namespace tinykv::prod
