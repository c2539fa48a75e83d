// The peer port's handshake: every connection opens with a hello naming the
// cluster and the sending node; another cluster, no hello, or a batch from
// another node than the hello named, is refused; strangers that connect and
// say nothing cannot lock members out.
#include "tinykv/replica/peer_host.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <vector>

#include "replica/peer_protocol.h"
#include "tinykv/net/client.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica {
namespace {

using internal::PeerHello;
using internal::RaftBatchMethod;
using internal::RaftBatchRequest;

std::unique_ptr<PeerHost> StartHost(uint64_t node_id, uint64_t cluster_id) {
  PeerHostOptions o;
  o.node_id = node_id;
  o.cluster_id = cluster_id;
  o.io_threads = 1;
  return PeerHost::Start(o).value();
}

// An RPC client whose connections open with `hello` (empty: none).
std::unique_ptr<net::RpcClient> PeerClient(std::string hello) {
  net::ClientOptions o;
  o.hello = std::move(hello);
  o.retry.max_attempts = 1;
  return net::RpcClient::Create(o).value();
}

std::string Hello(uint64_t cluster_id, uint64_t node_id) {
  return net::EncodeMessage(PeerHello{internal::kPeerHelloVersion, cluster_id, node_id});
}

// An empty batch from `from` to `to`: passes every check but the handshake's.
RaftBatchRequest EmptyBatch(uint64_t from, uint64_t to) {
  RaftBatchRequest r;
  r.from = from;
  r.to = to;
  return r;
}

TEST(PeerHostHandshake, PeerOfAnotherClusterIsRefusedWithBothIdsNamed) {
  auto host = StartHost(1, 42);
  auto stranger = PeerClient(Hello(43, 2));
  auto r = stranger->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find(
                "cluster id mismatch: node 2 says cluster 000000000000002b, node 1 is in "
                "cluster 000000000000002a"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(host->stats().hellos_refused, 1u);
  // The same node with the right cluster id gets in, and so does a member
  // that joined and has not learned the id (0).
  auto member = PeerClient(Hello(42, 2));
  EXPECT_OK(member->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1)).status());
  auto joined = PeerClient(Hello(0, 3));
  EXPECT_OK(joined->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(3, 1)).status());
  host->Stop();
}

TEST(PeerHostHandshake, UnconfiguredClusterIdAcceptsAnyButStillRequiresAHello) {
  auto host = StartHost(1, 0);
  EXPECT_OK(PeerClient(Hello(99, 2))->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1))
                .status());
  auto silent = PeerClient("");
  auto r = silent->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("requires a hello"), std::string::npos)
      << r.status().ToString();
  // Malformed, node 0, and this node's own id are refused too.
  for (const std::string& bad : {std::string("\x01\x02"), Hello(0, 0), Hello(0, 1)}) {
    EXPECT_TRUE(PeerClient(bad)
                    ->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1))
                    .status()
                    .IsInvalidArgument());
  }
  EXPECT_EQ(host->stats().hellos_refused, 4u);
  host->Stop();
}

// The hello is the connection's identity: a batch naming another sender is
// refused as a whole (the per-message check then never runs).
TEST(PeerHostHandshake, BatchFromAnotherNodeThanTheHelloNamedIsRefused) {
  auto host = StartHost(1, 7);
  auto node2 = PeerClient(Hello(7, 2));
  auto forged = node2->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(3, 1));
  ASSERT_FALSE(forged.ok());
  EXPECT_TRUE(forged.status().IsInvalidArgument()) << forged.status().ToString();
  EXPECT_OK(node2->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(2, 1)).status());
  host->Stop();
}

// More strangers than the RPC layer's connection limit (1024) connect and
// say nothing: a member still gets in at once (strangers are capped at
// kMaxUnauthenticatedPeerConnections; the oldest make room), and so does the
// next member. Before the cap, the 1,100 took every slot.
TEST(PeerHostHandshake, IdleStrangersCannotLockMembersOut) {
  constexpr int kStrangers = 1100;
  // Both ends of every connection live in this process: raise the soft
  // file-descriptor limit if it is too low for that.
  rlimit fds{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &fds), 0);
  const rlim_t needed = 2 * kStrangers + 256;
  if (fds.rlim_cur < needed) {
    if (fds.rlim_max < needed) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << fds.rlim_max;
    fds.rlim_cur = needed;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &fds), 0);
  }
  auto host = StartHost(1, 7);
  net::asio::io_context ctx;
  std::vector<std::unique_ptr<net::asio::ip::tcp::socket>> strangers;
  const auto endpoint =
      net::asio::ip::tcp::endpoint(net::asio::ip::make_address("127.0.0.1"), host->port());
  for (int i = 0; i < kStrangers; ++i) {
    strangers.push_back(std::make_unique<net::asio::ip::tcp::socket>(ctx));
    strangers.back()->connect(endpoint);
  }
  for (uint64_t id : {2, 3}) {
    auto member = PeerClient(Hello(7, id));
    net::CallOptions o;
    o.timeout = std::chrono::seconds(2);  // well inside the strangers' 3 s handshake deadline
    EXPECT_OK(member->CallSync<RaftBatchMethod>(host->address(), EmptyBatch(id, 1), o).status())
        << "member " << id;
  }
  host->Stop();
}

}  // namespace
}  // namespace tinykv::replica
