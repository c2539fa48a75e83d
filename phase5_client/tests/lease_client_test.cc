// Leases through the client protocol (lease_protocol.h) on a real
// in-process 3-member cluster: grant, a put attaching keys, time-to-live
// with the keys, revoke deleting them at one revision, the list, etcd's
// error for a missing lease, the background keep-alive; and the wire form of
// PutRequest's trailing lease.
#include <gtest/gtest.h>

#include "fake_cluster.h"
#include "local_cluster_fixture.h"
#include "tinykv/client/lease_keep_alive.h"
#include "tinykv/net/serialization.h"
#include "tinykv/txn/lease.h"

namespace tinykv::client {
namespace {

using namespace std::chrono_literals;

class LeaseClientTest : public LocalClusterTest {};

TEST_F(LeaseClientTest, GrantAttachTimeToLiveAndRevokeAtOneRevision) {
  auto c = NewClient();
  auto lease = c->LeaseGrant(60);
  ASSERT_OK(lease);
  EXPECT_NE(lease->id, 0u);
  EXPECT_EQ(lease->ttl_s, 60u);
  ASSERT_OK(c->PutWithLease("b", "2", lease->id));
  ASSERT_OK(c->PutWithLease("a", "1", lease->id));
  ASSERT_OK(c->Put("plain", "p"));
  auto ttl = c->LeaseTimeToLive(lease->id, true);
  ASSERT_OK(ttl);
  EXPECT_EQ(ttl->granted_ttl_s, 60u);
  EXPECT_GE(ttl->ttl_s, 50u);
  EXPECT_LE(ttl->ttl_s, 60u);
  EXPECT_EQ(ttl->keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c->LeaseTimeToLive(lease->id, false)->keys.empty());
  auto list = c->Leases();
  ASSERT_OK(list);
  EXPECT_EQ(*list, std::vector<uint64_t>{lease->id});

  auto revoked = c->LeaseRevoke(lease->id);
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->deleted, 2u);
  CallOptions before, at;
  before.revision = revoked->revision - 1;
  at.revision = revoked->revision;
  EXPECT_EQ(c->Get("a", before).value(), "1");
  EXPECT_EQ(c->Get("b", before).value(), "2");
  EXPECT_EQ(c->Get("a", at).value(), std::nullopt);
  EXPECT_EQ(c->Get("b", at).value(), std::nullopt);
  EXPECT_EQ(c->Get("plain").value(), "p");
  EXPECT_TRUE(c->Leases()->empty());
}

TEST_F(LeaseClientTest, AMissingLeaseIsEtcdsError) {
  auto c = NewClient();
  auto put = c->PutWithLease("k", "v", 0x1234);
  EXPECT_TRUE(put.status().IsNotFound()) << put.status().ToString();
  EXPECT_EQ(put.status().message(), txn::kLeaseNotFoundMessage);
  EXPECT_EQ(c->Get("k").value(), std::nullopt);
  EXPECT_EQ(c->LeaseRevoke(0x1234).status().message(), txn::kLeaseNotFoundMessage);
  EXPECT_EQ(c->LeaseKeepAliveOnce(0x1234).status().message(), txn::kLeaseNotFoundMessage);
  EXPECT_EQ(c->LeaseTimeToLive(0x1234).status().message(), txn::kLeaseNotFoundMessage);
  EXPECT_TRUE(c->LeaseGrant(0).status().IsInvalidArgument());
  ASSERT_OK(c->LeaseGrant(30, 77));
  EXPECT_TRUE(c->LeaseGrant(30, 77).status().IsAlreadyExists());
}

// A 1 s lease outlives several TTLs while the keeper renews it, and expires
// once it stops. Without the renewals the key is gone within about a second
// (the last check), so the first wait would see it vanish.
TEST_F(LeaseClientTest, TheKeepAliveHelperKeepsALeaseAlive) {
  auto c = NewClient();
  auto lease = c->LeaseGrant(1);
  ASSERT_OK(lease);
  ASSERT_OK(c->PutWithLease("k", "v", lease->id));
  auto keeper = LeaseKeepAlive::Start(c.get(), lease->id);
  ASSERT_OK(keeper);
  const auto start = std::chrono::steady_clock::now();
  // Three seconds and at least 6 renewals (one per 333 ms).
  ASSERT_TRUE(tinykv::testing::WaitUntil(
      [&] {
        EXPECT_EQ(c->Get("k").value(), "v");
        return (*keeper)->renewals() >= 6 && std::chrono::steady_clock::now() - start > 3s;
      },
      30s));
  EXPECT_OK((*keeper)->status());
  (*keeper)->Stop();
  ASSERT_TRUE(
      tinykv::testing::WaitUntil([&] { return !c->Get("k").value().has_value(); }, 30s));
  EXPECT_TRUE(c->LeaseKeepAliveOnce(lease->id).status().IsNotFound());
}

TEST(LeaseProtocol, APutWithoutTheTrailingLeaseDecodesWithNone) {
  PutRequest old;
  old.key = "k";
  old.value = "v";
  std::string bytes = net::EncodeMessage(old);
  bytes.resize(bytes.size() - 9);  // as a client before leases sent it: no lease, no prev_kv
  auto decoded = net::DecodeMessage<PutRequest>(Slice(bytes));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->lease, 0u);
  PutRequest leased = old;
  leased.lease = 0x694d5765fc71500bULL;
  auto back = net::DecodeMessage<PutRequest>(Slice(net::EncodeMessage(leased)));
  ASSERT_OK(back);
  EXPECT_EQ(back->lease, 0x694d5765fc71500bULL);
}

}  // namespace
}  // namespace tinykv::client

namespace tinykv::client {
namespace {

// A server over a plain KvNode (one version per key) keeps no leases: the
// lease methods are not registered there (NotSupported from the RPC
// layer), and a put naming a lease is refused rather than written without it.
TEST(LeaseOnAPlainKvNode, IsNotSupportedAndWritesNothing) {
  testing::FakeCluster c(3, true);
  auto cl = c.NewClient();
  auto grant = cl->LeaseGrant(10);
  EXPECT_TRUE(grant.status().IsNotSupported()) << grant.status().ToString();
  auto put = cl->PutWithLease("k", "v", 7);
  EXPECT_TRUE(put.status().IsNotSupported()) << put.status().ToString();
  EXPECT_EQ(cl->Get("k").value(), std::nullopt);
  EXPECT_OK(cl->Put("k", "v"));  // without a lease: as ever
}

}  // namespace
}  // namespace tinykv::client
