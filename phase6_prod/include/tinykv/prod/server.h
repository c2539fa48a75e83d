// Server: the composition root of tinykv-server.
//
// What it wires together, in order:
//   1. replica::KvNode::Open  — the Raft member: durable log, KV state machine
//      over the phase 1 engine, peer RPC server on --listen-peer;
//   2. net::RpcServer on --listen-client, with client::RegisterKvService (the
//      client protocol of phase 5) and the admin methods of admin_protocol.h
//      (AdminSetFaults only with --enable-fault-injection).
//
// Graceful shutdown (Shutdown, run by tinykv-server on SIGTERM/SIGINT):
//   1. if this node is the leader, hand leadership to the most caught-up
//      voter (bounded by a few election timeouts). Clients that arrive meanwhile
//      get NotLeader with the new leader as hint, and retry there;
//   2. stop accepting connections and drain: calls already running finish
//      (up to --shutdown-drain-ms); new calls on open connections get
//      Unavailable, which clients retry on another endpoint;
//   3. stop the node: the driver stops, the log is already fsynced for every
//      acknowledged write, the engine is closed.
// Every step logs one line of the form `node=N shutdown step=... ...`.
//
// Thread safety: Start and Shutdown from one thread (main); status() from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/prod/server_config.h"

namespace tinykv::prod {

class Server {
 public:
  // Validates the config, opens the node and starts serving. The first error
  // (bad config, unusable data dir, address in use, corrupt log) comes back
  // with a one-line message; nothing is left running then.
  [[nodiscard]] static Result<std::unique_ptr<Server>> Start(const ServerConfig& config);
  ~Server();  // Shutdown() if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Graceful shutdown as described above. Idempotent.
  void Shutdown();

  std::string client_address() const;  // the bound client address ("host:port")
  std::string peer_address() const;     // the bound peer address

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinykv::prod
