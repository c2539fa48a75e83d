// RpcServer: serves registered methods over framed TCP (or any Stream).
//
// What it is: an acceptor plus `io_threads` single-threaded io_contexts;
// each accepted connection is pinned to one of them (round-robin), so all of
// a connection's work — its read loop, its write loop, its handlers — runs on
// one thread without locks. Requests on one connection run concurrently (one
// coroutine each) and are answered out of order, matched by request id.
//
// Usage:
//   auto server = RpcServer::Create(options).value();
//   server->Register<EchoMethod>([](EchoRequest r) -> awaitable<Result<EchoResponse>> {
//     co_return EchoResponse{r.data};
//   });
//   TINYKV_RETURN_IF_ERROR(server->Start());   // binds; port() is now known
//   ...
//   server->Shutdown(std::chrono::seconds(5));
//
// Handlers run on the connection's io thread: a handler that blocks (disk
// I/O, a mutex) stalls every connection on that thread. Handlers should be
// quick or co_await; the demo's storage calls are short enough.
//
// Hostile input: a frame with bad magic, version, kind or checksum, a length
// above max_frame_bytes, or a request payload that does not decode, makes the
// server log the reason, send an error frame (request id 0, or the request's
// id for an undecodable payload) and close that one connection. Everyone else
// is unaffected. An unknown method id is answered with NotSupported and the
// connection stays open.
//
// Limits: max_connections (further connections get a ResourceExhausted error
// frame and are closed), max_calls_per_connection (further requests get
// Busy), write_queue_bytes per connection (back-pressure on handlers),
// idle_timeout (a connection with no calls in flight and nothing read for
// that long is closed).
//
// Graceful shutdown (Shutdown): stop accepting; answer new requests with
// Unavailable("server is shutting down"); wait for in-flight calls up to the
// drain deadline; then answer every call still running with
// Cancelled("server shut down") and close. No call is left without an answer.
//
// Thread safety: Register before Start, from one thread. Start, Shutdown,
// port() and stats() are thread-safe. Shutdown must not be called from a
// handler (it joins the io threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "tinykv/common/result.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"
#include "tinykv/net/server_call.h"
#include "tinykv/net/stream.h"

namespace tinykv::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS picks; read it back with port()
  int io_threads = 2;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t max_connections = 1024;
  size_t max_calls_per_connection = 4096;
  size_t write_queue_bytes = 4u << 20;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  // Turns accepted sockets into Streams (TLS hook, see stream.h).
  StreamWrapper stream_wrapper;  // empty: plain TCP
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t connections_active = 0;
  uint64_t protocol_errors = 0;       // connections closed for malformed input
  uint64_t idle_closed = 0;
  uint64_t calls_started = 0;
  uint64_t calls_finished = 0;
  uint64_t calls_cancelled = 0;
};

namespace internal {
class ServerConnection;
struct ServerState;
// A registered method, type-erased. Decode runs in the read loop (a payload
// that does not decode is a protocol error); Run is the handler coroutine.
struct MethodEntry {
  std::string name;
  bool streaming = false;
  // Decodes the payload and returns the coroutine that serves the call, or
  // Corruption. The coroutine returns the response payload (unary) or the
  // final status (streaming: payload ignored).
  std::function<Result<awaitable<Result<std::string>>>(ServerCall* call, Slice payload)> start;
};
}  // namespace internal

class RpcServer {
 public:
  // Creates a server that is not yet listening. InvalidArgument for bad options.
  [[nodiscard]] static Result<std::unique_ptr<RpcServer>> Create(ServerOptions options);
  ~RpcServer();  // Shutdown(0) if still running
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers the handler of a unary method:
  //   awaitable<Result<M::Response>>(M::Request)
  // REQUIRES: before Start; M::kId not registered yet (checked).
  template <UnaryRpcMethod M, typename Handler>
  void Register(Handler handler) {
    using Req = typename M::Request;
    using Resp = typename M::Response;
    auto h = std::make_shared<Handler>(std::move(handler));
    RegisterEntry(M::kId, internal::MethodEntry{
        std::string(M::kName), false,
        [h](ServerCall*, Slice payload) -> Result<awaitable<Result<std::string>>> {
          auto req = DecodeMessage<Req>(payload);
          if (!req.ok()) return req.status();
          return RunUnary<Req, Resp>(h, std::move(req).value());
        }});
  }

  // Registers the handler of a server-streaming method:
  //   awaitable<Status>(M::Request, ServerWriter<M::Response>&)
  template <StreamingRpcMethod M, typename Handler>
  void Register(Handler handler) {
    using Req = typename M::Request;
    using Item = typename M::Response;
    auto h = std::make_shared<Handler>(std::move(handler));
    RegisterEntry(M::kId, internal::MethodEntry{
        std::string(M::kName), true,
        [h](ServerCall* call, Slice payload) -> Result<awaitable<Result<std::string>>> {
          auto req = DecodeMessage<Req>(payload);
          if (!req.ok()) return req.status();
          return RunStreaming<Req, Item>(h, std::move(req).value(), call);
        }});
  }

  // Binds and starts serving. IOError/InvalidArgument if the address cannot
  // be bound. REQUIRES: called once.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const;
  std::string address() const;  // "host:port"

  // Graceful shutdown, see the class comment. Idempotent; returns when every
  // connection is closed and the io threads have stopped.
  void Shutdown(std::chrono::milliseconds drain_deadline);

  ServerStats stats() const;

 private:
  explicit RpcServer(ServerOptions options);
  void RegisterEntry(uint32_t id, internal::MethodEntry entry);

  template <typename Req, typename Resp, typename Handler>
  static awaitable<Result<std::string>> RunUnary(std::shared_ptr<Handler> h, Req req) {
    auto call = (*h)(std::move(req));  // split: GCC 12 co_await argument bug
    Result<Resp> resp = co_await std::move(call);
    if (!resp.ok()) co_return resp.status();
    co_return EncodeMessage(*resp);
  }
  template <typename Req, typename Item, typename Handler>
  static awaitable<Result<std::string>> RunStreaming(std::shared_ptr<Handler> h, Req req,
                                                     ServerCall* call) {
    ServerWriter<Item> writer(call);
    auto handler_call = (*h)(std::move(req), writer);
    Status s = co_await std::move(handler_call);
    if (!s.ok()) co_return s;
    co_return std::string();
  }

  std::shared_ptr<internal::ServerState> state_;
};

}  // namespace tinykv::net
