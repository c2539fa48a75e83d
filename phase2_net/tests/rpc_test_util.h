// Helpers shared by the RPC tests: a server running the test service, a
// seeded client, polling with a generous budget, raw-socket readers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_service.h"
#include "tinykv/net/client.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/server.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::net::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct TestServer {
  std::unique_ptr<RpcServer> server;
  std::shared_ptr<CountProbe> probe = std::make_shared<CountProbe>();
  std::string address() const { return server->address(); }
};

inline TestServer StartServer(ServerOptions options = {}) {
  TestServer t;
  auto s = RpcServer::Create(options);
  EXPECT_OK(s);
  t.server = std::move(s).value();
  RegisterTestService(t.server.get(), t.probe);
  EXPECT_OK(t.server->Start());
  return t;
}

inline std::unique_ptr<RpcClient> MakeClient(ClientOptions options = {}) {
  options.seed = ::tinykv::testing::SeedForTest();
  auto c = RpcClient::Create(options);
  EXPECT_OK(c);
  return std::move(c).value();
}

// Polls `cond` for up to `budget` (generous: the machine is shared).
template <typename F>
bool WaitFor(F cond, std::chrono::milliseconds budget = 10s) {
  const auto end = Clock::now() + budget;
  while (Clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// A port with nothing listening on it (bound, then released).
inline uint16_t UnusedPort() {
  asio::io_context ctx;
  asio::ip::tcp::acceptor a(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// Reads frames from a raw socket until EOF.
inline std::vector<Frame> ReadUntilEof(asio::ip::tcp::socket& sock) {
  FrameDecoder d;
  std::vector<Frame> frames;
  char buf[4096];
  boost::system::error_code ec;
  for (;;) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    if (ec) break;
    d.Append(Slice(buf, n));
    for (;;) {
      auto f = d.Next();
      if (!f.ok() || !f->has_value()) break;
      frames.push_back(std::move(**f));
    }
  }
  return frames;
}

inline Status ErrorOf(const Frame& f) {
  auto e = DecodeMessage<ErrorPayload>(f.payload);
  return e.ok() ? Status::FromCode(e->code, e->message) : e.status();
}

}  // namespace tinykv::net::testing
