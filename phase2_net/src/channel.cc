// Channel: connect/reconnect, the pending-call table, the read loop that
// matches responses to callers, deadlines and cancellation.
#include "channel.h"

#include <boost/asio/connect.hpp>

namespace tinykv::net::internal {

namespace {
// A stream whose consumer falls this far behind stalls the connection's
// read loop (TCP back-pressure then reaches the server's write queue).
constexpr size_t kMaxBufferedItems = 256;
// The same connection-level error from a server is logged at warn at most
// this often (a refused hello repeats at every reconnect).
constexpr auto kReportRepeat = std::chrono::seconds(10);

Status DecodeErrorFrame(Slice payload) {
  auto e = DecodeMessage<ErrorPayload>(payload);
  if (!e.ok()) return e.status().WithContext("error frame");
  return StatusOf(*e);
}

}  // namespace

Channel::Channel(ClientState* client, asio::io_context& context, std::string address,
                 std::string host, uint16_t port)
    : client_(client),
      executor_(context.get_executor()),
      address_(std::move(address)),
      host_(std::move(host)),
      port_(port),
      log_(logging::Get("net")) {}

awaitable<Result<std::shared_ptr<Transport>>> Channel::Connect(SteadyClock::time_point deadline) {
  boost::system::error_code ec;
  std::vector<asio::ip::tcp::endpoint> endpoints;
  const auto ip = asio::ip::make_address(host_, ec);
  if (!ec) {
    endpoints.emplace_back(ip, port_);
  } else {
    asio::ip::tcp::resolver resolver(executor_);
    const std::string service = std::to_string(port_);
    auto results = co_await resolver.async_resolve(host_, service,
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return ErrorCodeToStatus(ec, "resolve " + host_);
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  // The timer closes the socket if connecting takes too long. State it
  // touches lives in a shared struct: its handler may run after we return.
  struct ConnectState {
    explicit ConnectState(asio::any_io_executor ex) : socket(ex), timer(ex) {}
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto cs = std::make_shared<ConnectState>(executor_);
  cs->timer.expires_at(deadline);
  cs->timer.async_wait([cs](const boost::system::error_code& timer_ec) {
    if (timer_ec) return;
    cs->timed_out = true;
    boost::system::error_code ignored;
    cs->socket.close(ignored);
  });
  co_await asio::async_connect(cs->socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  cs->timer.cancel();
  if (cs->timed_out) co_return Status::Unavailable("connect to " + address_ + " timed out");
  if (ec) co_return ErrorCodeToStatus(ec, "connect to " + address_);
  if (client_->options.receive_buffer_bytes > 0) {
    // A fixed size also turns the kernel's autotuning off for this socket.
    boost::system::error_code ignored;  // best effort: the OS's default is not wrong
    cs->socket.set_option(
        asio::socket_base::receive_buffer_size(
            static_cast<int>(std::min<size_t>(client_->options.receive_buffer_bytes, 1u << 30))),
        ignored);
  }
  StreamWrapper wrap = client_->options.stream_wrapper ? client_->options.stream_wrapper
                                                       : PlainTcpWrapper();
  // (Coroutine calls are split from their co_await throughout: GCC 12
  // mis-destroys by-value class arguments inside a co_await expression.)
  auto wrapping = wrap(std::move(cs->socket), host_);
  Result<std::unique_ptr<Stream>> stream = co_await std::move(wrapping);
  if (!stream.ok()) co_return stream.status();
  TransportOptions topts;
  topts.max_frame_bytes = client_->options.max_frame_bytes;
  topts.write_queue_bytes = client_->options.write_queue_bytes;
  co_return std::make_shared<Transport>(std::move(stream).value(), topts);
}

awaitable<Status> Channel::EnsureConnected(SteadyClock::time_point deadline) {
  for (;;) {
    if (shutdown_) co_return Status::Cancelled("client shut down");
    if (state_ == State::kConnected && transport_ && !transport_->closed()) {
      co_return Status::OK();
    }
    if (state_ == State::kConnecting) {
      if (SteadyClock::now() >= deadline) {
        co_return Status::Timeout("deadline passed while connecting to " + address_);
      }
      co_await connect_event_.Wait(deadline);
      continue;
    }
    state_ = State::kConnecting;
    // Forget a dead transport now: its read loop must not touch the state of
    // the connection being made (it only resets transport_ if it is still ours).
    transport_.reset();
    const auto connect_deadline =
        std::min(deadline, SteadyClock::now() + client_->options.connect_timeout);
    Result<std::shared_ptr<Transport>> t = co_await Connect(connect_deadline);
    if (!t.ok() || shutdown_) {
      state_ = State::kIdle;
      connect_event_.NotifyAll();
      client_->connect_failures.fetch_add(1, std::memory_order_relaxed);
      if (t.ok()) (*t)->Close(Status::Cancelled("client shut down"));
      co_return t.ok() ? Status::Cancelled("client shut down") : t.status();
    }
    transport_ = std::move(t).value();
    std::weak_ptr<Channel> weak = weak_from_this();
    transport_->on_request_written = [weak](uint64_t id) {
      if (auto self = weak.lock()) {
        auto it = self->pending_.find(id);
        if (it != self->pending_.end()) it->second->written = true;
      }
    };
    if (!client_->options.hello.empty()) {
      (void)transport_->SendNow(FrameKind::kHello, 0, 0, client_->options.hello);
    }
    transport_->Start();
    state_ = State::kConnected;
    client_->connects.fetch_add(1, std::memory_order_relaxed);
    log_->debug("net: connected to {}", address_);
    asio::co_spawn(executor_, ReadLoop(shared_from_this(), transport_), asio::detached);
    connect_event_.NotifyAll();
    co_return Status::OK();
  }
}

awaitable<void> Channel::ReadLoop([[maybe_unused]] std::shared_ptr<Channel> self,
                                  std::shared_ptr<Transport> transport) {
  Status server_said;  // a connection-level error frame (request id 0)
  bool server_ran_nothing = false;  // ... marked "refused before any handler ran"
  for (;;) {
    Result<Frame> frame = co_await transport->ReadFrame();
    if (!frame.ok()) {
      Status reason = !server_said.ok() ? server_said : frame.status();
      if (frame.status().IsCorruption() || frame.status().IsResourceExhausted()) {
        log_->warn("net: closing connection to {}: {}", address_, frame.status().ToString());
      }
      transport->Close(reason);
      if (transport_ == transport) {
        transport_.reset();
        state_ = State::kIdle;
      }
      // A TLS failure after the handshake (with TLS 1.3 the server checks
      // the client's certificate after the client's handshake completed, and
      // says so with an alert on the first read) is not a lost connection:
      // it keeps its code, so nothing retries it (tls.h).
      const Status failure =
          !server_said.ok() && !server_said.IsUnavailable()
              ? server_said.WithContext("server " + address_ + " closed the connection")
          : reason.IsIOError() && reason.message().starts_with("TLS: ")
              ? reason.WithContext("connection to " + address_)
              : Status::Unavailable("connection to " + address_ + " lost: " + reason.ToString());
      FailAll(transport.get(), shutdown_ ? Status::Cancelled("client shut down") : failure,
              server_ran_nothing);
      co_return;
    }
    const FrameHeader& h = frame->header;
    if (h.request_id == 0) {
      if (h.kind == FrameKind::kError) {
        server_said = DecodeErrorFrame(frame->payload);
        server_ran_nothing = h.method_id == kErrorNotExecuted;
        // A refused hello is refused again at every reconnect: warn once.
        const std::string said = server_said.ToString();
        if (said != last_report_ || SteadyClock::now() - last_report_time_ >= kReportRepeat) {
          log_->warn("net: server {} reports: {}", address_, said);
          last_report_ = said;
          last_report_time_ = SteadyClock::now();
        } else {
          log_->debug("net: server {} reports: {}", address_, said);
        }
      }
      continue;
    }
    auto it = pending_.find(h.request_id);
    if (it == pending_.end()) continue;  // a late answer to a call that gave up
    Pending& p = *it->second;
    switch (h.kind) {
      case FrameKind::kResponse:
        p.payload = std::move(frame->payload);
        p.done = true;
        break;
      case FrameKind::kError:
        p.status = DecodeErrorFrame(frame->payload);
        p.not_executed = h.method_id == kErrorNotExecuted;
        p.done = true;
        break;
      case FrameKind::kStreamEnd:
        p.done = true;
        break;
      case FrameKind::kStreamItem:
        p.items.push_back(std::move(frame->payload));
        break;
      default:
        transport->Close(Status::Corruption("unexpected " + std::string(FrameKindName(h.kind)) +
                                            " frame from server"));
        continue;  // the next ReadFrame reports the close and fails every call
    }
    p.written = true;  // any answer proves the request arrived
    p.timer.cancel();
    if (p.done) {
      pending_.erase(it);
      continue;
    }
    // Stream back-pressure: stall this connection while the consumer is far
    // behind. Re-find the call after every wait: it may have gone away.
    const uint64_t rid = h.request_id;
    for (;;) {
      auto again = pending_.find(rid);
      if (again == pending_.end() || again->second->items.size() <= kMaxBufferedItems ||
          transport->closed()) {
        break;
      }
      co_await drained_event_.Wait(SteadyClock::time_point::max());
    }
  }
}

void Channel::FailAll(Transport* transport, const Status& status, bool not_executed) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = *it->second;
    if (transport != nullptr && p.transport != transport) {
      ++it;
      continue;
    }
    p.status = status;
    p.not_executed = p.not_executed || not_executed;
    p.done = true;
    p.timer.cancel();
    it = pending_.erase(it);
  }
  drained_event_.NotifyAll();
}

void Channel::SendCancel(Transport* transport, uint64_t request_id) {
  if (transport != nullptr && transport == transport_.get()) {
    (void)transport->SendNow(FrameKind::kCancel, request_id, 0, Slice());
  }
}

void Channel::Shutdown() {
  shutdown_ = true;
  if (transport_) transport_->Close(Status::Cancelled("client shut down"));
  FailAll(nullptr, Status::Cancelled("client shut down"));
  connect_event_.NotifyAll();
}

awaitable<RawReply> Channel::Attempt(uint32_t method_id, const std::string& payload,
                                     SteadyClock::time_point deadline, CancellationToken* cancel,
                                     std::function<Status(Slice)>* on_item, bool* reached_server,
                                     bool* got_item, uint64_t trace_id) {
  *reached_server = false;
  Status s = co_await EnsureConnected(deadline);
  if (!s.ok()) co_return RawReply{s, {}};

  const uint64_t rid = next_request_id_++;
  Pending p(executor_, deadline);
  std::shared_ptr<Transport> transport = transport_;
  p.transport = transport.get();
  pending_.emplace(rid, &p);
  uint64_t cancel_registration = 0;
  if (cancel != nullptr) {
    std::weak_ptr<Channel> weak = weak_from_this();
    cancel_registration = cancel->Register([weak, rid, ex = executor_] {
      asio::post(ex, [weak, rid] {
        auto self = weak.lock();
        if (!self) return;
        auto it = self->pending_.find(rid);
        if (it == self->pending_.end()) return;
        it->second->cancelled = true;
        it->second->timer.cancel();
      });
    });
    if (cancel_registration == 0) p.cancelled = true;  // cancelled before we started
  }
  // Leaving this scope (by any path) must unlink p from the table first.
  struct Unlink {
    Channel* channel;
    uint64_t rid;
    CancellationToken* cancel;
    uint64_t registration;
    ~Unlink() {
      channel->pending_.erase(rid);
      channel->drained_event_.NotifyAll();
      if (cancel != nullptr && registration != 0) cancel->Unregister(registration);
    }
  } unlink{this, rid, cancel, cancel_registration};

  if (!p.cancelled) {
    s = co_await transport->Send(FrameKind::kRequest, rid, method_id, payload, deadline, trace_id);
    if (!s.ok()) {
      *reached_server = p.written;
      if (s.IsTimeout()) {
        client_->timeouts.fetch_add(1, std::memory_order_relaxed);
        co_return RawReply{s, {}};
      }
      co_return RawReply{p.done ? p.status : Status::Unavailable("send to " + address_ + ": " +
                                                                 s.ToString()),
                         {}};
    }
  }
  for (;;) {
    while (on_item != nullptr && !p.items.empty()) {
      std::string item = std::move(p.items.front());
      p.items.pop_front();
      drained_event_.NotifyAll();
      *got_item = true;
      Status st = (*on_item)(item);
      if (!st.ok()) {
        SendCancel(p.transport, rid);
        *reached_server = true;
        co_return RawReply{st, {}};
      }
    }
    if (p.done) break;
    if (p.cancelled) {
      SendCancel(p.transport, rid);
      *reached_server = p.written;
      co_return RawReply{Status::Cancelled("call cancelled"), {}};
    }
    if (SteadyClock::now() >= deadline) {
      SendCancel(p.transport, rid);
      *reached_server = p.written;
      client_->timeouts.fetch_add(1, std::memory_order_relaxed);
      co_return RawReply{Status::Timeout("deadline exceeded waiting for " + address_), {}};
    }
    boost::system::error_code ec;  // aborted = woken by the read loop; else the deadline
    co_await p.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  // A refusal the server marked "not executed" counts as never reaching it.
  *reached_server = p.written && !p.not_executed;
  co_return RawReply{p.status, std::move(p.payload)};
}

}  // namespace tinykv::net::internal
