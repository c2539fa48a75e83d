// ServerConnection: per-connection read loop, the handshake, handler
// coroutines, cancels, drain and the watchdog. See server.h for the
// behaviour contract.
#include "server_connection.h"

#include <algorithm>

#include "tinykv/common/trace_id.h"

namespace tinykv::net::internal {

namespace {
std::string EncodeError(const Status& s) {
  return EncodeMessage(ErrorPayloadOf(s));
}
bool IsFramingError(const Status& s) { return s.IsCorruption() || s.IsResourceExhausted(); }
}  // namespace

void ServerState::RemoveConnection(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(id);
    pending.erase(id);
  }
  cv.notify_all();
}

bool ServerState::MarkEstablished(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu);
  return pending.erase(id) == 1;
}

class ServerConnection::Call final : public ServerCall {
 public:
  Call(ServerConnection* conn, uint64_t request_id, uint64_t trace_id)
      : conn_(conn), request_id_(request_id), trace_id_(trace_id) {}
  uint64_t request_id() const override { return request_id_; }
  uint64_t trace_id() const override { return trace_id_; }
  const std::string& peer() const override { return conn_->transport_->peer(); }
  uint64_t peer_id() const override { return conn_->peer_id_; }
  bool cancelled() const override { return cancelled_ || conn_->transport_->closed(); }
  awaitable<Status> WriteItem(std::string payload) override {
    if (cancelled()) co_return Status::Cancelled("stream cancelled");
    Status s = co_await conn_->transport_->Send(FrameKind::kStreamItem, request_id_, 0, payload);
    if (!s.ok()) co_return Status::Cancelled("stream cancelled: " + s.ToString());
    co_return Status::OK();
  }

  bool cancelled_ = false;
  bool answered_ = false;  // a final frame (response, end or error) was queued

 private:
  ServerConnection* conn_;  // the call's coroutine holds a shared_ptr to it
  uint64_t request_id_;
  uint64_t trace_id_;
};

ServerConnection::ServerConnection(std::shared_ptr<ServerState> state, uint64_t id,
                                   std::shared_ptr<Transport> transport)
    : state_(std::move(state)),
      id_(id),
      transport_(std::move(transport)),
      log_(logging::Get("net")),
      watchdog_timer_(transport_->executor()) {}

ServerConnection::~ServerConnection() {
  transport_->Close(Status::Unavailable("connection released"));
  state_->RemoveConnection(id_);
}

void ServerConnection::Start() {
  transport_->Start();
  asio::co_spawn(executor(), ReadLoop(shared_from_this()), asio::detached);
  asio::co_spawn(executor(), Watchdog(shared_from_this()), asio::detached);
}

void ServerConnection::SendError(uint64_t request_id, const Status& status, bool not_executed) {
  // A false return means the connection is already closed: nobody to tell.
  (void)transport_->SendNow(FrameKind::kError, request_id, not_executed ? kErrorNotExecuted : 0,
                            EncodeError(status));
}

void ServerConnection::CloseWith(const Status& status, bool not_executed) {
  closing_ = true;
  SendError(0, status, not_executed);
  for (auto& [rid, call] : calls_) call->cancelled_ = true;
  transport_->CloseAfterFlush(std::chrono::seconds(1));
}

void ServerConnection::WarnUnlessRepeated(const std::string& key, const std::string& what) {
  const std::string line =
      "net: conn=" + std::to_string(id_) + " peer=" + transport_->peer() + " " + what;
  if (state_->repeats.ShouldWarn(key)) {
    log_->warn("{}", line);
  } else {
    log_->debug("{}", line);
  }
}

Status ServerConnection::Handshake(const Frame& frame) {
  const HelloHandler& on_hello = state_->options.on_hello;
  const FrameKind kind = frame.header.kind;
  if (!on_hello) {
    // No hello required: the first request completes the handshake; a hello
    // is ignored, a cancel changes nothing.
    if (kind != FrameKind::kRequest) return Status::OK();
  } else {
    Result<uint64_t> id =
        kind == FrameKind::kHello
            ? on_hello(frame.payload, transport_->peer())
            : Result<uint64_t>(Status::InvalidArgument(
                  "this server requires a hello frame first, got a " +
                  std::string(FrameKindName(kind)) + " frame"));
    if (!id.ok()) {
      state_->hellos_refused.fetch_add(1, std::memory_order_relaxed);
      const std::string why = id.status().ToString();
      WarnUnlessRepeated(why, "hello refused: " + why);
      CloseWith(id.status(), /*not_executed=*/false);
      return id.status();
    }
    peer_id_ = *id;
  }
  if (!state_->MarkEstablished(id_)) {
    // Chosen to make room for a newer connection an instant ago.
    const Status s = Status::Unavailable("too many connections awaiting their handshake");
    CloseWith(s, /*not_executed=*/true);
    return s;
  }
  established_ = true;
  return Status::OK();
}

void ServerConnection::Evict() {
  if (closing_ || established_ || transport_->closed()) return;
  log_->debug("net: conn={} peer={} closing: the oldest of too many pending connections", id_,
              transport_->peer());
  CloseWith(Status::Unavailable("too many connections awaiting their handshake; the oldest "
                                "is closed"),
            /*not_executed=*/true);
}

void ServerConnection::CloseForProtocolError(uint64_t request_id, const Status& status) {
  state_->protocol_errors.fetch_add(1, std::memory_order_relaxed);
  log_->warn("net: conn={} peer={} closing connection: {}", id_, transport_->peer(),
             status.ToString());
  closing_ = true;
  SendError(request_id, status);
  for (auto& [rid, call] : calls_) call->cancelled_ = true;
  transport_->CloseAfterFlush(std::chrono::seconds(1));
}

awaitable<void> ServerConnection::ReadLoop([[maybe_unused]] std::shared_ptr<ServerConnection> self) {
  for (;;) {
    Result<Frame> frame = co_await transport_->ReadFrame();
    if (!frame.ok()) {
      if (!transport_->closed() && IsFramingError(frame.status())) {
        CloseForProtocolError(0, frame.status());
      } else {
        log_->debug("net: conn={} peer={} connection ended: {}", id_, transport_->peer(),
                    frame.status().ToString());
        transport_->Close(frame.status());
      }
      break;
    }
    if (closing_) break;
    if (!established_) {
      if (!Handshake(*frame).ok()) break;  // closed
      if (frame->header.kind == FrameKind::kHello) continue;
    }
    Status s;
    switch (frame->header.kind) {
      case FrameKind::kRequest:
        s = HandleRequest(*frame);
        if (!s.ok()) CloseForProtocolError(frame->header.request_id, s);
        break;
      case FrameKind::kCancel: {
        auto it = calls_.find(frame->header.request_id);
        if (it != calls_.end() && !it->second->cancelled_) {
          it->second->cancelled_ = true;
          state_->calls_cancelled.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      }
      case FrameKind::kHello:
        s = Status::Corruption("unexpected hello after the connection's first frame");
        CloseForProtocolError(0, s);
        break;
      default:
        s = Status::Corruption("unexpected " + std::string(FrameKindName(frame->header.kind)) +
                               " frame from a client");
        CloseForProtocolError(0, s);
        break;
    }
    if (!s.ok()) break;
  }
  // The connection is finished for reading; calls still running see
  // cancelled() and their final frames go nowhere.
  for (auto& [rid, call] : calls_) call->cancelled_ = true;
  watchdog_timer_.cancel();
}

Status ServerConnection::HandleRequest(Frame& frame) {
  const uint64_t rid = frame.header.request_id;
  if (draining_) {
    SendError(rid, Status::Unavailable("server is shutting down"), /*not_executed=*/true);
    return Status::OK();
  }
  if (calls_.size() >= state_->options.max_calls_per_connection) {
    SendError(rid, Status::Busy("too many calls in flight on this connection"), true);
    return Status::OK();
  }
  if (calls_.contains(rid)) {
    SendError(rid, Status::InvalidArgument("request id " + std::to_string(rid) + " is in use"),
              true);
    return Status::OK();
  }
  auto method = state_->methods.find(frame.header.method_id);
  if (method == state_->methods.end()) {
    SendError(rid, Status::NotSupported("unknown method id " +
                                        std::to_string(frame.header.method_id)),
              true);
    return Status::OK();
  }
  if (frame.header.trace_id != 0 && log_->should_log(spdlog::level::debug)) {
    logging::Log(log_, spdlog::level::debug, "net: request received",
                 {{"conn", id_},
                  {"request", rid},
                  {"method", method->second.name},
                  {"peer", transport_->peer()},
                  {"trace", FormatTraceId(frame.header.trace_id)}});
  }
  auto call = std::make_shared<Call>(this, rid, frame.header.trace_id);
  auto body = method->second.start(call.get(), frame.payload);
  if (!body.ok()) {
    return body.status().WithContext("request " + std::to_string(rid) + " for " +
                                      method->second.name);
  }
  calls_.emplace(rid, call);
  state_->calls_started.fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(executor(),
                 RunCall(shared_from_this(), std::move(call), std::move(body).value(),
                         method->second.streaming),
                 asio::detached);
  return Status::OK();
}

awaitable<void> ServerConnection::RunCall([[maybe_unused]] std::shared_ptr<ServerConnection> self,
                                          std::shared_ptr<Call> call,
                                          awaitable<Result<std::string>> body, bool streaming) {
  std::optional<Result<std::string>> result;
  try {
    result.emplace(co_await std::move(body));
  } catch (const std::exception& e) {
    log_->error("net: conn={} request={} handler threw: {}", id_, call->request_id(), e.what());
    result.emplace(Status::Aborted(std::string("handler threw: ") + e.what()));
  }
  const uint64_t rid = call->request_id();
  if (!call->answered_ && !transport_->closed()) {
    call->answered_ = true;
    if (!result->ok()) {
      SendError(rid, result->status());
    } else if (streaming) {
      (void)transport_->SendNow(FrameKind::kStreamEnd, rid, 0, Slice());
    } else {
      Status s = co_await transport_->Send(FrameKind::kResponse, rid, 0, result->value());
      if (!s.ok()) {
        log_->debug("net: conn={} request={} response dropped: {}", id_, rid, s.ToString());
      }
    }
  }
  calls_.erase(rid);
  state_->calls_finished.fetch_add(1, std::memory_order_relaxed);
  MaybeFinishDrain();
}

void ServerConnection::MaybeFinishDrain() {
  if (draining_ && calls_.empty()) transport_->CloseAfterFlush(std::chrono::seconds(1));
}

void ServerConnection::BeginDrain() {
  draining_ = true;
  MaybeFinishDrain();
}

void ServerConnection::ForceClose() {
  draining_ = true;
  for (auto& [rid, call] : calls_) {
    call->cancelled_ = true;
    if (!call->answered_) {
      call->answered_ = true;
      SendError(rid, Status::Cancelled("server shut down before the call finished"));
    }
  }
  transport_->CloseAfterFlush(std::chrono::milliseconds(500));
}

awaitable<void> ServerConnection::Watchdog([[maybe_unused]] std::shared_ptr<ServerConnection> self) {
  using std::chrono::milliseconds;
  const ServerOptions& o = state_->options;
  const auto idle = o.idle_timeout;
  const auto shortest = std::min({idle, o.handshake_timeout, o.frame_grace});
  const auto period = std::clamp<SteadyClock::duration>(shortest / 4, milliseconds(5),
                                                        milliseconds(1000));
  while (!transport_->closed() && !closing_) {
    const auto due = SteadyClock::now() + period;
    watchdog_timer_.expires_at(due);
    boost::system::error_code ec;
    co_await watchdog_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (transport_->closed() || closing_) break;
    const auto now = SteadyClock::now();
    // Woken far behind schedule: this thread (or the whole process: SIGSTOP,
    // a VM pause) was stalled, and bytes that arrived meanwhile may still be
    // unread. Judge the peer only after the reads have had their turn.
    if (now - due > period) continue;
    if (!established_ && now - accepted_at_ >= o.handshake_timeout) {
      state_->handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
      const std::string what = std::string(o.on_hello ? "no hello" : "no complete request") +
                               " within " + std::to_string(o.handshake_timeout.count()) +
                               " ms of connecting";
      WarnUnlessRepeated("handshake timeout", "closing: " + what);
      CloseWith(Status::Timeout(what), /*not_executed=*/true);
      break;
    }
    if (o.min_receive_bytes_per_second > 0 && transport_->frame_in_progress()) {
      // Time the frame spent waiting for max_buffered_bytes is ours, not
      // the sender's: it does not count.
      const auto elapsed = now - transport_->frame_started() - transport_->frame_budget_wait();
      if (elapsed > o.frame_grace) {
        const double late_s = std::chrono::duration<double>(elapsed - o.frame_grace).count();
        const double required = static_cast<double>(o.min_receive_bytes_per_second) * late_s;
        const size_t received = transport_->frame_bytes_received();
        if (static_cast<double>(received) < required) {
          state_->slow_frames_closed.fetch_add(1, std::memory_order_relaxed);
          const std::string what =
              "frame arriving too slowly: " + std::to_string(received) + " bytes in " +
              std::to_string(std::chrono::duration_cast<milliseconds>(elapsed).count()) +
              " ms (the minimum is " + std::to_string(o.min_receive_bytes_per_second) +
              " bytes/s after " + std::to_string(o.frame_grace.count()) + " ms)";
          WarnUnlessRepeated("slow frame", "closing: " + what);
          CloseWith(Status::Timeout(what), /*not_executed=*/false);
          break;
        }
      }
    }
    const auto last = std::max(transport_->last_frame_completed(), transport_->last_write());
    if (calls_.empty() && transport_->queued_bytes() == 0 && !transport_->frame_in_progress() &&
        now - last >= idle) {
      state_->idle_closed.fetch_add(1, std::memory_order_relaxed);
      log_->info("net: conn={} peer={} closing idle connection", id_, transport_->peer());
      transport_->Close(Status::Unavailable("idle timeout"));
      break;
    }
    if (transport_->write_in_progress() && now - transport_->write_started() >= idle) {
      log_->warn("net: conn={} peer={} closing connection: peer stopped reading", id_,
                 transport_->peer());
      transport_->Close(Status::Unavailable("peer stopped reading"));
      break;
    }
  }
}

}  // namespace tinykv::net::internal
