// ServerConfig: everything tinykv-server is told by flags or its config file,
// and the checks that turn a bad setting into a one-line error before any
// file or socket is touched.
//
// The flags (tinykv-server --help lists them with defaults) and the config
// file (CLI11's TOML/INI subset: `key = value` lines with the flag's long
// name, e.g. `data-dir = "/var/lib/tinykv/1"`) set the same fields; flags
// given on the command line win over the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::prod {

struct ServerConfig {
  uint64_t id = 0;                                // --id (alias --name): 1..n
  std::string data_dir;                           // --data-dir (required)
  std::string listen_client = "127.0.0.1:2379";   // --listen-client
  std::string listen_peer = "127.0.0.1:2380";     // --listen-peer
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
  // --cluster-id: sent in every peer hello and required of every peer's
  // (replica/peer_host.h). 0: not configured (any peer's id is accepted).
  uint64_t cluster_id = 0;
  int tick_ms = 100;                              // --tick-ms
  int election_ticks = 10;                        // --election-ticks
  int heartbeat_ticks = 1;                        // --heartbeat-ticks
  uint64_t snapshot_threshold = 10000;            // --snapshot-threshold
  std::string log_level = "info";                 // --log-level
  std::string log_format = "text";                // --log-format text|json
  bool enable_fault_injection = false;            // --enable-fault-injection
  int io_threads = 2;                             // --io-threads
  bool sync = true;                               // --unsafe-no-fsync turns it off (tests only)
  int request_timeout_ms = 5000;                  // --request-timeout-ms
  int shutdown_drain_ms = 5000;                   // --shutdown-drain-ms
};

// Parses --initial-cluster: "1=127.0.0.1:2380,2=127.0.0.1:2381". Ids are
// positive and unique; every address parses. `flag` names the flag in errors.
[[nodiscard]] Result<std::map<uint64_t, std::string>> ParseInitialCluster(
    const std::string& text, const std::string& flag = "--initial-cluster");

// Checks the whole config: ranges of the numbers, the addresses, that `id` is
// a member of the initial cluster (when one is given; with none, the node
// starts alone as a single-member cluster), and that the data directory can
// be created and written. The first problem comes back as InvalidArgument or
// IOError with a one-line message naming the flag.
[[nodiscard]] Status ValidateServerConfig(const ServerConfig& config);

}  // namespace tinykv::prod
