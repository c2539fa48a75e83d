// ServerConnection: one accepted connection of an RpcServer (internal).
//
// Owns the connection's Transport and the table of calls in flight on it.
// Three kinds of coroutine run on the connection's io thread: the read loop
// (decodes frames, starts one handler coroutine per request, applies
// cancels), the handler coroutines, and an idle watchdog. Nothing here is
// touched from another thread except through asio::post.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tinykv/common/logging.h"
#include "tinykv/net/server.h"
#include "transport.h"

namespace tinykv::net::internal {

// Shared by the RpcServer facade, its acceptor and its connections.
struct ServerState : std::enable_shared_from_this<ServerState> {
  explicit ServerState(ServerOptions o) : options(std::move(o)) {}

  ServerOptions options;
  std::unordered_map<uint32_t, MethodEntry> methods;  // immutable after Start
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;  // used on contexts[0] only
  std::atomic<uint16_t> port{0};
  std::atomic<bool> started{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};

  std::mutex mu;
  std::condition_variable cv;  // signalled when a connection goes away
  std::unordered_map<uint64_t, std::weak_ptr<ServerConnection>> connections;  // guarded by mu
  uint64_t next_connection_id = 1;                                            // guarded by mu

  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_finished{0};
  std::atomic<uint64_t> calls_cancelled{0};

  void RemoveConnection(uint64_t id);
};

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(std::shared_ptr<ServerState> state, uint64_t id,
                   std::shared_ptr<Transport> transport);
  ~ServerConnection();

  asio::any_io_executor executor() { return transport_->executor(); }
  // Starts the read loop and the watchdog. Call on executor().
  void Start();
  // Shutdown step 1: refuse new requests; close once in-flight calls finish.
  // Call on executor().
  void BeginDrain();
  // Shutdown step 2: answer every remaining call with Cancelled and close.
  // Call on executor().
  void ForceClose();

 private:
  class Call;
  awaitable<void> ReadLoop(std::shared_ptr<ServerConnection> self);
  awaitable<void> IdleWatchdog(std::shared_ptr<ServerConnection> self);
  awaitable<void> RunCall(std::shared_ptr<ServerConnection> self, std::shared_ptr<Call> call,
                          awaitable<Result<std::string>> body, bool streaming);
  // Handles one request frame. A non-OK result is a protocol error that
  // closes the connection.
  Status HandleRequest(Frame& frame);
  // `not_executed`: the request was refused before any handler ran
  // (kErrorNotExecuted), so the client may retry it even if not idempotent.
  void SendError(uint64_t request_id, const Status& status, bool not_executed = false);
  void CloseForProtocolError(uint64_t request_id, const Status& status);
  void MaybeFinishDrain();

  std::shared_ptr<ServerState> state_;
  const uint64_t id_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<spdlog::logger> log_;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls_;
  bool draining_ = false;
  asio::steady_timer watchdog_timer_;
};

}  // namespace tinykv::net::internal
