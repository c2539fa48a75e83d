// HttpServer: routing, 404/405, the request size bound and the read
// deadline, over real loopback sockets.
#include "http_server.h"

#include "tinykv/net/asio.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tinykv::prod {
namespace {

namespace asio = net::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

std::unique_ptr<HttpServer> StartServer(HttpServerOptions options = {}) {
  std::map<std::string, HttpHandler> routes;
  routes["/hello"] = [] { return HttpResponse{200, "text/plain", "hello\n"}; };
  routes["/down"] = [] { return HttpResponse{503, "application/json", "{\"health\":\"false\"}"}; };
  auto s = HttpServer::Start(options, std::move(routes));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

struct Client {
  asio::io_context io;
  tcp::socket socket{io};
  explicit Client(uint16_t port) { socket.connect({asio::ip::make_address("127.0.0.1"), port}); }
  void Send(const std::string& data) { asio::write(socket, asio::buffer(data)); }
  // Everything the server sends until it closes the connection.
  std::string ReadToClose() {
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      const size_t n = socket.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) return out;
    }
  }
};

std::string Get(uint16_t port, const std::string& request) {
  Client c(port);
  c.Send(request);
  return c.ReadToClose();
}

TEST(HttpServer, ServesKnownPathsAndIgnoresTheQuery) {
  auto s = StartServer();
  ASSERT_NE(s, nullptr);
  const std::string r = Get(s->port(), "GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("Content-Type: text/plain\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Length: 6\r\n"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("\r\n\r\nhello\n")) << r;
  const std::string d = Get(s->port(), "GET /down HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(d.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << d;
  EXPECT_TRUE(d.ends_with("{\"health\":\"false\"}")) << d;
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto s = StartServer();
  ASSERT_NE(s, nullptr);
  Client c(s->port());
  c.Send("GET /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
  const std::string r = c.ReadToClose();
  EXPECT_EQ(r.find("HTTP/1.1 200 OK", 1), r.rfind("HTTP/1.1 200 OK")) << r;
  EXPECT_NE(r.find("HTTP/1.1 200 OK", 1), std::string::npos) << r;
}

TEST(HttpServer, UnknownPathIs404AndOtherMethodsAre405) {
  auto s = StartServer();
  ASSERT_NE(s, nullptr);
  const std::string nf = Get(s->port(), "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(nf.starts_with("HTTP/1.1 404 Not Found\r\n")) << nf;
  const std::string na =
      Get(s->port(), "POST /hello HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  EXPECT_TRUE(na.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << na;
  EXPECT_NE(na.find("Allow: GET\r\n"), std::string::npos) << na;
  const std::string bad = Get(s->port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_TRUE(bad.starts_with("HTTP/1.1 400 Bad Request\r\n")) << bad;
}

TEST(HttpServer, OversizeRequestIsRefusedAndClosed) {
  HttpServerOptions o;
  o.max_request_bytes = 1024;
  auto s = StartServer(o);
  ASSERT_NE(s, nullptr);
  const std::string big_header = "X-Pad: " + std::string(4096, 'a') + "\r\n";
  // No "Connection: close": the server must close by itself.
  const std::string r = Get(s->port(), "GET /hello HTTP/1.1\r\n" + big_header + "\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 431 ")) << r.substr(0, 100);
  const std::string body(4096, 'b');
  const std::string rb = Get(s->port(), "GET /hello HTTP/1.1\r\nContent-Length: " +
                                            std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_TRUE(rb.starts_with("HTTP/1.1 413 ")) << rb.substr(0, 100);
  // Just under the bound is served.
  const std::string ok = Get(s->port(), "GET /hello HTTP/1.1\r\nX-Pad: " + std::string(800, 'a') +
                                            "\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok.substr(0, 100);
}

TEST(HttpServer, SlowClientIsClosedAtTheDeadlineAndDoesNotHoldOthers) {
  HttpServerOptions o;
  o.read_timeout = 300ms;
  auto s = StartServer(o);
  ASSERT_NE(s, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Client slow(s->port());
  slow.Send("GET /hello HTTP/1.1\r\nHost: a\r\n");  // never finishes its headers
  // Others are served meanwhile.
  const std::string r = Get(s->port(), "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  // The slow one is closed without an answer, after its deadline (bound:
  // generous for a loaded machine).
  EXPECT_EQ(slow.ReadToClose(), "");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 10s);
  // An idle keep-alive connection is closed by the same deadline.
  Client idle(s->port());
  idle.Send("GET /hello HTTP/1.1\r\n\r\n");
  const std::string first = idle.ReadToClose();
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n")) << first;
}

TEST(HttpServer, ConnectionsAboveTheBoundAreClosed) {
  HttpServerOptions o;
  o.max_connections = 1;
  auto s = StartServer(o);
  ASSERT_NE(s, nullptr);
  Client held(s->port());
  held.Send("GET /hello HTTP/1.1\r\n\r\n");  // keep-alive: stays open
  char buf[256];
  held.socket.read_some(asio::buffer(buf));  // the answer: the connection is counted now
  EXPECT_EQ(Get(s->port(), "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"), "");
  held.socket.close();
}

TEST(HttpServer, AddressInUseIsAnError) {
  auto a = StartServer();
  ASSERT_NE(a, nullptr);
  HttpServerOptions o;
  o.port = a->port();
  auto b = HttpServer::Start(o, {});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().ToString().find(a->address()), std::string::npos) << b.status().ToString();
  auto c = HttpServer::Start(HttpServerOptions{.host = "localhost"}, {});
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
}

}  // namespace
}  // namespace tinykv::prod
