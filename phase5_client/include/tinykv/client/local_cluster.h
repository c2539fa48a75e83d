// LocalCluster: a real TinyKV cluster inside one process, for tests,
// notebooks and the Python client's test suite.
//
// What it is: n replica::KvNode members (durable Raft log + LSM state machine
// under data_dir/n<i>, peer RPC on 127.0.0.1 port 0) and, for each, a phase
// 2 RpcServer running the client service (service.h) on 127.0.0.1 port 0 —
// the same composition tinykv-server makes, minus the process. Clients talk
// to endpoints() exactly as to separate servers.
//
// StopNode(i) shuts member i's client server and node down (its files stay);
// StartNode(i) reopens it from disk, with its client service on the SAME
// port as before (so client endpoint lists stay valid) and its peer server
// on a new port (the others are told). Partition/Heal drop peer traffic
// between groups (KvNode::SetDroppedPeers), leaving client traffic alone.
//
// AddNode(i) starts a NEW member i that joins (KvNodeOptions::join_existing:
// no configuration, it waits for the leader); the caller then adds it to the
// configuration through the client protocol (Client::MemberAdd with
// PeerAddress(i)). Membership itself is not changed by LocalCluster.
//
// Thread safety: all methods are thread-safe. Cost: 2 RpcServers and one
// KvNode (with its own threads) per member.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/server.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::client {

struct LocalClusterOptions {
  int n = 3;
  std::filesystem::path data_dir;  // required; member i uses data_dir/n<i>
  int tick_ms = 20;
  int election_ticks = 10;
  uint64_t snapshot_threshold = 10000;
  bool sync = true;
  int io_threads = 1;  // per client server and per node
  txn::WatchHubOptions watch;  // each member's watch hub (its buffer bounds)
};

class LocalCluster {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LocalCluster>> Start(LocalClusterOptions options);
  ~LocalCluster();  // Close()
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Client endpoints ("127.0.0.1:port"), member 1 first; stable across restarts.
  std::vector<std::string> endpoints() const;
  std::string endpoint(uint64_t id) const;
  // The id of a running member that reports itself leader (highest term), or 0.
  uint64_t Leader();
  // Waits until some member is leader; Timeout otherwise.
  Result<uint64_t> WaitForLeader(std::chrono::milliseconds timeout);
  // Members that are running.
  std::vector<uint64_t> Running() const;

  Status StopNode(uint64_t id);
  Status StartNode(uint64_t id);
  // Starts new member `id` (not yet in the configuration; see above).
  // AlreadyExists if the cluster has a member `id`.
  Status AddNode(uint64_t id);
  // Member id's current peer (raft) address ("" if never started).
  std::string PeerAddress(uint64_t id) const;
  // Only members in the same group exchange Raft traffic; unlisted members are isolated.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Heal();
  // Drops each peer message with probability p on every running member.
  void SetDropProbability(double p);
  // Compaction at `revision` on the leader directly (TxnNode::Compact, what
  // the Compact RPC runs): reads below it and watches from it or below
  // then fail as compacted.
  Status Compact(uint64_t revision, std::chrono::milliseconds timeout);
  // Stops every member. Idempotent.
  void Close();

 private:
  struct Member {
    std::unique_ptr<txn::TxnNode> node;
    std::unique_ptr<net::RpcServer> server;
    uint16_t client_port = 0;
    std::string peer_address;
    bool join = false;  // started by AddNode: join_existing on its first start
  };
  explicit LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {}
  Status StartLocked(uint64_t id);
  void StopLocked(uint64_t id);
  void ApplyPartitionLocked();
  std::string ResolveClientAddress(uint64_t id) const;

  const LocalClusterOptions options_;
  mutable std::mutex mu_;
  std::map<uint64_t, Member> members_;         // guarded by mu_
  std::vector<std::vector<uint64_t>> groups_;  // guarded by mu_; empty = healed
  mutable std::mutex addr_mu_;                 // client ports, read by io threads
  std::map<uint64_t, uint16_t> client_ports_;  // guarded by addr_mu_
};

}  // namespace tinykv::client
