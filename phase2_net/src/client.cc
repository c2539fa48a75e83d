// RpcClient: io threads, the connection pool, the retry loop and the
// blocking wrappers. Per-connection behaviour lives in channel.cc.
#include "tinykv/net/client.h"

#include "tinykv/net/address.h"

#include "channel.h"

namespace tinykv::net {

using internal::Channel;
using internal::ClientState;
using internal::RawReply;
using internal::SteadyClock;

namespace internal {

ClientState::ClientState(ClientOptions o)
    : options(std::move(o)), rnd(options.seed != 0 ? options.seed : TestSeed()) {}

Result<std::shared_ptr<Channel>> ClientState::PickChannel(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu);
  if (shutdown.load()) return Status::Cancelled("client shut down");
  auto& channels = peers[address];
  std::shared_ptr<Channel> best;
  for (const auto& c : channels) {
    if (!best || c->inflight() < best->inflight()) best = c;
  }
  if (!best || (best->inflight() > 0 && channels.size() < options.max_connections_per_peer)) {
    auto parsed = ParseHostPort(address);
    if (!parsed.ok()) {
      if (channels.empty()) peers.erase(address);
      return parsed.status();
    }
    asio::io_context& ctx = *contexts[next_context++ % contexts.size()];
    best = std::make_shared<Channel>(this, ctx, address, parsed->host, parsed->port);
    channels.push_back(best);
  }
  best->CallAssigned();  // RetryLoop calls CallFinished
  return best;
}

std::chrono::microseconds ClientState::NextBackoff(int retry) {
  std::lock_guard<std::mutex> lock(mu);
  return BackoffDelay(options.retry, retry, &rnd);
}

}  // namespace internal

namespace {

awaitable<RawReply> RetryLoop(std::shared_ptr<ClientState> state, std::shared_ptr<Channel> channel,
                              uint32_t method_id, std::string payload, bool idempotent,
                              CallOptions options, std::function<Status(Slice)>* on_item,
                              SteadyClock::time_point deadline) {
  struct Finished {
    Channel* channel;
    ~Finished() { channel->CallFinished(); }
  } finished{channel.get()};
  const int max_attempts =
      options.max_attempts > 0 ? options.max_attempts : state->options.retry.max_attempts;
  for (int attempt = 1;; ++attempt) {
    bool reached_server = false;
    bool got_item = false;
    RawReply reply =
        co_await channel->Attempt(method_id, payload, deadline, options.cancel.get(), on_item,
                                  &reached_server, &got_item, options.trace_id);
    if (reply.status.ok() || attempt >= max_attempts || got_item ||
        !ShouldRetry(reply.status, reached_server, idempotent)) {
      co_return reply;
    }
    const auto delay = state->NextBackoff(attempt);
    if (SteadyClock::now() + delay >= deadline) {
      reply.status = reply.status.WithContext("no time left to retry before the deadline");
      co_return reply;
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (options.cancel && options.cancel->cancelled()) {
      co_return RawReply{Status::Cancelled("call cancelled"), {}};
    }
    if (state->shutdown.load()) co_return RawReply{Status::Cancelled("client shut down"), {}};
    state->retries.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

RpcClient::RpcClient(ClientOptions options)
    : state_(std::make_shared<ClientState>(std::move(options))) {}

Result<std::unique_ptr<RpcClient>> RpcClient::Create(ClientOptions options) {
  if (options.io_threads < 1) return Status::InvalidArgument("io_threads must be >= 1");
  if (options.max_connections_per_peer < 1) {
    return Status::InvalidArgument("max_connections_per_peer must be >= 1");
  }
  if (options.retry.max_attempts < 1) return Status::InvalidArgument("max_attempts must be >= 1");
  if (options.max_frame_bytes <= kFrameHeaderSize) {
    return Status::InvalidArgument("max_frame_bytes must exceed the frame header size");
  }
  if (options.tls.enabled) {
    if (options.stream_wrapper) {
      return Status::InvalidArgument("tls and stream_wrapper are exclusive");
    }
    TINYKV_ASSIGN_OR_RETURN(auto tls,
                            TlsContext::Create(options.tls, TlsContext::Role::kClient));
    options.stream_wrapper = TlsClientWrapper(std::move(tls), options.connect_timeout);
  }
  std::unique_ptr<RpcClient> client(new RpcClient(std::move(options)));
  auto& st = *client->state_;
  for (int i = 0; i < st.options.io_threads; ++i) {
    st.contexts.push_back(std::make_unique<asio::io_context>(1));
    st.guards.push_back(asio::make_work_guard(*st.contexts.back()));
  }
  for (auto& ctx : st.contexts) st.threads.emplace_back([c = ctx.get()] { c->run(); });
  return client;
}

RpcClient::~RpcClient() {
  Shutdown();
  auto& st = *state_;
  // Shutdown woke every waiter and closed every connection, so the io
  // threads run out of work (a connect in progress ends within
  // connect_timeout) and run() returns.
  st.guards.clear();
  for (auto& t : st.threads) t.join();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.peers.clear();
  }
  st.contexts.clear();
}

void RpcClient::Shutdown() {
  auto& st = *state_;
  if (st.shutdown.exchange(true)) return;
  std::vector<std::shared_ptr<Channel>> channels;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    for (auto& [addr, list] : st.peers) channels.insert(channels.end(), list.begin(), list.end());
  }
  for (auto& c : channels) {
    asio::post(c->executor(), [c] { c->Shutdown(); });
  }
}

ClientStats RpcClient::stats() const {
  const auto& st = *state_;
  ClientStats s;
  s.calls = st.calls.load();
  s.retries = st.retries.load();
  s.connects = st.connects.load();
  s.connect_failures = st.connect_failures.load();
  s.timeouts = st.timeouts.load();
  return s;
}

asio::any_io_executor RpcClient::executor() {
  auto& st = *state_;
  return st.contexts[st.next_executor.fetch_add(1) % st.contexts.size()]->get_executor();
}

awaitable<RawReply> RpcClient::CallRaw(std::string address, uint32_t method_id,
                                       std::string payload, bool idempotent, CallOptions options,
                                       std::function<Status(Slice)>* on_item) {
  const auto deadline = SteadyClock::now() + options.timeout;
  state_->calls.fetch_add(1, std::memory_order_relaxed);
  auto channel = state_->PickChannel(address);
  if (!channel.ok()) co_return RawReply{channel.status(), {}};
  auto ex = (*channel)->executor();
  // Built in its own statement: GCC 12 mis-destroys by-value class
  // arguments of a coroutine call made inside a co_await expression.
  auto loop = RetryLoop(state_, std::move(channel).value(), method_id, std::move(payload),
                        idempotent, std::move(options), on_item, deadline);
  auto spawned = asio::co_spawn(ex, std::move(loop), asio::use_awaitable);
  co_return co_await std::move(spawned);
}

awaitable<RawReply> RpcClient::CallRawShared(
    std::string address, uint32_t method_id, std::string payload, bool idempotent,
    CallOptions options, std::shared_ptr<std::function<Status(Slice)>> on_item) {
  auto call = CallRaw(std::move(address), method_id, std::move(payload), idempotent,
                      std::move(options), on_item.get());
  co_return co_await std::move(call);
}

RawReply RpcClient::RunBlocking(awaitable<RawReply> call) {
  for (auto& ctx : state_->contexts) {
    TINYKV_CHECK(!ctx->get_executor().running_in_this_thread())
        << "a blocking RpcClient call from the client's own io thread would deadlock";
  }
  std::promise<RawReply> promise;
  auto future = promise.get_future();
  asio::co_spawn(executor(), std::move(call),
                 [&promise](std::exception_ptr e, RawReply reply) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       promise.set_value(RawReply{Status::Aborted(ex.what()), {}});
                       return;
                     }
                   }
                   promise.set_value(std::move(reply));
                 });
  return future.get();
}

}  // namespace tinykv::net
