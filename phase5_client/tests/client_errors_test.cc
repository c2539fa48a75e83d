// What the client answers without retrying: bad input (an empty key, a
// request above kMaxRequestBytes) before anything is sent, and endpoints
// that cannot be reached by a client that never reached any -- while a
// client that has been connected keeps retrying a restarting server.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_cluster.h"
#include "tinykv/client/client.h"
#include "tinykv/client/protocol.h"
#include "tinykv/client/service.h"
#include "tinykv/net/server.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::FakeCluster;
using testing::FakeGroup;
using testing::FakeKvNode;

// One fake node behind the client service on a fixed loopback port, which
// can be stopped and started again on the same port.
class RestartableServer {
 public:
  RestartableServer() : group_(std::make_shared<FakeGroup>()) { Start(0); }
  ~RestartableServer() { Stop(); }
  void Start(uint16_t port) {
    node_ = std::make_unique<FakeKvNode>(1, group_);
    net::ServerOptions so;
    so.port = port;
    so.io_threads = 1;
    server_ = net::RpcServer::Create(so).value();
    RegisterKvService(*server_, *node_, ServiceOptions{});
    ASSERT_OK(server_->Start());
    port_ = server_->port();
  }
  void Stop() {
    if (server_) server_->Shutdown(1s);
    if (node_) node_->Stop();
    server_.reset();
    node_.reset();
  }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::shared_ptr<FakeGroup> group_;
  std::unique_ptr<FakeKvNode> node_;
  std::unique_ptr<net::RpcServer> server_;
  uint16_t port_ = 0;
};

std::unique_ptr<Client> NewClient(std::vector<std::string> endpoints,
                                  std::chrono::milliseconds timeout) {
  ClientOptions o;
  o.endpoints = std::move(endpoints);
  o.timeout = timeout;
  o.seed = tinykv::testing::SeedForTest();
  return Client::Create(o).value();
}

bool Mentions(const Status& s, const std::string& word) {
  return s.ToString().find(word) != std::string::npos;
}

// Endpoints: host:port as is, http:// and https:// URLs reduced to
// host:port (https:// turns TLS on), other schemes refused; with TLS on an
// http:// endpoint is refused rather than spoken to in plaintext.
TEST(ClientInput, EndpointSchemes) {
  for (const auto& [in, want] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:2379", "127.0.0.1:2379"},
           {"localhost:1", "localhost:1"},
           {"[::1]:2379", "[::1]:2379"},
           {"http://127.0.0.1:2379", "127.0.0.1:2379"},
           {"http://10.0.0.4:5000/", "10.0.0.4:5000"},
           {"https://127.0.0.1:2379", "127.0.0.1:2379"},
       }) {
    auto r = ParseEndpoint(in);
    ASSERT_OK(r.status()) << in;
    EXPECT_EQ(*r, want) << in;
  }
  EXPECT_TRUE(IsTlsEndpoint("https://127.0.0.1:2379"));
  EXPECT_FALSE(IsTlsEndpoint("127.0.0.1:2379"));
  for (const char* bad : {"unix://x:1", "grpc://h:1", "http://h", "http://h:1/path", "h:1/",
                          "127.0.0.1", "", "http://"}) {
    EXPECT_TRUE(ParseEndpoint(bad).status().IsInvalidArgument()) << bad;
  }

  ClientOptions o;
  o.endpoints = {"http://127.0.0.1:1", "https://127.0.0.1:2"};
  auto mixed = Client::Create(o);
  ASSERT_TRUE(mixed.status().IsInvalidArgument());
  EXPECT_TRUE(Mentions(mixed.status(), "asks for plaintext, but TLS is on"))
      << mixed.status().ToString();
  o.endpoints = {"http://127.0.0.1:1"};
  o.ca_file = "/nonexistent/ca.pem";  // TLS on by a file: http:// refused the same way
  EXPECT_TRUE(Mentions(Client::Create(o).status(), "asks for plaintext"));
  o.endpoints = {"127.0.0.1:1"};
  auto bad_ca = Client::Create(o);
  EXPECT_TRUE(bad_ca.status().IsInvalidArgument());
  EXPECT_TRUE(Mentions(bad_ca.status(), "/nonexistent/ca.pem")) << bad_ca.status().ToString();
  o.ca_file.clear();
  o.endpoints = {"http://127.0.0.1:1"};
  auto created = Client::Create(o);
  ASSERT_OK(created.status());
  EXPECT_EQ((*created)->endpoints(), std::vector<std::string>{"127.0.0.1:1"});
}

// A member add's addresses are host:port: an https:// one is refused before
// sending (the servers' flags, not the address, say whether peers use TLS).
TEST(ClientInput, MemberAddRefusesAnHttpsPeerAddressBeforeSending) {
  FakeCluster c(1, true);
  auto cl = c.NewClient();
  auto r = cl->MemberAdd(4, "https://127.0.0.1:2480");
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_TRUE(Mentions(r.status(), "write host:port")) << r.status().ToString();
  r = cl->MemberAdd(4, "127.0.0.1:2480", "https://127.0.0.1:2479");
  EXPECT_TRUE(Mentions(r.status(), "write host:port")) << r.status().ToString();
  std::lock_guard<std::mutex> l(c.group().mu);
  EXPECT_TRUE(c.group().member_changes.empty()) << "nothing may reach the leader";
}

TEST(ClientInput, EmptyKeyIsRejectedBeforeSending) {
  FakeCluster c(1, true);
  auto cl = c.NewClient();
  Status puts = cl->Put("", "v");
  EXPECT_TRUE(puts.IsInvalidArgument()) << puts.ToString();
  EXPECT_TRUE(Mentions(puts, "key must not be empty")) << puts.ToString();
  EXPECT_TRUE(cl->Get("").status().IsInvalidArgument());
  EXPECT_TRUE(cl->Delete("").IsInvalidArgument());
  EXPECT_TRUE(cl->Cas("", std::nullopt, "v").status().IsInvalidArgument());
  EXPECT_EQ(cl->stats().attempts, 0u);
  // An empty range bound is not a key: it means "from the start" / "to the end".
  ASSERT_OK(cl->Put("k", "v"));
  auto all = cl->Scan("", "");
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 1u);
}

TEST(ClientInput, RequestAboveTheLimitFailsAtOnceAndOneAtTheLimitIsStored) {
  FakeCluster c(1, true);
  auto cl = c.NewClient({}, 10s);
  const std::string key = "big";
  const std::string too_big(kMaxRequestBytes - key.size() + 1, 'x');
  const auto start = Clock::now();
  Status s = cl->Put(key, too_big);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(Mentions(s, "request too large")) << s.ToString();
  const std::string half(kMaxRequestBytes / 2, 'h');
  auto cas = cl->Cas(key, half, half);  // key + expected + value count together
  EXPECT_TRUE(cas.status().IsInvalidArgument()) << cas.status().ToString();
  EXPECT_TRUE(cl->Get(std::string(kMaxRequestBytes + 1, 'k')).status().IsInvalidArgument());
  EXPECT_EQ(cl->stats().attempts, 0u);  // nothing was sent, nothing retried

  // Exactly at the limit: accepted, stored, read back whole (it fits in a frame).
  const std::string at_limit(kMaxRequestBytes - key.size(), 'y');
  ASSERT_OK(cl->Put(key, at_limit));
  auto v = cl->Get(key);
  ASSERT_OK(v.status());
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ(**v, at_limit);
}

TEST(ClientUnreachable, RefusedEndpointsFailPromptlyNamingEachEndpoint) {
  // Three ports that refuse connections (their servers are gone).
  std::vector<std::string> dead;
  for (int i = 0; i < 3; ++i) {
    RestartableServer srv;
    dead.push_back(srv.address());
  }
  for (size_t n : {size_t{1}, size_t{3}}) {
    auto cl = NewClient({dead.begin(), dead.begin() + static_cast<long>(n)}, 10s);
    const auto start = Clock::now();
    Status s = cl->Put("k", "v");
    // Backoffs between the attempts are at most tens of milliseconds; the
    // deadline is 10 s. 2 s is headroom for a loaded machine.
    EXPECT_LT(Clock::now() - start, 2s) << s.ToString();
    EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
    EXPECT_TRUE(Mentions(s, "could not reach")) << s.ToString();
    for (size_t i = 0; i < n; ++i) EXPECT_TRUE(Mentions(s, dead[i])) << s.ToString();
  }
}

TEST(ClientUnreachable, OneLiveEndpointAmongRefusedOnesServes) {
  FakeCluster c(1, true);
  std::string dead;
  {
    RestartableServer srv;
    dead = srv.address();
  }
  auto cl = NewClient({dead, dead, c.address(1)}, 10s);
  for (int i = 0; i < 5; ++i) ASSERT_OK(cl->Put("k" + std::to_string(i), "v"));
}

TEST(ClientUnreachable, AConnectedClientRetriesWhileItsServerRestarts) {
  RestartableServer srv;
  auto cl = NewClient({srv.address()}, 10s);
  ASSERT_OK(cl->Put("k", "v1"));  // connected once
  const uint16_t port = srv.port();
  srv.Stop();
  // While the server is gone every connection is refused; the client must
  // keep trying (a restart, not a wrong address). The server comes back on
  // the same port once the client has been refused at least twice.
  auto put = std::async(std::launch::async, [&] { return cl->Put("k", "v2"); });
  const auto give_up = Clock::now() + 8s;
  while (cl->stats().attempts < 3 && Clock::now() < give_up) std::this_thread::sleep_for(1ms);
  ASSERT_GE(cl->stats().attempts, 3u) << "the client gave up instead of retrying";
  srv.Start(port);
  ASSERT_OK(put.get());
  auto v = cl->Get("k");
  ASSERT_OK(v.status());
  EXPECT_EQ(v->value_or(""), "v2");
}

}  // namespace
}  // namespace tinykv::client
