// ServerConfig: everything tinykv-server is told by flags or its config file,
// and the checks that turn a bad setting into a one-line error before any
// file or socket is touched.
//
// The flags (tinykv-server --help lists them with defaults), the config file
// (`key = value` lines with the flag's long name, e.g.
// `data-dir = "/var/lib/tinykv/1"`; read strictly by ParseConfigFile) and the
// environment (TINYKV_<FLAG>, e.g. TINYKV_DATA_DIR) set the same fields. A
// flag given on the command line wins over the file, the file over the
// environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/tls.h"

namespace tinykv::prod {

struct ServerConfig {
  uint64_t id = 0;                                // --id (alias --name): 1..n
  std::string data_dir;                           // --data-dir (required)
  // Addresses are host:port, or URLs of it (AddressOf): "https://" says the
  // port speaks TLS and is refused unless that port's TLS is configured
  // below (never a silent downgrade); "http://" says plaintext and is
  // refused when it is.
  std::string listen_client = "127.0.0.1:2379";   // --listen-client
  std::string listen_peer = "127.0.0.1:2380";     // --listen-peer
  // --listen-metrics host:port (etcd's flag): the HTTP monitoring endpoints
  // (/metrics, /health, /livez, /readyz, /version, /debug/raft). Empty: off.
  // The host must be an IP address.
  std::string listen_metrics;
  // --listen-etcd host:port: etcd's v3 gRPC API (phase5_client/etcd,
  // etcd_api.h), for etcdctl and etcd's clients. Empty: off. Plaintext only:
  // refused together with client TLS (--cert-file) for now.
  std::string listen_etcd;
  std::string initial_cluster;                    // --initial-cluster "1=host:port,2=..."
  // --initial-cluster-client "1=host:port,...": the members' client addresses,
  // so a follower's NotLeader answer can name the leader's address (optional:
  // without it clients find the leader by asking every endpoint).
  std::string initial_cluster_client;
  // --initial-cluster-state new|existing (etcd's flag). "new": an empty data
  // dir bootstraps the cluster --initial-cluster. "existing": this member was
  // (or will be) added with `tinykv member add`; an empty data dir starts with
  // no configuration, never campaigns, and waits for the leader to send it
  // the log or a snapshot. Ignored once the data dir holds state.
  std::string initial_cluster_state = "new";
  // --initial-cluster-token (etcd's flag): mixed into the id a new cluster
  // computes from --initial-cluster, so two clusters started with the same
  // member list but different tokens get different ids and never mix.
  std::string initial_cluster_token = "tinykv-cluster";
  int tick_ms = 100;                              // --tick-ms
  int election_ticks = 10;                        // --election-ticks
  int heartbeat_ticks = 1;                        // --heartbeat-ticks
  uint64_t snapshot_threshold = 10000;            // --snapshot-threshold
  std::string log_level = "info";                 // --log-level
  std::string log_format = "text";                // --log-format text|json
  bool enable_fault_injection = false;            // --enable-fault-injection
  int io_threads = 2;                             // --io-threads
  bool sync = true;                               // --unsafe-no-fsync turns it off (tests only)
  bool lease_reads = false;                       // --lease-reads
  int request_timeout_ms = 5000;                  // --request-timeout-ms
  int shutdown_drain_ms = 5000;                   // --shutdown-drain-ms
  // One watcher's queue on the leader (txn/watch_hub.h): events not yet
  // taken by its stream, at most this many and this many bytes; a watcher
  // that passes either is dropped with a resume revision.
  uint64_t watch_buffer_events = 100000;          // --watch-buffer-events
  uint64_t watch_buffer_bytes = 16u << 20;        // --watch-buffer-bytes
  // History compaction (txn/auto_compactor.h), etcd's flags: with mode
  // "periodic" the leader compacts the history older than the retention, a
  // duration ("72h", "30m", "10s"; a bare number is hours, as etcd's);
  // "0" = never. Mode "revision" (etcd's keep-the-last-N) is refused:
  // revisions here are commit timestamps, not a count of writes.
  std::string auto_compaction_mode = "periodic";  // --auto-compaction-mode
  std::string auto_compaction_retention = "0";    // --auto-compaction-retention
  // The state hash check (replica/hash_check.h; etcd's corruption check).
  // --corrupt-check-interval-ms (etcd's --experimental-corrupt-check-time):
  // the leader compares every member's state this often; 0 = never.
  int corrupt_check_interval_ms = 300000;
  // --initial-corrupt-check / --no-initial-corrupt-check (etcd's
  // --experimental-initial-corrupt-check): a started node asks for a check,
  // and as leader serves nothing before one found its state right.
  bool initial_corrupt_check = true;

  // TLS (net/tls.h), etcd's flags. The client port: its certificate
  // (--cert-file, --key-file); with --client-cert-auth every client must
  // present a certificate signed by --trusted-ca-file. Setting any of them
  // turns TLS on for the client port (plaintext clients are refused).
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  // The peer port and the connections to other members: this member's
  // certificate (presented on both), and the CA that signs the other
  // members' (--peer-trusted-ca-file, required). With
  // --peer-client-cert-auth a peer that dials in must present one too.
  std::string peer_cert_file;
  std::string peer_key_file;
  std::string peer_trusted_ca_file;
  bool peer_client_cert_auth = false;
};

// --auto-compaction-retention as a duration (0: off); InvalidArgument for
// what does not parse (ValidateServerConfig calls it too).
Result<std::chrono::milliseconds> AutoCompactionRetention(const ServerConfig& config);

// "host:port" of an address flag: the scheme ("http://", "https://") and a
// trailing "/" removed; anything else as is.
std::string AddressOf(const std::string& address);

// The TLS settings the config asks for (enabled = false when none is set):
// the client port's server side, the peer port's server side, and the
// client side that dials other members.
net::TlsOptions ClientPortTls(const ServerConfig& config);
net::TlsOptions PeerServerTls(const ServerConfig& config);
net::TlsOptions PeerClientTls(const ServerConfig& config);

// Parses --initial-cluster: "1=127.0.0.1:2380,2=https://127.0.0.1:2381".
// Ids are positive and unique; every address parses; addresses come back as
// host:port (AddressOf; ValidateServerConfig checks their schemes against
// the TLS flags). `flag` names the flag in errors.
[[nodiscard]] Result<std::map<uint64_t, std::string>> ParseInitialCluster(
    const std::string& text, const std::string& flag = "--initial-cluster");

// Checks the whole config: ranges of the numbers, the addresses and their
// schemes, that `id` is a member of the initial cluster (when one is given;
// with none, the node starts alone as a single-member cluster), that the TLS
// files load (certificates and keys parse, each key matches its
// certificate), and that the data directory can be created and written. The first problem comes back as InvalidArgument or
// IOError with a one-line message naming the flag.
[[nodiscard]] Status ValidateServerConfig(const ServerConfig& config);

// ---- The config file ----
//
// Grammar (a strict subset of TOML, one setting per line):
//   line    := blank | comment | setting
//   comment := ('#' | ';') anything
//   setting := key '=' value [comment]
//   key     := a flag's long name without "--" ("data-dir", "tick-ms")
//   value   := '"' text '"' | "'" text "'" | bare     ; bare: no blanks, no quotes
// and the value must have the key's type: an integer (optional '-', digits,
// in range), an unsigned integer, true/false for a flag, any text for a
// string (quotes around numbers and booleans are accepted, as CLI11 does).
// Anything else -- an unknown key, a line that is not `key = value`, a
// section header ("[server]"), a list, a value of the wrong type, an empty
// value, a key given twice -- is an error: a half-read file would start the
// server with settings its operator did not mean.

enum class ConfigValueType { kString, kInteger, kUnsigned, kBool };
// The keys a config file may set, each with the type of its value.
using ConfigSchema = std::map<std::string, ConfigValueType>;

// One `key = value` line, its value unquoted.
struct ConfigSetting {
  int line = 0;  // 1-based line number in the file
  std::string key;
  std::string value;
};

// Reads a whole config file. `file` names it in errors. The first problem is
// InvalidArgument("FILE:LINE: ...") naming the key (or quoting the line when
// it has none), e.g. "server.toml:3: unknown key 'log-levle' (did you mean
// 'log-level'?)".
[[nodiscard]] Result<std::vector<ConfigSetting>> ParseConfigFile(std::istream& in,
                                                                 const std::string& file,
                                                                 const ConfigSchema& schema);

}  // namespace tinykv::prod
