// RpcServer: options, io threads, the accept loop and graceful shutdown.
// Per-connection behaviour lives in server_connection.cc.
#include "tinykv/net/server.h"

#include <cctype>

#include "server_connection.h"
#include "tinykv/common/logging.h"

namespace tinykv::net {

using internal::ServerConnection;
using internal::ServerState;
using internal::SteadyClock;

namespace {

awaitable<void> RejectConnection(asio::ip::tcp::socket socket, std::string reason) {
  // Best effort: tell the client why before closing (request id 0 = the
  // connection). One small write; no reading.
  const Status s = Status::ResourceExhausted(reason);
  const std::string frame = EncodeFrame(
      FrameKind::kError, 0, 0,
      EncodeMessage(ErrorPayloadOf(s)));
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(frame),
                             asio::redirect_error(asio::use_awaitable, ec));
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

awaitable<void> SetUpConnection(std::shared_ptr<ServerState> state, asio::ip::tcp::socket socket,
                                uint64_t id) {
  StreamWrapper wrap = state->options.stream_wrapper ? state->options.stream_wrapper
                                                     : PlainTcpWrapper();
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string ip = ec ? "?" : remote.address().to_string();
  auto wrapping = wrap(std::move(socket), std::string());  // split: see channel.cc
  Result<std::unique_ptr<Stream>> stream = co_await std::move(wrapping);
  if (!stream.ok()) {
    // A refused TLS client (a member without peer TLS, say) retries at once:
    // warn once per address and reason (the port changes every time).
    std::string key = ip + " " + std::string(stream.status().message());
    if (const size_t at = key.find(ip + ":", ip.size()); at != std::string::npos) {
      size_t end = at + ip.size() + 1;
      while (end < key.size() && std::isdigit(static_cast<unsigned char>(key[end]))) ++end;
      key.erase(at + ip.size(), end - at - ip.size());
    }
    auto log = logging::Get("net");
    if (state->repeats.ShouldWarn(key)) {
      log->warn("net: connection refused: {}", stream.status().ToString());
    } else {
      log->debug("net: connection refused: {}", stream.status().ToString());
    }
    state->RemoveConnection(id);
    co_return;
  }
  internal::TransportOptions topts;
  topts.max_frame_bytes = state->options.max_frame_bytes;
  topts.write_queue_bytes = state->options.write_queue_bytes;
  topts.budget = state->budget;
  auto transport = std::make_shared<internal::Transport>(std::move(stream).value(), topts);
  auto conn = std::make_shared<ServerConnection>(state, id, transport);
  bool evicted;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->connections[id] = conn;
    evicted = !state->pending.contains(id);  // made room for a newer one already
  }
  logging::Get("net")->debug("net: accepted connection from {}", transport->peer());
  conn->Start();
  if (evicted) conn->Evict();
  if (state->draining.load()) conn->BeginDrain();
}

// Admission (server.h "Limits"): under max_connections and
// max_pending_connections a newcomer is simply accepted; at either limit the
// oldest pending connection makes room; with max_connections reached and
// none pending, the newcomer is refused.
awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state) {
  auto log = logging::Get("net");
  const ServerOptions& o = state->options;
  size_t next = 0;
  for (;;) {
    asio::io_context& ctx = *state->contexts[next++ % state->contexts.size()];
    asio::ip::tcp::socket socket(ctx);
    boost::system::error_code ec;
    co_await state->acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (state->draining.load() || !state->acceptor->is_open()) break;
    if (ec) {
      log->warn("net: accept failed: {}", ErrorCodeToStatus(ec, "accept").ToString());
      // EMFILE and friends: back off a little instead of spinning.
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    bool refuse = false;
    std::shared_ptr<ServerConnection> victim;
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      const bool full = state->connections.size() >= o.max_connections;
      if (full && state->pending.empty()) {
        refuse = true;
      } else {
        if (full || state->pending.size() >= o.max_pending_connections) {
          const uint64_t oldest = *state->pending.begin();
          state->pending.erase(state->pending.begin());
          victim = state->connections[oldest].lock();  // empty: not set up yet, it checks
          state->pending_evicted.fetch_add(1, std::memory_order_relaxed);
        }
        id = state->next_connection_id++;
        state->connections.emplace(id, std::weak_ptr<ServerConnection>());
        state->pending.insert(id);
      }
    }
    if (refuse) {
      state->connections_rejected.fetch_add(1, std::memory_order_relaxed);
      if (state->repeats.ShouldWarn("connection limit")) {
        log->warn("net: rejecting connection: limit of {} connections reached",
                  o.max_connections);
      }
      asio::co_spawn(ctx, RejectConnection(std::move(socket), "connection limit reached"),
                     asio::detached);
      continue;
    }
    if (victim) {
      asio::post(victim->executor(), [victim] { victim->Evict(); });
    }
    state->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(ctx, SetUpConnection(state, std::move(socket), id), asio::detached);
  }
}

}  // namespace

RpcServer::RpcServer(ServerOptions options)
    : state_(std::make_shared<ServerState>(std::move(options))) {
  state_->budget = std::make_shared<internal::ReadBudget>(state_->options.max_buffered_bytes);
}

Result<std::unique_ptr<RpcServer>> RpcServer::Create(ServerOptions options) {
  if (options.io_threads < 1) return Status::InvalidArgument("io_threads must be >= 1");
  if (options.max_frame_bytes <= kFrameHeaderSize) {
    return Status::InvalidArgument("max_frame_bytes must exceed the frame header size");
  }
  if (options.max_connections < 1) return Status::InvalidArgument("max_connections must be >= 1");
  if (options.max_pending_connections < 1) {
    return Status::InvalidArgument("max_pending_connections must be >= 1");
  }
  if (options.idle_timeout <= std::chrono::milliseconds(0) ||
      options.handshake_timeout <= std::chrono::milliseconds(0) ||
      options.frame_grace <= std::chrono::milliseconds(0)) {
    return Status::InvalidArgument("idle_timeout, handshake_timeout and frame_grace must be "
                                   "positive");
  }
  if (options.max_buffered_bytes < options.max_frame_bytes) {
    return Status::InvalidArgument("max_buffered_bytes must be at least max_frame_bytes (one "
                                   "frame of the largest size must fit)");
  }
  if (options.tls.enabled) {
    if (options.stream_wrapper) {
      return Status::InvalidArgument("tls and stream_wrapper are exclusive");
    }
    TINYKV_ASSIGN_OR_RETURN(auto tls,
                            TlsContext::Create(options.tls, TlsContext::Role::kServer));
    options.stream_wrapper = TlsServerWrapper(std::move(tls), options.handshake_timeout);
  }
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(options)));
}

RpcServer::~RpcServer() { Shutdown(std::chrono::milliseconds(0)); }

void RpcServer::RegisterEntry(uint32_t id, internal::MethodEntry entry) {
  TINYKV_CHECK(!state_->started.load()) << "Register after Start: " << entry.name;
  TINYKV_CHECK(!state_->methods.contains(id))
      << "method id " << id << " registered twice (" << entry.name << ")";
  state_->methods.emplace(id, std::move(entry));
}

Status RpcServer::Start() {
  TINYKV_CHECK(!state_->started.exchange(true)) << "RpcServer::Start called twice";
  auto& st = *state_;
  for (int i = 0; i < st.options.io_threads; ++i) {
    st.contexts.push_back(std::make_unique<asio::io_context>(1));
    st.guards.push_back(asio::make_work_guard(*st.contexts.back()));
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(st.options.host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + st.options.host + "'");
  const asio::ip::tcp::endpoint endpoint(address, st.options.port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(*st.contexts[0]);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return ErrorCodeToStatus(ec, "listen on " + st.options.host + ":" +
                                     std::to_string(st.options.port));
  }
  st.port = acceptor->local_endpoint().port();
  st.acceptor = std::move(acceptor);
  asio::co_spawn(*st.contexts[0], AcceptLoop(state_), asio::detached);
  for (auto& ctx : st.contexts) {
    st.threads.emplace_back([c = ctx.get()] { c->run(); });
  }
  logging::Get("net")->info("net: listening on {}:{} io_threads={}", st.options.host,
                            st.port.load(), st.options.io_threads);
  return Status::OK();
}

uint16_t RpcServer::port() const { return state_->port.load(); }
std::string RpcServer::address() const {
  return state_->options.host + ":" + std::to_string(port());
}

void RpcServer::Shutdown(std::chrono::milliseconds drain_deadline) {
  auto& st = *state_;
  if (st.stopped.exchange(true)) return;
  if (!st.started.load()) return;
  auto log = logging::Get("net");
  log->info("net: shutting down, drain deadline {} ms", drain_deadline.count());
  st.draining = true;
  // 1. Stop accepting (the acceptor lives on contexts[0]).
  asio::post(*st.contexts[0], [state = state_] {
    boost::system::error_code ec;
    if (state->acceptor) state->acceptor->close(ec);  // null if Start failed to bind
  });
  auto for_each_connection = [&](auto fn) {
    std::vector<std::shared_ptr<ServerConnection>> conns;
    {
      std::lock_guard<std::mutex> lock(st.mu);
      for (auto& [id, weak] : st.connections) {
        if (auto c = weak.lock()) conns.push_back(std::move(c));
      }
    }
    for (auto& c : conns) {
      auto ex = c->executor();
      asio::post(ex, [c = std::move(c), fn]() mutable { fn(*c); });
    }
  };
  auto wait_for_connections = [&](std::chrono::milliseconds budget) {
    std::unique_lock<std::mutex> lock(st.mu);
    return st.cv.wait_for(lock, budget, [&] { return st.connections.empty(); });
  };
  // 2. Drain: refuse new calls, let in-flight ones finish until the deadline.
  for_each_connection([](ServerConnection& c) { c.BeginDrain(); });
  if (!wait_for_connections(drain_deadline)) {
    // 3. Past the deadline: cancel what is left, with an answer for each call.
    log->info("net: drain deadline passed; cancelling remaining calls");
    for_each_connection([](ServerConnection& c) { c.ForceClose(); });
    if (!wait_for_connections(std::chrono::seconds(2))) {
      log->warn("net: handlers still running after shutdown; abandoning them");
    }
  }
  // 4. Stop the io threads. Coroutines still suspended (a handler that
  // ignores cancellation) are destroyed with their io_context.
  st.guards.clear();
  for (auto& ctx : st.contexts) ctx->stop();
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  // Destroying the contexts destroys abandoned coroutine frames, which hold
  // shared_ptrs to the state: without this the state would never be freed.
  st.acceptor.reset();
  st.contexts.clear();
  log->info("net: server stopped");
}

ServerStats RpcServer::stats() const {
  auto& st = *state_;
  ServerStats s;
  s.connections_accepted = st.connections_accepted.load();
  s.connections_rejected = st.connections_rejected.load();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    s.connections_active = st.connections.size();
    s.connections_pending = st.pending.size();
  }
  s.pending_evicted = st.pending_evicted.load();
  s.handshake_timeouts = st.handshake_timeouts.load();
  s.hellos_refused = st.hellos_refused.load();
  s.slow_frames_closed = st.slow_frames_closed.load();
  s.buffered_bytes = st.budget->used();
  s.read_waits = st.budget->waits();
  s.protocol_errors = st.protocol_errors.load();
  s.idle_closed = st.idle_closed.load();
  s.calls_started = st.calls_started.load();
  s.calls_finished = st.calls_finished.load();
  s.calls_cancelled = st.calls_cancelled.load();
  return s;
}

}  // namespace tinykv::net
