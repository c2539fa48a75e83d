// HttpServer: a small HTTP/1.1 server (Boost.Beast) for tinykv-server's
// monitoring endpoints (--listen-metrics: /metrics, /health, ...). Not a
// general web server: GET only, one handler per exact path, answers built in
// memory.
//
// Contract:
//   * A request's path (its target up to '?') selects the handler; an unknown
//     path is 404, a known one with a method other than GET is 405 (with
//     `Allow: GET`).
//   * Bounded input: the request line + headers, and the body, each at most
//     `max_request_bytes`; a larger request is answered 431 (headers) or 413
//     (body) and its connection closed. A request that does not parse is 400
//     and closed.
//   * Deadlines: each request must arrive whole within `read_timeout` of the
//     connection's start or of the previous answer (keep-alive), and each
//     answer be written within it; otherwise the connection is closed, so a
//     slow or silent client holds nothing but its socket until then. At
//     most `max_connections` are open; more are closed at once.
//   * Handlers run on the server's one thread, one at a time: they must be
//     quick and must not block.
//
// Thread safety: Start/Stop from one thread; address() from any.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "tinykv/common/result.h"

namespace tinykv::prod {

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address
  uint16_t port = 0;               // 0: the OS picks (see port())
  size_t max_request_bytes = 8 * 1024;
  std::chrono::milliseconds read_timeout{5000};
  int max_connections = 64;
};

class HttpServer {
 public:
  // Binds, listens and starts the server's thread. IOError (address in use,
  // ...) or InvalidArgument (host not an IP address) naming the address.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::map<std::string, HttpHandler> routes);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Closes the listener and every connection and joins the thread; answers in
  // progress are dropped. Idempotent.
  void Stop();

  uint16_t port() const;
  std::string address() const;  // "host:port", the bound port

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinykv::prod
