// ServerConnection: one accepted connection of an RpcServer (internal).
//
// Owns the connection's Transport and the table of calls in flight on it.
// Three kinds of coroutine run on the connection's io thread: the read loop
// (checks the hello, decodes frames, starts one handler coroutine per
// request, applies cancels), the handler coroutines, and a watchdog (the
// handshake deadline, the minimum receive rate, the idle timeout, a peer
// that stopped reading). Nothing here is touched from another thread except
// through asio::post.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tinykv/common/logging.h"
#include "repeat_filter.h"
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

  // Memory of large frames in progress, all connections (max_buffered_bytes).
  std::shared_ptr<ReadBudget> budget;

  std::mutex mu;
  std::condition_variable cv;  // signalled when a connection goes away
  // Every accepted connection by id; the pointer is empty until the
  // connection is set up (its stream wrapped).
  std::unordered_map<uint64_t, std::weak_ptr<ServerConnection>> connections;  // guarded by mu
  // Ids of the connections that have not completed their handshake; ids grow
  // with acceptance, so the first is the oldest.
  std::set<uint64_t> pending;       // guarded by mu
  uint64_t next_connection_id = 1;  // guarded by mu

  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> pending_evicted{0};
  std::atomic<uint64_t> handshake_timeouts{0};
  std::atomic<uint64_t> hellos_refused{0};
  std::atomic<uint64_t> slow_frames_closed{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_finished{0};
  std::atomic<uint64_t> calls_cancelled{0};
  // Refusals, evictions and timeouts repeat when a peer retries at once.
  RepeatFilter repeats;

  void RemoveConnection(uint64_t id);
  // The connection completed its handshake: no longer pending. False if it
  // was chosen for eviction meanwhile (it must then close without serving).
  bool MarkEstablished(uint64_t id);
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
  // Closes a pending connection to make room for a newer one. Call on
  // executor().
  void Evict();

 private:
  class Call;
  awaitable<void> ReadLoop(std::shared_ptr<ServerConnection> self);
  awaitable<void> Watchdog(std::shared_ptr<ServerConnection> self);
  // The first frame: the hello (servers with on_hello), or the first request.
  // OK to go on serving; otherwise the connection has been closed.
  Status Handshake(const Frame& frame);
  // Sends `status` as a connection-level error frame (request id 0) and
  // closes once it is flushed; nothing more is served.
  void CloseWith(const Status& status, bool not_executed);
  // Logs "net: conn=N peer=IP:PORT <what>" at warn, or at debug when the
  // same `key` was just logged (state_->repeats).
  void WarnUnlessRepeated(const std::string& key, const std::string& what);
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
  bool closing_ = false;      // refused, evicted or timed out: serve nothing more
  bool established_ = false;  // the handshake completed
  uint64_t peer_id_ = 0;      // from the hello handler
  const SteadyClock::time_point accepted_at_ = SteadyClock::now();
  asio::steady_timer watchdog_timer_;
};

}  // namespace tinykv::net::internal
