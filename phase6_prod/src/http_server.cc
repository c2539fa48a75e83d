// HttpServer (http_server.h): an acceptor and one coroutine per connection on
// one io_context and thread. Beast's tcp_stream carries the deadline of every
// read and write (expires_after), and its request_parser the size limits, so
// neither a slow client nor a huge one costs more than a socket and a bounded
// buffer until its deadline.
#include "http_server.h"

#include "tinykv/net/asio.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "tinykv/net/address.h"
#include "tinykv/net/stream.h"

namespace tinykv::prod {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpServer::Impl {
  HttpServerOptions options;
  std::map<std::string, HttpHandler> routes;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;
  int connections = 0;  // io thread
  bool stopped = false;

  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(tcp::socket socket);
  http::response<http::string_body> Answer(const http::request<http::string_body>& req);
};

namespace {

http::response<http::string_body> Plain(unsigned status, std::string body) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

}  // namespace

http::response<http::string_body> HttpServer::Impl::Answer(
    const http::request<http::string_body>& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string path(target.substr(0, target.find('?')));
  auto route = routes.find(path);
  if (route == routes.end()) return Plain(404, "404 page not found\n");
  if (req.method() != http::verb::get) {
    auto res = Plain(405, "405 method not allowed\n");
    res.set(http::field::allow, "GET");
    return res;
  }
  HttpResponse r = route->second();
  http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::content_type, r.content_type);
  res.body() = std::move(r.body);
  return res;
}

asio::awaitable<void> HttpServer::Impl::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_request_bytes));
    parser.body_limit(options.max_request_bytes);
    stream.expires_after(options.read_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    http::response<http::string_body> res;
    bool keep_alive = false;
    if (!ec) {
      const auto& req = parser.get();
      res = Answer(req);
      keep_alive = req.keep_alive();
    } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      res = Plain(431, "431 request header fields too large\n");
    } else if (ec == http::error::body_limit) {
      res = Plain(413, "413 request entity too large\n");
    } else if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
               ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
               ec == asio::error::eof) {
      break;  // closed, silent past its deadline, or stopped: nothing to answer
    } else {
      res = Plain(400, "400 bad request\n");
    }
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(options.read_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive || stopped) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.close();
  --connections;
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  for (;;) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (stopped || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. the client reset before accept: keep serving
    if (connections >= options.max_connections) {
      socket.close(ec);  // over the bound: refused by closing
      continue;
    }
    ++connections;
    asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      std::map<std::string, HttpHandler> routes) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->routes = std::move(routes);
  const std::string where = net::HostPort{options.host, options.port}.ToString();
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return Status::InvalidArgument("'" + where + "': the host must be an IP address");
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return net::ErrorCodeToStatus(ec, "listen on " + where);
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(impl->io, impl->Accept(), asio::detached);
  impl->thread = std::thread([io = &impl->io] { io->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  // stop() abandons the coroutines where they wait; their frames (and
  // sockets) are destroyed with the io_context.
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->stopped = true;
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->io.stop();
  });
  impl_->thread.join();
}

uint16_t HttpServer::port() const { return impl_->port; }

std::string HttpServer::address() const {
  return net::HostPort{impl_->options.host, impl_->port}.ToString();
}

}  // namespace tinykv::prod
