// End-to-end RPC behaviour over loopback: multiplexing, out-of-order
// answers, streams and their cancellation, deadlines, reconnects, graceful
// shutdown, limits, hostile bytes and the retry rules.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "rpc_test_util.h"
#include "test_service.h"
#include "tinykv/net/client.h"
#include "tinykv/net/server.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::net {
namespace {

using namespace std::chrono_literals;
using testing::AppendMethod;
using testing::CountItem;
using testing::CountMethod;
using testing::CountProbe;
using testing::CountRequest;
using testing::EchoMethod;
using testing::EchoRequest;
using testing::EchoResponse;
using testing::ErrorOf;
using testing::MakeClient;
using testing::ReadUntilEof;
using testing::StartServer;
using testing::TestServer;
using testing::UnusedPort;
using testing::WaitFor;
using Clock = std::chrono::steady_clock;

TEST(Rpc, UnaryCallRoundTrips) {
  auto srv = StartServer();
  auto client = MakeClient();
  auto r = client->CallSync<EchoMethod>(srv.address(), EchoRequest{"hello"});
  ASSERT_OK(r);
  EXPECT_EQ(r->data, "hello");
  const std::string big(1 << 20, '\xab');
  auto r2 = client->CallSync<EchoMethod>(srv.address(), EchoRequest{big});
  ASSERT_OK(r2);
  EXPECT_EQ(r2->data, big);
}

TEST(Rpc, CoroutineCallerGetsItsAnswer) {
  auto srv = StartServer();
  auto client = MakeClient();
  asio::io_context caller;
  std::optional<Result<EchoResponse>> got;
  asio::co_spawn(
      caller,
      [&]() -> awaitable<void> {
        auto call = client->Call<EchoMethod>(srv.address(), EchoRequest{"co"});
        got.emplace(co_await std::move(call));
      },
      asio::detached);
  caller.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_OK(*got);
  EXPECT_EQ((*got)->data, "co");
}

TEST(Rpc, ResponsesArriveOutOfOrderAndMatchTheirCallers) {
  auto srv = StartServer();
  auto client = MakeClient();
  const std::vector<uint32_t> delays = {600, 300, 0};
  std::vector<std::future<Result<EchoResponse>>> futures;
  std::mutex mu;
  std::vector<int> completion_order;
  for (size_t i = 0; i < delays.size(); ++i) {
    futures.push_back(std::async(std::launch::async, [&, i] {
      auto r = client->CallSync<EchoMethod>(srv.address(),
                                            EchoRequest{"call-" + std::to_string(i), delays[i]});
      std::lock_guard<std::mutex> lock(mu);
      completion_order.push_back(static_cast<int>(i));
      return r;
    }));
  }
  for (size_t i = 0; i < futures.size(); ++i) {
    auto r = futures[i].get();
    ASSERT_OK(r);
    EXPECT_EQ(r->data, "call-" + std::to_string(i));
  }
  EXPECT_EQ(completion_order, (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(srv.server->stats().connections_accepted, 1u) << "calls were not multiplexed";
}

TEST(Rpc, ManyConcurrentCallsOnOneConnection) {
  auto srv = StartServer();
  auto client = MakeClient();
  asio::io_context caller;
  int ok = 0;
  for (int i = 0; i < 500; ++i) {
    asio::co_spawn(
        caller,
        [&, i]() -> awaitable<void> {
          auto call = client->Call<EchoMethod>(srv.address(), EchoRequest{std::to_string(i)});
          auto r = co_await std::move(call);
          if (r.ok() && r->data == std::to_string(i)) ++ok;
        },
        asio::detached);
  }
  caller.run();
  EXPECT_EQ(ok, 500);
}

TEST(Rpc, UnknownMethodIsNotSupportedAndConnectionSurvives) {
  auto srv = StartServer();
  auto client = MakeClient();
  auto r = client->CallSync<testing::MissingMethod>(srv.address(), EchoRequest{"?"});
  EXPECT_TRUE(r.status().IsNotSupported()) << r.status().ToString();
  EXPECT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"still here"}));
  EXPECT_EQ(srv.server->stats().connections_accepted, 1u);
}

TEST(Rpc, HandlerStatusReachesTheCaller) {
  auto srv = StartServer();
  auto client = MakeClient();
  auto r = client->CallSync<EchoMethod>(
      srv.address(), EchoRequest{"k1", 0, static_cast<uint8_t>(Status::Code::kNotFound)});
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "asked to fail: k1");
}

TEST(RpcStream, DeliversEveryItemInOrder) {
  auto srv = StartServer();
  auto client = MakeClient();
  std::vector<uint32_t> seen;
  Status s = client->CallStreamSync<CountMethod>(srv.address(), CountRequest{1000, 0, 10},
                                                 [&](CountItem item) {
                                                   seen.push_back(item.i);
                                                   return Status::OK();
                                                 });
  ASSERT_OK(s);
  ASSERT_EQ(seen.size(), 1000u);
  for (uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(seen[i], i);
}

TEST(RpcStream, CancelledHalfWayStopsTheServerHandler) {
  auto srv = StartServer();
  auto client = MakeClient();
  int received = 0;
  Status s = client->CallStreamSync<CountMethod>(
      srv.address(), CountRequest{100000, 1, 0}, [&](CountItem) {
        return ++received == 5 ? Status::Cancelled("enough") : Status::OK();
      });
  EXPECT_TRUE(s.IsCancelled()) << s.ToString();
  EXPECT_EQ(received, 5);
  ASSERT_TRUE(WaitFor([&] { return srv.probe->finished.load(); }))
      << "handler kept streaming after the client cancelled";
  EXPECT_TRUE(srv.probe->stopped_by_cancel.load());
  EXPECT_LT(srv.probe->written.load(), 100000u);
  EXPECT_GE(srv.server->stats().calls_cancelled, 1u);
  EXPECT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"after"}));
}

TEST(RpcStream, TokenCancelsAStreamFromAnotherThread) {
  auto srv = StartServer();
  auto client = MakeClient();
  CallOptions opts;
  opts.cancel = std::make_shared<CancellationToken>();
  std::atomic<int> received{0};
  std::thread canceller([&] {
    WaitFor([&] { return received.load() >= 3; });
    opts.cancel->Cancel();
  });
  Status s = client->CallStreamSync<CountMethod>(srv.address(), CountRequest{100000, 2, 0},
                                                 [&](CountItem) {
                                                   received.fetch_add(1);
                                                   return Status::OK();
                                                 },
                                                 opts);
  canceller.join();
  EXPECT_TRUE(s.IsCancelled()) << s.ToString();
  ASSERT_TRUE(WaitFor([&] { return srv.probe->finished.load(); }));
  EXPECT_TRUE(srv.probe->stopped_by_cancel.load());
}

TEST(RpcDeadline, FiresWhileTheServerIsSlow) {
  auto srv = StartServer();
  auto client = MakeClient();
  CallOptions opts;
  opts.timeout = 150ms;
  const auto start = Clock::now();
  auto r = client->CallSync<EchoMethod>(srv.address(), EchoRequest{"slow", 5000}, opts);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(r.status().IsTimeout()) << r.status().ToString();
  EXPECT_LT(elapsed, 4000ms);  // long before the handler's 5 s
  EXPECT_GE(elapsed, 140ms);
  // The connection is still good, and the late answer is ignored.
  EXPECT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"fast"}));
  EXPECT_EQ(client->stats().timeouts, 1u);
}

TEST(RpcDeadline, TokenCancelsAUnaryCall) {
  auto srv = StartServer();
  auto client = MakeClient();
  CallOptions opts;
  opts.cancel = std::make_shared<CancellationToken>();
  std::thread t([&] {
    std::this_thread::sleep_for(50ms);
    opts.cancel->Cancel();
  });
  auto r = client->CallSync<EchoMethod>(srv.address(), EchoRequest{"x", 5000}, opts);
  t.join();
  EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
}

TEST(RpcReconnect, ClientReconnectsAfterTheServerRestarts) {
  auto srv = StartServer();
  const std::string address = srv.address();
  auto client = MakeClient();
  ASSERT_OK(client->CallSync<EchoMethod>(address, EchoRequest{"one"}));
  srv.server->Shutdown(1s);
  // Down: a non-idempotent call fails fast with Unavailable.
  CallOptions once;
  once.max_attempts = 1;
  auto down = client->CallSync<AppendMethod>(address, EchoRequest{"down"}, once);
  EXPECT_TRUE(down.status().IsUnavailable()) << down.status().ToString();
  // Back up on the same port.
  ServerOptions o;
  o.port = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  auto again = StartServer(o);
  auto r = client->CallSync<EchoMethod>(address, EchoRequest{"two"});
  ASSERT_OK(r);
  EXPECT_EQ(r->data, "two");
  EXPECT_EQ(client->stats().connects, 2u);
}

TEST(RpcShutdown, InFlightCallsFinishWithinTheDrainDeadline) {
  auto srv = StartServer();
  auto client = MakeClient();
  std::vector<std::future<Result<EchoResponse>>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return client->CallSync<AppendMethod>(srv.address(), EchoRequest{std::to_string(i), 300});
    }));
  }
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().calls_started == 3; }));
  srv.server->Shutdown(5s);
  for (int i = 0; i < 3; ++i) {
    auto r = calls[i].get();
    ASSERT_OK(r);
    EXPECT_EQ(r->data, std::to_string(i));
  }
  // After shutdown nothing listens: a new call fails cleanly.
  CallOptions once;
  once.max_attempts = 1;
  EXPECT_TRUE(client->CallSync<AppendMethod>(srv.address(), EchoRequest{"late"}, once)
                  .status()
                  .IsUnavailable());
}

TEST(RpcShutdown, RequestRefusedWhileDrainingIsRetriedEvenIfNotIdempotent) {
  auto srv = StartServer();
  ClientOptions o;
  o.retry.max_attempts = 2;
  o.retry.initial_backoff = 1ms;
  auto client = MakeClient(o);
  // Keep the connection busy so the drain holds it open.
  auto slow = std::async(std::launch::async, [&] {
    return client->CallSync<EchoMethod>(srv.address(), EchoRequest{"slow", 1500});
  });
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().calls_started == 1; }));
  std::thread stopper([&] { srv.server->Shutdown(5s); });
  // Wait until the drain has begun on this very connection (the one the
  // write will use): a probe on it is refused with Unavailable. The probe is
  // idempotent and single-attempt, so it adds no retries of its own.
  CallOptions probe;
  probe.max_attempts = 1;
  ASSERT_TRUE(WaitFor([&] {
    return client->CallSync<EchoMethod>(srv.address(), EchoRequest{"probe"}, probe)
        .status()
        .IsUnavailable();
  }));
  ASSERT_EQ(client->stats().retries, 0u);
  auto r = client->CallSync<AppendMethod>(srv.address(), EchoRequest{"write"});
  // Attempt 1: refused by the draining server, marked not executed -> retried;
  // attempt 2: nothing accepts connections any more.
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_EQ(client->stats().retries, 1u);
  ASSERT_OK(slow.get());
  stopper.join();
}

TEST(RpcShutdown, CallsPastTheDrainDeadlineGetCancelled) {
  auto srv = StartServer();
  auto client = MakeClient();
  std::vector<std::future<Result<EchoResponse>>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      CallOptions opts;
      opts.timeout = 20s;
      return client->CallSync<AppendMethod>(srv.address(), EchoRequest{"slow", 15000}, opts);
    }));
  }
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().calls_started == 3; }));
  const auto start = Clock::now();
  srv.server->Shutdown(100ms);
  for (auto& f : calls) {
    auto r = f.get();
    EXPECT_TRUE(r.status().IsCancelled()) << r.status().ToString();
    EXPECT_NE(r.status().ToString().find("shut down"), std::string::npos);
  }
  EXPECT_LT(Clock::now() - start, 10s);
}

TEST(RpcShutdown, ClientShutdownFailsPendingCallsWithCancelled) {
  auto srv = StartServer();
  auto client = MakeClient();
  auto f = std::async(std::launch::async, [&] {
    return client->CallSync<EchoMethod>(srv.address(), EchoRequest{"x", 5000});
  });
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().calls_started == 1; }));
  client->Shutdown();
  EXPECT_TRUE(f.get().status().IsCancelled());
  EXPECT_TRUE(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"y"}).status().IsCancelled());
}

TEST(RpcLimits, ConnectionsBeyondTheLimitAreRejected) {
  ServerOptions o;
  o.max_connections = 1;
  auto srv = StartServer(o);
  auto a = MakeClient();
  auto b = MakeClient();
  ASSERT_OK(a->CallSync<EchoMethod>(srv.address(), EchoRequest{"a"}));
  CallOptions once;
  once.max_attempts = 1;
  auto r = b->CallSync<EchoMethod>(srv.address(), EchoRequest{"b"}, once);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsResourceExhausted() || r.status().IsUnavailable())
      << r.status().ToString();
  EXPECT_EQ(srv.server->stats().connections_rejected, 1u);
  EXPECT_OK(a->CallSync<EchoMethod>(srv.address(), EchoRequest{"a again"}));
}

TEST(RpcLimits, IdleConnectionsAreClosedAndClientsReconnect) {
  ServerOptions o;
  o.idle_timeout = 100ms;
  auto srv = StartServer(o);
  auto client = MakeClient();
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"a"}));
  ASSERT_TRUE(WaitFor([&] { return srv.server->stats().idle_closed == 1; }));
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"b"}));
  EXPECT_EQ(client->stats().connects, 2u);
}

TEST(RpcLimits, BusyConnectionIsNotClosedAsIdle) {
  ServerOptions o;
  o.idle_timeout = 100ms;
  auto srv = StartServer(o);
  auto client = MakeClient();
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"a", 600}));
  EXPECT_EQ(client->stats().connects, 1u);
}

TEST(RpcLimits, SlowReaderBackPressuresTheStreamingHandler) {
  ServerOptions o;
  o.write_queue_bytes = 64 << 10;
  auto srv = StartServer(o);
  // A raw client that sends one Count request and never reads.
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  sock.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv.server->port()));
  const uint32_t kItems = 4000, kItemBytes = 16 << 10;  // 64 MiB if nothing pushed back
  const std::string req = EncodeFrame(FrameKind::kRequest, 1, CountMethod::kId,
                                      EncodeMessage(CountRequest{kItems, 0, kItemBytes}));
  asio::write(sock, asio::buffer(req));
  std::this_thread::sleep_for(500ms);
  const uint32_t written = srv.probe->written.load();
  EXPECT_LT(written, kItems / 2) << "handler was not slowed down by a reader that never reads";
  EXPECT_FALSE(srv.probe->finished.load());
  sock.close();
  ASSERT_TRUE(WaitFor([&] { return srv.probe->finished.load(); }));
  EXPECT_TRUE(srv.probe->stopped_by_cancel.load());
}

struct HostileCase {
  const char* name;
  std::string bytes;
  Status::Code expected;
  uint64_t expected_request_id;
};

TEST(RpcHostile, MalformedInputClosesOnlyThatConnection) {
  auto srv = StartServer();
  auto client = MakeClient();
  ASSERT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{"before"}));
  std::string bad_crc = EncodeFrame(FrameKind::kRequest, 7, EchoMethod::kId,
                                    EncodeMessage(EchoRequest{"x"}));
  bad_crc.back() ^= 1;
  std::string huge = EncodeFrame(FrameKind::kRequest, 7, EchoMethod::kId, Slice());
  huge[16] = huge[17] = huge[18] = huge[19] = '\xff';
  const std::vector<HostileCase> cases = {
      {"garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", Status::Code::kCorruption, 0},
      {"bad checksum", bad_crc, Status::Code::kCorruption, 0},
      {"oversized", huge, Status::Code::kResourceExhausted, 0},
      {"undecodable payload", EncodeFrame(FrameKind::kRequest, 7, EchoMethod::kId, "\x01\x02"),
       Status::Code::kCorruption, 7},
      {"response from client", EncodeFrame(FrameKind::kResponse, 7, 0, ""),
       Status::Code::kCorruption, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context ctx;
    asio::ip::tcp::socket sock(ctx);
    sock.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), srv.server->port()));
    asio::write(sock, asio::buffer(c.bytes));
    auto frames = ReadUntilEof(sock);  // the server must close the connection
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].header.kind, FrameKind::kError);
    EXPECT_EQ(frames[0].header.request_id, c.expected_request_id);
    EXPECT_EQ(ErrorOf(frames[0]).code(), c.expected) << ErrorOf(frames[0]).ToString();
    // Everyone else is still served, on the same long-lived connection.
    EXPECT_OK(client->CallSync<EchoMethod>(srv.address(), EchoRequest{c.name}));
  }
  EXPECT_EQ(srv.server->stats().protocol_errors, cases.size());
  EXPECT_EQ(client->stats().connects, 1u);
}

// A fake server that accepts, reads a request, and drops the connection
// without answering: the request reached it, but no answer came back.
class DroppingServer {
 public:
  DroppingServer() : acceptor_(ctx_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        asio::ip::tcp::socket s(ctx_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) return;
        char buf[1024];
        s.read_some(asio::buffer(buf), ec);
        if (!ec) requests_.fetch_add(1);
        s.close(ec);
      }
    });
  }
  ~DroppingServer() {
    stop_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(ctx_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  int requests() const { return requests_.load(); }

 private:
  asio::io_context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(RpcRetry, NonIdempotentCallThatReachedTheServerIsNotRetried) {
  DroppingServer fake;
  auto client = MakeClient();
  auto r = client->CallSync<AppendMethod>(fake.address(), EchoRequest{"write"});
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_EQ(fake.requests(), 1);
  EXPECT_EQ(client->stats().retries, 0u);
}

TEST(RpcRetry, IdempotentCallIsRetriedUpToMaxAttempts) {
  DroppingServer fake;
  ClientOptions o;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = 5ms;
  auto client = MakeClient(o);
  auto r = client->CallSync<EchoMethod>(fake.address(), EchoRequest{"read"});
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return fake.requests() == 3; }));
  EXPECT_EQ(client->stats().retries, 2u);
}

TEST(RpcRetry, CallOptionsCanMarkAWriteIdempotent) {
  DroppingServer fake;
  ClientOptions o;
  o.retry.max_attempts = 2;
  o.retry.initial_backoff = 5ms;
  auto client = MakeClient(o);
  CallOptions opts;
  opts.idempotent = true;
  EXPECT_FALSE(client->CallSync<AppendMethod>(fake.address(), EchoRequest{"w"}, opts).ok());
  EXPECT_TRUE(WaitFor([&] { return fake.requests() == 2; }));
}

TEST(RpcRetry, CallThatNeverReachedTheServerIsRetriedEvenIfNotIdempotent) {
  ClientOptions o;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = 5ms;
  auto client = MakeClient(o);
  const std::string nowhere = "127.0.0.1:" + std::to_string(UnusedPort());
  auto r = client->CallSync<AppendMethod>(nowhere, EchoRequest{"w"});
  EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
  EXPECT_EQ(client->stats().retries, 2u);
  EXPECT_EQ(client->stats().connect_failures, 3u);
}

TEST(RpcRetry, RetrySucceedsOnceTheServerComesUp) {
  const uint16_t port = UnusedPort();
  ClientOptions o;
  o.retry.max_attempts = 50;
  o.retry.initial_backoff = 20ms;
  o.retry.max_backoff = 100ms;
  auto client = MakeClient(o);
  TestServer late;
  std::thread starter([&] {
    std::this_thread::sleep_for(300ms);
    ServerOptions so;
    so.port = port;
    late = StartServer(so);
  });
  CallOptions opts;
  opts.timeout = 10s;
  auto r = client->CallSync<AppendMethod>("127.0.0.1:" + std::to_string(port),
                                          EchoRequest{"eventually"}, opts);
  starter.join();
  ASSERT_OK(r);
  EXPECT_GT(client->stats().retries, 0u);
}

TEST(RpcPool, SpreadsCallsOverUpToMaxConnectionsPerPeer) {
  auto srv = StartServer();
  ClientOptions o;
  o.max_connections_per_peer = 3;
  o.io_threads = 2;
  auto client = MakeClient(o);
  std::vector<std::future<Result<EchoResponse>>> calls;
  for (int i = 0; i < 12; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      return client->CallSync<EchoMethod>(srv.address(), EchoRequest{"p", 200});
    }));
  }
  for (auto& f : calls) EXPECT_OK(f.get());
  EXPECT_GE(srv.server->stats().connections_accepted, 2u);
  EXPECT_LE(srv.server->stats().connections_accepted, 3u);
}

TEST(RpcServerStart, PortInUseIsAnErrorNotACrash) {
  auto first = StartServer();
  ServerOptions o;
  o.port = first.server->port();
  auto second = RpcServer::Create(o);
  ASSERT_OK(second);
  Status s = (*second)->Start();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find(std::to_string(o.port)), std::string::npos);
  EXPECT_OK(MakeClient()->CallSync<EchoMethod>(first.address(), EchoRequest{"first"}));
}

TEST(RpcServerStart, BadOptionsAreInvalidArgument) {
  ServerOptions o;
  o.io_threads = 0;
  EXPECT_TRUE(RpcServer::Create(o).status().IsInvalidArgument());
  ServerOptions p;
  p.max_frame_bytes = 10;
  EXPECT_TRUE(RpcServer::Create(p).status().IsInvalidArgument());
  ClientOptions c;
  c.retry.max_attempts = 0;
  EXPECT_TRUE(RpcClient::Create(c).status().IsInvalidArgument());
}

TEST(RpcAddress, MalformedAddressIsInvalidArgument) {
  auto client = MakeClient();
  EXPECT_TRUE(client->CallSync<EchoMethod>("no-port", EchoRequest{}).status().IsInvalidArgument());
  EXPECT_TRUE(
      client->CallSync<EchoMethod>("127.0.0.1:99999", EchoRequest{}).status().IsInvalidArgument());
}

}  // namespace
}  // namespace tinykv::net
