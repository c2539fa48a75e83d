#include "tinykv/prod/server_config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>

#include "tinykv/common/duration.h"
#include "tinykv/net/address.h"

namespace tinykv::prod {
namespace {

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Edit distance, for "did you mean" on an unknown key.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Suggestion(const std::string& key, const ConfigSchema& schema) {
  std::string dashed = key;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  std::string best;
  size_t best_distance = 3;  // suggest only close matches
  for (const auto& [known, type] : schema) {
    const size_t d = known == dashed ? 0 : EditDistance(key, known);
    if (d < best_distance) {
      best = known;
      best_distance = d;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Why `value` is not of `type` ("" when it is).
std::string TypeMismatch(const std::string& value, ConfigValueType type) {
  switch (type) {
    case ConfigValueType::kString:
      return "";
    case ConfigValueType::kBool:
      return value == "true" || value == "false" ? "" : "expected true or false";
    case ConfigValueType::kUnsigned: {
      uint64_t v = 0;
      return ParseUint(value, &v) ? "" : "expected an unsigned integer";
    }
    case ConfigValueType::kInteger: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      const bool ok = !value.empty() && ec == std::errc() && p == value.data() + value.size() &&
                      v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max();
      return ok ? "" : "expected an integer";
    }
  }
  return "unknown type";
}

// A listen or peer address: host:port (net::ParseHostPort), or http:// or
// https:// and host:port (the schemes are checked against the TLS flags by
// CheckScheme).
Status CheckAddress(const std::string& flag, const std::string& address) {
  const size_t scheme = address.find("://");
  if (scheme != std::string::npos) {
    const std::string name = address.substr(0, scheme);
    if (name != "http" && name != "https") {
      return Status::InvalidArgument(flag + ": '" + address + "': unsupported scheme '" + name +
                                     "://'; write host:port or https://host:port");
    }
  }
  if (auto hp = net::ParseHostPort(AddressOf(address)); !hp.ok()) {
    return Status::InvalidArgument(flag + ": " + std::string(hp.status().message()));
  }
  return Status::OK();
}

// An https:// address needs its port's TLS (`tls_flags` name what sets it);
// an http:// one is refused when that TLS is on.
Status CheckScheme(const std::string& flag, const std::string& address, bool tls,
                   const std::string& tls_flags) {
  if (address.starts_with("https://") && !tls) {
    return Status::InvalidArgument(flag + ": '" + address + "' asks for TLS, but " + tls_flags +
                                   " are not set (refusing to speak plaintext to it)");
  }
  if (address.starts_with("http://") && tls) {
    return Status::InvalidArgument(flag + ": '" + address + "' asks for plaintext, but " +
                                   tls_flags + " turn TLS on; write https:// or host:port");
  }
  return Status::OK();
}

// The members of --initial-cluster and --initial-cluster-client with their
// addresses as written (schemes kept).
Result<std::map<uint64_t, std::string>> ParseMembers(const std::string& text,
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
    TINYKV_RETURN_IF_ERROR(CheckAddress(flag, addr));
    if (net::ParseHostPort(AddressOf(addr))->port == 0) {
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

bool AnyTls(const std::string& cert, const std::string& key, const std::string& ca, bool auth) {
  return !cert.empty() || !key.empty() || !ca.empty() || auth;
}

// Loads the TLS files the way the server will, so a bad one stops it here
// with the flag's name.
Status CheckTls(const net::TlsOptions& tls, net::TlsContext::Role role,
                const net::TlsFlagNames& flags) {
  if (!tls.enabled) return Status::OK();
  auto context = net::TlsContext::Create(tls, role, flags);
  return context.ok() ? Status::OK() : context.status();
}

}  // namespace

Result<std::chrono::milliseconds> AutoCompactionRetention(const ServerConfig& c) {
  if (c.auto_compaction_mode == "revision") {
    return Status::InvalidArgument(
        "--auto-compaction-mode revision is not supported: revisions are commit timestamps "
        "(milliseconds << 18), not a count of writes; use periodic with a duration");
  }
  if (c.auto_compaction_mode != "periodic") {
    return Status::InvalidArgument("--auto-compaction-mode must be periodic, not '" +
                                   c.auto_compaction_mode + "'");
  }
  std::optional<std::chrono::milliseconds> d =
      ParseDuration(c.auto_compaction_retention, std::chrono::hours(1));
  if (!d) {
    return Status::InvalidArgument("--auto-compaction-retention '" + c.auto_compaction_retention +
                                   "' is not a duration (e.g. 72h, 30m, 10s; a bare number is "
                                   "hours; 0 = off)");
  }
  return *d;
}

std::string AddressOf(const std::string& address) {
  std::string_view a = address;
  if (a.starts_with("http://")) {
    a.remove_prefix(7);
  } else if (a.starts_with("https://")) {
    a.remove_prefix(8);
  } else {
    return address;
  }
  if (!a.empty() && a.back() == '/') a.remove_suffix(1);
  return std::string(a);
}

net::TlsOptions ClientPortTls(const ServerConfig& c) {
  net::TlsOptions t;
  t.enabled = AnyTls(c.cert_file, c.key_file, c.trusted_ca_file, c.client_cert_auth);
  t.cert_file = c.cert_file;
  t.key_file = c.key_file;
  t.ca_file = c.trusted_ca_file;
  t.verify_peer = c.client_cert_auth;
  return t;
}

net::TlsOptions PeerServerTls(const ServerConfig& c) {
  net::TlsOptions t;
  t.enabled = AnyTls(c.peer_cert_file, c.peer_key_file, c.peer_trusted_ca_file,
                     c.peer_client_cert_auth);
  t.cert_file = c.peer_cert_file;
  t.key_file = c.peer_key_file;
  t.ca_file = c.peer_trusted_ca_file;
  t.verify_peer = c.peer_client_cert_auth;
  return t;
}

net::TlsOptions PeerClientTls(const ServerConfig& c) {
  net::TlsOptions t = PeerServerTls(c);
  t.verify_peer = false;  // a client always verifies the server (tls.h)
  return t;
}

Result<std::vector<ConfigSetting>> ParseConfigFile(std::istream& in, const std::string& file,
                                                   const ConfigSchema& schema) {
  std::vector<ConfigSetting> settings;
  std::map<std::string, int> seen;  // key -> line
  std::string raw;
  for (int line_no = 1; std::getline(in, raw); ++line_no) {
    const std::string where = file + ":" + std::to_string(line_no) + ": ";
    const std::string line = Trim(raw);
    auto fail = [&](const std::string& what) { return Status::InvalidArgument(where + what); };
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      return fail("section headers are not supported ('" + line +
                  "'); write every key at the top level");
    }
    const size_t eq = line.find('=');
    const std::string key = Trim(std::string_view(line).substr(0, std::min(eq, line.size())));
    if (eq == std::string::npos || key.empty() || !std::all_of(key.begin(), key.end(), IsKeyChar)) {
      return fail("expected key = value, got '" + line + "'");
    }
    auto known = schema.find(key);
    if (known == schema.end()) return fail("unknown key '" + key + "'" + Suggestion(key, schema));

    // The value: quoted (up to the matching quote) or bare (up to a comment).
    std::string_view rest = std::string_view(line).substr(eq + 1);
    while (!rest.empty() && IsBlank(rest.front())) rest.remove_prefix(1);
    std::string value, after;
    bool quoted = false;
    if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
      const char quote = rest.front();
      const size_t close = rest.find(quote, 1);
      if (close == std::string_view::npos) return fail(key + ": unterminated string");
      value = std::string(rest.substr(1, close - 1));
      after = Trim(rest.substr(close + 1));
      quoted = true;
    } else {
      const size_t hash = rest.find('#');
      value = Trim(rest.substr(0, hash));
      if (hash != std::string_view::npos) after = std::string(rest.substr(hash));
    }
    if (!after.empty() && after.front() != '#') {
      return fail(key + ": unexpected '" + after + "' after the value");
    }
    if (!quoted) {
      if (value.empty()) return fail(key + ": no value");
      if (value.front() == '[') return fail(key + ": takes one value, not a list");
      if (std::any_of(value.begin(), value.end(),
                      [](char c) { return IsBlank(c) || c == '"' || c == '\''; })) {
        return fail(key + ": '" + value + "' must be quoted");
      }
    }
    if (std::string why = TypeMismatch(value, known->second); !why.empty()) {
      return fail(key + ": " + why + ", got '" + value + "'");
    }
    if (auto [it, fresh] = seen.emplace(key, line_no); !fresh) {
      return fail(key + ": given twice (first on line " + std::to_string(it->second) + ")");
    }
    settings.push_back(ConfigSetting{line_no, key, value});
  }
  if (in.bad()) return Status::IOError(file + ": read failed");
  return settings;
}

Result<std::map<uint64_t, std::string>> ParseInitialCluster(const std::string& text,
                                                            const std::string& flag) {
  TINYKV_ASSIGN_OR_RETURN(auto members, ParseMembers(text, flag));
  for (auto& [id, addr] : members) addr = AddressOf(addr);
  return members;
}

Status ValidateServerConfig(const ServerConfig& c) {
  if (c.id == 0) return Status::InvalidArgument("--id is required (a positive integer)");
  if (c.data_dir.empty()) return Status::InvalidArgument("--data-dir is required");
  const net::TlsOptions client_tls = ClientPortTls(c);
  const net::TlsOptions peer_tls = PeerServerTls(c);
  const std::string client_flags = "--cert-file/--key-file";
  const std::string peer_flags = "--peer-cert-file/--peer-key-file/--peer-trusted-ca-file";
  TINYKV_RETURN_IF_ERROR(CheckAddress("--listen-client", c.listen_client));
  TINYKV_RETURN_IF_ERROR(
      CheckScheme("--listen-client", c.listen_client, client_tls.enabled, client_flags));
  TINYKV_RETURN_IF_ERROR(CheckAddress("--listen-peer", c.listen_peer));
  TINYKV_RETURN_IF_ERROR(CheckScheme("--listen-peer", c.listen_peer, peer_tls.enabled, peer_flags));
  if (!c.listen_metrics.empty()) {
    if (c.listen_metrics.find("://") != std::string::npos) {
      return Status::InvalidArgument("--listen-metrics: '" + c.listen_metrics +
                                     "': write host:port (the monitoring port is plain HTTP)");
    }
    TINYKV_RETURN_IF_ERROR(CheckAddress("--listen-metrics", c.listen_metrics));
  }
  if (!c.listen_etcd.empty()) {
    if (c.listen_etcd.find("://") != std::string::npos) {
      return Status::InvalidArgument("--listen-etcd: '" + c.listen_etcd +
                                     "': write host:port (the etcd API port is plaintext gRPC)");
    }
    TINYKV_RETURN_IF_ERROR(CheckAddress("--listen-etcd", c.listen_etcd));
    if (client_tls.enabled) {
      return Status::InvalidArgument(
          "--listen-etcd is not supported together with client TLS (--cert-file) yet");
    }
  }
  if (!c.initial_cluster.empty()) {
    auto peers = ParseMembers(c.initial_cluster, "--initial-cluster");
    if (!peers.ok()) return peers.status();
    if (!peers->contains(c.id)) {
      return Status::InvalidArgument("--initial-cluster does not list this node's --id " +
                                     std::to_string(c.id));
    }
    for (const auto& [id, addr] : *peers) {
      TINYKV_RETURN_IF_ERROR(CheckScheme("--initial-cluster", addr, peer_tls.enabled, peer_flags));
    }
  }
  if (peer_tls.enabled) {
    if (c.peer_trusted_ca_file.empty()) {
      return Status::InvalidArgument(
          "--peer-trusted-ca-file is required with peer TLS (the CA that signs the members' "
          "certificates, which every member checks)");
    }
    TINYKV_RETURN_IF_ERROR(
        CheckTls(peer_tls, net::TlsContext::Role::kServer,
                 {"--peer-cert-file", "--peer-key-file", "--peer-trusted-ca-file"}));
  }
  TINYKV_RETURN_IF_ERROR(CheckTls(client_tls, net::TlsContext::Role::kServer,
                                  {"--cert-file", "--key-file", "--trusted-ca-file"}));
  if (c.initial_cluster_state != "new" && c.initial_cluster_state != "existing") {
    return Status::InvalidArgument("--initial-cluster-state must be new or existing, not '" +
                                   c.initial_cluster_state + "'");
  }
  if (!c.initial_cluster_client.empty()) {
    auto clients = ParseMembers(c.initial_cluster_client, "--initial-cluster-client");
    if (!clients.ok()) return clients.status();
    for (const auto& [id, addr] : *clients) {
      TINYKV_RETURN_IF_ERROR(
          CheckScheme("--initial-cluster-client", addr, client_tls.enabled, client_flags));
    }
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
  if (c.watch_buffer_events == 0 || c.watch_buffer_bytes == 0) {
    return Status::InvalidArgument("--watch-buffer-events and --watch-buffer-bytes must be positive");
  }
  if (c.corrupt_check_interval_ms < 0) {
    return Status::InvalidArgument("--corrupt-check-interval-ms must be >= 0 (0: no periodic check)");
  }
  TINYKV_RETURN_IF_ERROR(AutoCompactionRetention(c).status());

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
