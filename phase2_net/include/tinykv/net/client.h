// RpcClient: calls methods on RpcServers, over pooled multiplexed connections.
//
// What it is: `io_threads` single-threaded io_contexts and a pool of
// channels keyed by peer address ("host:port"), at most
// max_connections_per_peer per peer (calls go to the least loaded one). Each
// channel is one TCP connection carrying any number of concurrent calls,
// matched to responses by request id through a pending-call table. A channel
// connects on first use and reconnects automatically after the connection
// drops; calls in flight on a dropped connection fail with Unavailable.
//
// Every call has a deadline (CallOptions::timeout, covering all attempts);
// when it passes the call returns Timeout and the server is sent a cancel
// frame. A call can be cancelled from any thread with a CancellationToken.
// Failed attempts are retried with exponential backoff and full jitter
// (retry.h) only when the request never reached the server, or when the
// method (or CallOptions::idempotent) says a blind retry is safe.
//
//   auto client = RpcClient::Create({}).value();
//   Result<EchoResponse> r = client->CallSync<EchoMethod>("127.0.0.1:7000", {"hi"});
//   // in a coroutine:
//   Result<EchoResponse> r = co_await client->Call<EchoMethod>(addr, req, opts);
//
// GCC 12 note for callers: build the call in its own statement, then
// co_await it (`auto c = client->Call<M>(addr, req); auto r = co_await std::move(c);`).
// GCC 12 mis-destroys by-value class arguments (here the request) of a
// coroutine called inside a co_await expression.
//
// Thread safety: every method is thread-safe. Call/CallStream may be
// co_awaited from any executor (the work hops to the channel's io thread and
// back). CallSync/CallStreamSync block the calling thread; they must not be
// called from one of this client's io threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/cancellation.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/method.h"
#include "tinykv/net/retry.h"
#include "tinykv/net/serialization.h"
#include "tinykv/net/stream.h"
#include "tinykv/net/tls.h"

namespace tinykv::net {

struct ClientOptions {
  int io_threads = 1;
  size_t max_connections_per_peer = 1;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t write_queue_bytes = 4u << 20;
  std::chrono::milliseconds connect_timeout{2000};
  // SO_RCVBUF of every connection; 0: the OS's own (autotuned, on Linux up
  // to net.ipv4.tcp_rmem's maximum, often 32 MiB). A stream whose consumer
  // stops reading pushes back on its server once about this many bytes are
  // in flight (watch streams set it: their server bounds what it buffers).
  size_t receive_buffer_bytes = 0;
  RetryPolicy retry;
  uint64_t seed = 0;  // jitter RNG seed; 0 = random
  // TLS on every connection (tls.h): the server's certificate is verified
  // (chain and host name), cert_file is presented when set. Create loads the
  // files; the handshake is bounded by connect_timeout. Excludes stream_wrapper.
  TlsOptions tls;
  StreamWrapper stream_wrapper;  // empty: plain TCP (or TLS, with tls.enabled)
  // Non-empty: sent as a hello frame (frame.h), the first frame of every
  // connection, ahead of (and in the same write as) the first request; the
  // server's hello handler accepts or refuses it (server.h). A refusal fails
  // the calls on that connection with the server's reason and is logged.
  std::string hello;
};

struct CallOptions {
  std::chrono::milliseconds timeout{5000};  // deadline for the whole call, all attempts
  std::optional<bool> idempotent;           // overrides the method's kIdempotent
  int max_attempts = 0;                     // 0: ClientOptions::retry.max_attempts
  std::shared_ptr<CancellationToken> cancel;
  // Sent in the request frame's header (frame.h) of every attempt; 0 = none.
  // The server hands it to the handler (ServerCall::trace_id).
  uint64_t trace_id = 0;
};

struct ClientStats {
  uint64_t calls = 0;
  uint64_t retries = 0;
  uint64_t connects = 0;         // successful connection establishments
  uint64_t connect_failures = 0;
  uint64_t timeouts = 0;
};

namespace internal {
class ClientState;
// The outcome of a call before decoding; default-constructible because Asio
// 1.74's co_spawn needs that of every result type.
struct RawReply {
  Status status;
  std::string payload;
};
}  // namespace internal

class RpcClient {
 public:
  // Starts the io threads. InvalidArgument for bad options (TLS files included).
  [[nodiscard]] static Result<std::unique_ptr<RpcClient>> Create(ClientOptions options);
  // Shutdown(), then joins the io threads.
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // One unary call. Errors: the handler's Status, Timeout, Cancelled,
  // Unavailable (could not connect, connection lost), Corruption (the
  // response did not decode), or the server's NotSupported/Busy/...
  template <UnaryRpcMethod M>
  awaitable<Result<typename M::Response>> Call(std::string address, typename M::Request request,
                                               CallOptions options = {}) {
    // The call is built in its own statement: GCC 12 mis-destroys by-value
    // class arguments of a coroutine called inside a co_await expression.
    auto call = CallRaw(std::move(address), M::kId, EncodeMessage(request),
                        options.idempotent.value_or(M::kIdempotent), options, nullptr);
    internal::RawReply reply = co_await std::move(call);
    if (!reply.status.ok()) co_return reply.status;
    co_return DecodeMessage<typename M::Response>(reply.payload);
  }

  // A server-streaming call: on_item runs for each item, in order, on a
  // client io thread (it must not block for long: it holds up that
  // connection). Returning a non-OK status from on_item cancels the stream
  // (the server is told) and Call returns that status. Retries happen only
  // before the first item arrives.
  template <StreamingRpcMethod M>
  awaitable<Status> CallStream(std::string address, typename M::Request request,
                               std::function<Status(typename M::Response)> on_item,
                               CallOptions options = {}) {
    std::function<Status(Slice)> raw = [on_item = std::move(on_item)](Slice payload) -> Status {
      auto item = DecodeMessage<typename M::Response>(payload);
      if (!item.ok()) return item.status();
      return on_item(std::move(item).value());
    };
    auto call = CallRaw(std::move(address), M::kId, EncodeMessage(request),
                        options.idempotent.value_or(M::kIdempotent), options, &raw);
    internal::RawReply reply = co_await std::move(call);
    co_return reply.status;
  }

  // Blocking forms of Call and CallStream for threads outside Asio.
  template <UnaryRpcMethod M>
  Result<typename M::Response> CallSync(std::string address, typename M::Request request,
                                        CallOptions options = {}) {
    internal::RawReply reply = RunBlocking(CallRaw(std::move(address), M::kId,
                                                   EncodeMessage(request),
                                                   options.idempotent.value_or(M::kIdempotent),
                                                   options, nullptr));
    if (!reply.status.ok()) return reply.status;
    return DecodeMessage<typename M::Response>(reply.payload);
  }
  template <StreamingRpcMethod M>
  Status CallStreamSync(std::string address, typename M::Request request,
                        std::function<Status(typename M::Response)> on_item,
                        CallOptions options = {}) {
    auto raw = std::make_shared<std::function<Status(Slice)>>(
        [on_item = std::move(on_item)](Slice payload) -> Status {
          auto item = DecodeMessage<typename M::Response>(payload);
          if (!item.ok()) return item.status();
          return on_item(std::move(item).value());
        });
    return RunBlocking(CallRawShared(std::move(address), M::kId, EncodeMessage(request),
                                     options.idempotent.value_or(M::kIdempotent), options, raw))
        .status;
  }

  // The untyped call underneath: payload bytes in, payload bytes out.
  // `on_item` non-null makes it a streaming call.
  awaitable<internal::RawReply> CallRaw(std::string address, uint32_t method_id,
                                        std::string payload, bool idempotent,
                                        CallOptions options,
                                        std::function<Status(Slice)>* on_item);

  // Fails every call in flight with Cancelled and closes every connection;
  // later calls fail with Cancelled. Idempotent.
  void Shutdown();

  ClientStats stats() const;
  // An executor of one of the client's io threads (for co_spawn by callers
  // who have no executor of their own).
  asio::any_io_executor executor();

 private:
  explicit RpcClient(ClientOptions options);
  awaitable<internal::RawReply> CallRawShared(std::string address, uint32_t method_id,
                                              std::string payload, bool idempotent,
                                              CallOptions options,
                                              std::shared_ptr<std::function<Status(Slice)>> on_item);
  internal::RawReply RunBlocking(awaitable<internal::RawReply> call);

  std::shared_ptr<internal::ClientState> state_;
};

}  // namespace tinykv::net
