// Channel: one multiplexed client connection to one peer (internal).
//
// Holds the pending-call table (request id -> Pending) and the current
// Transport; connects on first use and again after the connection drops. A
// Pending lives in the frame of the Attempt coroutine that owns it; the read
// loop fills it in and wakes the owner by cancelling its timer, whose expiry
// is the call's deadline (one timer serves as both wakeup and deadline).
//
// Thread safety: everything runs on the channel's io thread (executor()),
// except inflight(), which is atomic.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "event.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/random.h"
#include "tinykv/net/client.h"
#include "transport.h"

namespace tinykv::net::internal {

class Channel;

class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  explicit ClientState(ClientOptions o);

  // The channel for a call to `address`: a new one while the peer has fewer
  // than max_connections_per_peer and all are busy, else the least loaded.
  Result<std::shared_ptr<Channel>> PickChannel(const std::string& address);
  std::chrono::microseconds NextBackoff(int retry);

  ClientOptions options;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  std::atomic<bool> shutdown{false};
  std::atomic<size_t> next_executor{0};

  std::mutex mu;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Channel>>> peers;  // guarded by mu
  size_t next_context = 0;                                                       // guarded by mu
  Random rnd;                                                                    // guarded by mu

  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> timeouts{0};
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  Channel(ClientState* client, asio::io_context& context, std::string address, std::string host,
          uint16_t port);

  asio::any_io_executor executor() { return executor_; }
  // Calls assigned to this channel and not finished (all attempts). Counted
  // from PickChannel on, so a burst of callers spreads over the pool.
  size_t inflight() const { return inflight_.load(std::memory_order_relaxed); }
  void CallAssigned() { inflight_.fetch_add(1, std::memory_order_relaxed); }
  void CallFinished() { inflight_.fetch_sub(1, std::memory_order_relaxed); }

  // One attempt of one call; runs on executor(). `reached_server` is set once
  // the request frame was written; `got_item` once a stream item was
  // delivered (a stream is never retried after that).
  awaitable<RawReply> Attempt(uint32_t method_id, const std::string& payload,
                              SteadyClock::time_point deadline, CancellationToken* cancel,
                              std::function<Status(Slice)>* on_item, bool* reached_server,
                              bool* got_item, uint64_t trace_id = 0);

  // Fails every pending call with Cancelled and closes the connection; later
  // attempts fail with Cancelled. Runs on executor().
  void Shutdown();

 private:
  struct Pending {
    explicit Pending(asio::any_io_executor ex, SteadyClock::time_point deadline)
        : timer(ex, deadline) {}
    asio::steady_timer timer;  // expiry = deadline; cancel() = "look at me"
    Transport* transport = nullptr;
    bool done = false;
    bool written = false;
    bool cancelled = false;
    bool not_executed = false;  // the server refused it before running a handler
    Status status;
    std::string payload;
    std::deque<std::string> items;
  };

  awaitable<Status> EnsureConnected(SteadyClock::time_point deadline);
  awaitable<Result<std::shared_ptr<Transport>>> Connect(SteadyClock::time_point deadline);
  awaitable<void> ReadLoop(std::shared_ptr<Channel> self, std::shared_ptr<Transport> transport);
  // Completes every pending call on `transport` with `status`;
  // `not_executed`: the server said it ran none of them (retry is safe).
  void FailAll(Transport* transport, const Status& status, bool not_executed = false);
  void SendCancel(Transport* transport, uint64_t request_id);

  ClientState* client_;  // outlives the channel's io thread
  asio::any_io_executor executor_;
  const std::string address_;
  const std::string host_;
  const uint16_t port_;
  std::shared_ptr<spdlog::logger> log_;
  std::atomic<size_t> inflight_{0};

  enum class State { kIdle, kConnecting, kConnected };
  State state_ = State::kIdle;
  bool shutdown_ = false;
  std::shared_ptr<Transport> transport_;
  Event connect_event_;
  Event drained_event_;  // a stream consumer took items off a full buffer
  std::unordered_map<uint64_t, Pending*> pending_;
  uint64_t next_request_id_ = 1;
  std::string last_report_;  // the last connection-level error logged at warn
  SteadyClock::time_point last_report_time_;
};

}  // namespace tinykv::net::internal
