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
// Limits (ServerOptions has the defaults):
//   * max_connections: further connections get a ResourceExhausted error
//     frame and are closed.
//   * A new connection is "pending" until it completes its handshake: its
//     hello was accepted (servers with on_hello), or its first request
//     arrived (others). At most max_pending_connections are pending; when a
//     new connection would exceed that, or max_connections, the OLDEST
//     pending connection is closed to make room (an Unavailable error frame
//     marked not-executed, so its client may retry). Established connections
//     are never closed for a newcomer, so strangers that connect and say
//     nothing can never take the slots that established peers need.
//   * handshake_timeout: a connection still pending that long after it was
//     accepted is closed.
//   * A frame in progress must arrive at an average of at least
//     min_receive_bytes_per_second once frame_grace has passed since its
//     first byte; otherwise the connection is closed. So a 1-byte-per-second
//     drip holds a connection for about frame_grace, not forever. (Both
//     deadlines are checked a few times per frame_grace; a check that runs
//     late because the server itself was stalled waits for the next one, so
//     bytes that arrived meanwhile are read before the peer is judged.)
//   * max_buffered_bytes: the memory of large frames in progress (frames
//     above 64 KiB; smaller ones are assembled in each connection's read
//     buffer of 4-64 KiB) across all connections. A connection whose next
//     read would exceed it stops reading (TCP pushes back on its sender)
//     until other frames complete; time spent waiting does not count against
//     its minimum rate. So that two half-received frames never wait for each
//     other, the read that has waited longest may go beyond the limit by its
//     frame's whole rest, one frame at a time (at most max_buffered_bytes +
//     max_frame_bytes in all). A frame's memory grows with the bytes that
//     arrived, never with what its header declares (frame.h). Refusing the
//     newest connection instead was rejected: under a burst of large legal
//     requests it turns a delay into an error.
//   * max_calls_per_connection: further requests get Busy.
//   * write_queue_bytes per connection: back-pressure on handlers.
//   * idle_timeout: a connection with no calls in flight, no frame in
//     progress and no complete frame read or written for that long is closed.
//
// Hello (ServerOptions::on_hello): when set, the first frame of every
// connection must be a hello frame (frame.h, FrameKind::kHello); its payload
// goes to on_hello, which returns the peer's id (recorded on the connection:
// ServerCall::peer_id()) or a Status that refuses the connection: the server
// logs it, sends it to the client in an error frame (request id 0) and
// closes. A connection whose first frame is not a hello is refused the same
// way. Without on_hello, hello frames are ignored. A hello after the first
// frame is a protocol error either way.
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
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "tinykv/common/result.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"
#include "tinykv/net/server_call.h"
#include "tinykv/net/stream.h"
#include "tinykv/net/tls.h"

namespace tinykv::net {

// Decides on a connection's hello: the peer's id (any value; 0 means none),
// or the Status that refuses the connection. Runs on the connection's io
// thread; must not block. `peer` is "ip:port".
using HelloHandler = std::function<Result<uint64_t>(Slice hello, const std::string& peer)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS picks; read it back with port()
  int io_threads = 2;
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t max_connections = 1024;
  // Connections that have not completed their handshake (see the class
  // comment); the oldest is closed to make room for a newcomer.
  size_t max_pending_connections = 64;
  // A pending connection is closed this long after it was accepted.
  std::chrono::milliseconds handshake_timeout{3000};
  // A frame in progress must average at least this rate once frame_grace has
  // passed since its first byte. 0 disables the check.
  size_t min_receive_bytes_per_second = 64u << 10;
  std::chrono::milliseconds frame_grace{2000};
  // Memory for large frames in progress, all connections together. At least
  // max_frame_bytes (so any one frame can complete).
  size_t max_buffered_bytes = 64u << 20;
  size_t max_calls_per_connection = 4096;
  size_t write_queue_bytes = 4u << 20;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  // Set: every connection must open with a hello this accepts (class comment).
  HelloHandler on_hello;
  // TLS on every connection (tls.h): Create loads the files (an error names
  // them) and the handshake runs before anything else, bounded by
  // handshake_timeout. Excludes stream_wrapper.
  TlsOptions tls;
  // Turns accepted sockets into Streams (the hook TLS uses, see stream.h).
  StreamWrapper stream_wrapper;  // empty: plain TCP (or TLS, with tls.enabled)
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections with none pending
  uint64_t connections_active = 0;
  uint64_t connections_pending = 0;   // now: accepted, handshake not completed
  uint64_t pending_evicted = 0;       // pending connections closed to make room
  uint64_t handshake_timeouts = 0;    // pending connections closed at handshake_timeout
  uint64_t hellos_refused = 0;        // by on_hello, or a first frame that is not a hello
  uint64_t slow_frames_closed = 0;    // connections closed for a frame below the minimum rate
  uint64_t protocol_errors = 0;       // connections closed for malformed input
  uint64_t idle_closed = 0;
  uint64_t buffered_bytes = 0;        // now: memory of large frames in progress
  uint64_t read_waits = 0;            // reads that waited for max_buffered_bytes
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
  // Creates a server that is not yet listening. InvalidArgument for bad
  // options, including TLS files that cannot be used.
  [[nodiscard]] static Result<std::unique_ptr<RpcServer>> Create(ServerOptions options);
  ~RpcServer();  // Shutdown(0) if still running
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers the handler of a unary method, either
  //   awaitable<Result<M::Response>>(M::Request)                    or
  //   awaitable<Result<M::Response>>(M::Request, const ServerCall&)  (to see
  //   the connection: peer(), peer_id()).
  // REQUIRES: before Start; M::kId not registered yet (checked).
  template <UnaryRpcMethod M, typename Handler>
  void Register(Handler handler) {
    using Req = typename M::Request;
    using Resp = typename M::Response;
    auto h = std::make_shared<Handler>(std::move(handler));
    RegisterEntry(M::kId, internal::MethodEntry{
        std::string(M::kName), false,
        [h](ServerCall* call, Slice payload) -> Result<awaitable<Result<std::string>>> {
          auto req = DecodeMessage<Req>(payload);
          if (!req.ok()) return req.status();
          return RunUnary<Req, Resp>(h, std::move(req).value(), call);
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
  static awaitable<Result<std::string>> RunUnary(std::shared_ptr<Handler> h, Req req,
                                                 ServerCall* server_call) {
    // Each call built in its own statement: GCC 12 co_await argument bug.
    std::optional<Result<Resp>> resp;
    if constexpr (std::is_invocable_v<Handler&, Req, const ServerCall&>) {
      auto call = (*h)(std::move(req), std::as_const(*server_call));
      resp.emplace(co_await std::move(call));
    } else {
      (void)server_call;
      auto call = (*h)(std::move(req));
      resp.emplace(co_await std::move(call));
    }
    if (!resp->ok()) co_return resp->status();
    co_return EncodeMessage(resp->value());
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
