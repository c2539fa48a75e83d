// Wire round trips of every client message, NotLeader hints, key helpers.
#include "tinykv/client/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>

#include "tinykv/client/client.h"
#include "tinykv/net/serialization.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::client {
namespace {

// `trailing`: the sizes of the message's trailing fields (net::TrailingField)
// counted from the end, whose absence is allowed (a message from an older
// version): a cut that many bytes before the end decodes.
template <typename T>
T RoundTrip(const T& in, std::initializer_list<size_t> trailing = {}) {
  std::string bytes = net::EncodeMessage(in);
  auto out = net::DecodeMessage<T>(bytes);
  EXPECT_OK(out.status());
  // Every other strict prefix fails to decode (no silent truncation).
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    if (std::find(trailing.begin(), trailing.end(), bytes.size() - cut) != trailing.end()) continue;
    EXPECT_FALSE(net::DecodeMessage<T>(Slice(bytes.data(), cut)).ok()) << cut;
  }
  return out.ok() ? *out : T{};
}

TEST(ClientProtocol, RequestsRoundTrip) {
  PutRequest put{std::string("k\0\xff", 3), "value", WriteId{7, 9}, 1234, 0x694d5765fc71500bULL};
  put.prev_kv = true;
  // Without prev_kv, or without it and the lease: an older client's.
  PutRequest p2 = RoundTrip(put, {1, 9});
  EXPECT_TRUE(p2.prev_kv);
  EXPECT_EQ(p2.lease, 0x694d5765fc71500bULL);
  EXPECT_EQ(p2.key, put.key);
  EXPECT_EQ(p2.value, "value");
  EXPECT_EQ(p2.id.client_id, 7u);
  EXPECT_EQ(p2.id.request_seq, 9u);
  EXPECT_EQ(p2.timeout_ms, 1234u);

  CasRequest cas{"k", true, "old", "new", WriteId{1, 2}, 5, 0x694d5765fc71500bULL};
  CasRequest c2 = RoundTrip(cas, {8});  // without the lease: an older client's
  EXPECT_TRUE(c2.has_expected);
  EXPECT_EQ(c2.expected, "old");
  EXPECT_EQ(c2.value, "new");
  EXPECT_EQ(c2.lease, 0x694d5765fc71500bULL);
  const std::string full = net::EncodeMessage(cas);
  auto old_client = net::DecodeMessage<CasRequest>(Slice(full.data(), full.size() - 8));
  ASSERT_OK(old_client.status());
  EXPECT_EQ(old_client->lease, 0u);

  ScanRequest scan{"a", "z", 10, true, true, 3, 77};
  ScanRequest s2 = RoundTrip(scan, {8});  // without the revision: an older client's
  EXPECT_EQ(s2.revision, 77u);
  EXPECT_EQ(s2.start, "a");
  EXPECT_EQ(s2.end, "z");
  EXPECT_EQ(s2.limit, 10u);
  EXPECT_TRUE(s2.keys_only);
  EXPECT_TRUE(s2.serializable);

  GetRequest get{"k", true, 9, 5};
  GetRequest g2 = RoundTrip(get, {8});
  EXPECT_TRUE(g2.serializable);
  EXPECT_EQ(g2.revision, 5u);
  TxnRequest txn{std::string("\x01\x02\0", 3), 100};
  EXPECT_EQ(RoundTrip(txn).command, txn.command);
  EXPECT_EQ(RoundTrip(TsoRequest{3}).count, 3u);
  DeleteRangeRequest dr{"a", "b", WriteId{3, 4}, 0, true};
  DeleteRangeRequest dr2 = RoundTrip(dr, {1});
  EXPECT_EQ(dr2.end, "b");
  EXPECT_TRUE(dr2.prev_kv);
  DeleteRequest del{"k", WriteId{3, 5}, 0, true};
  EXPECT_TRUE(RoundTrip(del, {1}).prev_kv);
}

// The worked example of doc/protocol.md, byte for byte: the wire format is
// a contract with other clients.
TEST(ClientProtocol, PutRequestBytesMatchTheDocumentedExample) {
  PutRequest put{"k", "v", WriteId{7, 1}, 1000};
  const std::string expected(
      "\x01\0\0\0\0\0\0\0"
      "k"
      "\x01\0\0\0\0\0\0\0"
      "v"
      "\x07\0\0\0\0\0\0\0"
      "\x01\0\0\0\0\0\0\0"
      "\xe8\x03\0\0"
      "\0\0\0\0\0\0\0\0"
      "\0",
      47);
  EXPECT_EQ(net::EncodeMessage(put), expected);
  EXPECT_EQ(PutMethod::kId, 502u);
  EXPECT_EQ(PutMethod::kName, "tinykv.Put");
}

TEST(ClientProtocol, ResponsesRoundTrip) {
  ScanResponse scan;
  scan.kvs = {{"a", "1"}, {"b", std::string(1000, 'x')}};
  scan.more = true;
  scan.next_key = KeySuccessor("b");
  scan.revision = 9;
  scan.metas = {{3, 5, 2, 0}, {4, 4, 1, 0x694d5765fc71500bULL}};
  scan.header = {0x5c2f00000000002aULL, 2, 7};
  // Each trailing field may be absent (an older server's): the header (24
  // bytes), then the metas, then the revision.
  ScanResponse s2 = RoundTrip(scan, {24, 24 + 8 + 2 * 32, 24 + 8 + 8 + 2 * 32});
  EXPECT_EQ(s2.header, scan.header);
  EXPECT_EQ(s2.revision, 9u);
  EXPECT_EQ(s2.kvs, scan.kvs);
  EXPECT_EQ(s2.metas, scan.metas);
  EXPECT_TRUE(s2.more);
  EXPECT_EQ(s2.next_key, std::string("b\0", 2));

  StatusResponse st{1, 2, 3, "follower", 10, 9, 1, 11, "127.0.0.1:2379", "127.0.0.1:22379"};
  // Without the version, then the watch counts (one, or both), then alarm
  // (""), then cluster_id too.
  StatusResponse st2 = RoundTrip(st, {8, 16, 24, 32, 40});
  EXPECT_EQ(st2.role, "follower");
  EXPECT_EQ(st2.applied_index, 9u);
  EXPECT_EQ(st2.leader_client_address, "127.0.0.1:22379");

  MemberListResponse ml;
  ml.members = {{1, "127.0.0.1:2380", "127.0.0.1:2379", false}, {4, "p", "", true}};
  ml.leader = 1;
  MemberListResponse ml2 = RoundTrip(ml);
  ASSERT_EQ(ml2.members.size(), 2u);
  EXPECT_TRUE(ml2.members[1].learner);

  CasResponse cas{false, true, "cur", 42, 43};
  CasResponse c2 = RoundTrip(cas, {8});
  EXPECT_EQ(c2.revision, 43u);
  EXPECT_FALSE(c2.succeeded);
  EXPECT_EQ(c2.current, "cur");
  EXPECT_EQ(c2.index, 42u);

  EXPECT_EQ(RoundTrip(WriteResponse{4, 5, {}, {}}, {24, 32, 40, 48}).revision, 5u);
  WriteResponse prev{4, 5, {{"k", "old", {}}}, {{1, 2, 2, 0}}, {9, 3, 4}};
  WriteResponse prev2 =
      RoundTrip(prev, {24, 24 + 8 + 32, 24 + 8 + 32 + 8 + 20, 24 + 8 + 32 + 8 + 20 + 8});
  EXPECT_EQ(prev2.header, (ResponseHeader{9, 3, 4}));
  EXPECT_EQ(prev2.prev_kvs, prev.prev_kvs);
  EXPECT_EQ(prev2.prev_metas, prev.prev_metas);
  DeleteRangeResponse dr{2, 4, 5, {{"a", "1", {}}}, {{1, 1, 1, 0}}, true, {9, 1, 4}};
  DeleteRangeResponse dr2 = RoundTrip(
      dr, {24, 24 + 1, 24 + 1 + 8 + 32, 24 + 1 + 8 + 32 + 8 + 18, 24 + 1 + 8 + 32 + 8 + 18 + 8});
  EXPECT_EQ(dr2.header, dr.header);
  EXPECT_EQ(dr2.revision, 5u);
  EXPECT_EQ(dr2.prev_kvs, dr.prev_kvs);
  EXPECT_TRUE(dr2.prev_kvs_truncated);
  GetResponse get{true, "v", 6, {3, 6, 2, 7}, {9, 2, 4}};
  GetResponse g2 = RoundTrip(get, {24, 24 + 32, 24 + 40});
  EXPECT_EQ(g2.header, (ResponseHeader{9, 2, 4}));
  EXPECT_EQ(g2.revision, 6u);
  EXPECT_EQ(g2.meta, (KeyMetadata{3, 6, 2, 7}));
  EXPECT_EQ(RoundTrip(TsoResponse{1234}).ts, 1234u);
  EXPECT_EQ(RoundTrip(TxnResponse{"result"}).result, "result");
}

// MemberAddRequest's last field, force, is optional on the wire: a request
// that ends after timeout_ms (as older clients send it) decodes with
// force = false; anything else after it, or a cut inside the fixed fields, is
// still refused.
TEST(ClientProtocol, MemberAddForceIsTheLastAndOptionalField) {
  MemberAddRequest add{4, "127.0.0.1:2480", "127.0.0.1:2479", true, 700, true};
  const std::string bytes = net::EncodeMessage(add);
  auto back = net::DecodeMessage<MemberAddRequest>(bytes);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->id, 4u);
  EXPECT_EQ(back->peer_address, "127.0.0.1:2480");
  EXPECT_EQ(back->client_address, "127.0.0.1:2479");
  EXPECT_TRUE(back->learner);
  EXPECT_EQ(back->timeout_ms, 700u);
  EXPECT_TRUE(back->force);
  EXPECT_EQ(bytes.back(), '\x01') << "force is the last byte";

  // Without the force byte: an older client's request.
  auto old = net::DecodeMessage<MemberAddRequest>(Slice(bytes.data(), bytes.size() - 1));
  ASSERT_OK(old.status());
  EXPECT_FALSE(old->force);
  EXPECT_EQ(old->timeout_ms, 700u);
  // Every shorter cut fails, and so does a byte after force.
  for (size_t cut = 0; cut + 1 < bytes.size(); ++cut) {
    EXPECT_FALSE(net::DecodeMessage<MemberAddRequest>(Slice(bytes.data(), cut)).ok()) << cut;
  }
  EXPECT_FALSE(net::DecodeMessage<MemberAddRequest>(bytes + '\x00').ok());
  std::string bad_bool = bytes;
  bad_bool.back() = '\x02';
  EXPECT_FALSE(net::DecodeMessage<MemberAddRequest>(bad_bool).ok());
}

// StatusResponse's cluster_id came later: an answer from an older server ends
// before it and decodes with cluster_id = 0; a new one carries it.
TEST(ClientProtocol, StatusClusterIdIsATrailingField) {
  StatusResponse st;
  st.id = 2;
  st.leader = 1;
  st.role = "follower";
  st.client_address = "127.0.0.1:2379";
  st.cluster_id = 0x1234;
  const std::string bytes = net::EncodeMessage(st);
  auto back = net::DecodeMessage<StatusResponse>(bytes);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->cluster_id, 0x1234u);
  // Without the version (an empty string: 8 bytes), the watch counts (16
  // bytes), the alarm (8 bytes) and cluster_id (8 bytes).
  auto old = net::DecodeMessage<StatusResponse>(Slice(bytes.data(), bytes.size() - 40));
  ASSERT_OK(old.status());
  EXPECT_EQ(old->cluster_id, 0u);
  EXPECT_EQ(old->client_address, "127.0.0.1:2379");
  EXPECT_FALSE(net::DecodeMessage<StatusResponse>(Slice(bytes.data(), bytes.size() - 36)).ok());
}

// StatusResponse's later fields are each optional on the wire, from the
// end: an answer that ends before the version (a server before versions)
// decodes with an empty version, one that ends after the alarm (a server without watches)
// decodes with no watch counts, one that ends after cluster_id (older
// still) with no alarm either; a cut anywhere else is refused.
TEST(ClientProtocol, StatusAlarmAndWatchCountsAreOptionalTrailingFields) {
  StatusResponse st{1, 2, 3, "follower", 10, 9, 1, 11, "127.0.0.1:2379", "127.0.0.1:22379", 7,
                    "state hash mismatch at index 40", 4, 5000, "0.1.0"};
  const std::string full = net::EncodeMessage(st);
  auto versioned = net::DecodeMessage<StatusResponse>(full);
  ASSERT_OK(versioned.status());
  EXPECT_EQ(versioned->version, "0.1.0");
  // Without the version (u64 length + text): a server before versions.
  const std::string bytes = full.substr(0, full.size() - 8 - st.version.size());
  for (size_t cut = bytes.size() + 1; cut < full.size(); ++cut)
    EXPECT_FALSE(net::DecodeMessage<StatusResponse>(Slice(full.data(), cut)).ok()) << cut;
  auto back = net::DecodeMessage<StatusResponse>(bytes);
  ASSERT_OK(back.status());
  EXPECT_EQ(back->role, "follower");
  EXPECT_EQ(back->applied_index, 9u);
  EXPECT_EQ(back->leader_client_address, "127.0.0.1:22379");
  EXPECT_EQ(back->cluster_id, 7u);
  EXPECT_EQ(back->alarm, "state hash mismatch at index 40");
  EXPECT_EQ(back->watchers, 4u);
  EXPECT_EQ(back->watch_queued_bytes, 5000u);
  const size_t no_watch = bytes.size() - 16;
  auto before_watches = net::DecodeMessage<StatusResponse>(Slice(bytes.data(), no_watch));
  ASSERT_OK(before_watches.status());
  EXPECT_EQ(before_watches->alarm, st.alarm);
  EXPECT_EQ(before_watches->watchers, 0u);
  const size_t without = no_watch - 8 - st.alarm.size();  // u64 length + text
  auto old = net::DecodeMessage<StatusResponse>(Slice(bytes.data(), without));
  ASSERT_OK(old.status());
  EXPECT_EQ(old->alarm, "");
  EXPECT_EQ(old->cluster_id, 7u);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    if (cut == no_watch || cut == no_watch + 8 || cut == without || cut == without - 8) continue;
    EXPECT_FALSE(net::DecodeMessage<StatusResponse>(Slice(bytes.data(), cut)).ok()) << cut;
  }
  EXPECT_FALSE(net::DecodeMessage<StatusResponse>(bytes + '\x00').ok());
}

TEST(ClientProtocol, WatchMessagesRoundTrip) {
  WatchRequest req{"app/", "app0", 77, true, 1000};
  WatchRequest r2 = RoundTrip(req);
  EXPECT_EQ(r2.start, "app/");
  EXPECT_EQ(r2.end, "app0");
  EXPECT_EQ(r2.start_revision, 77u);
  EXPECT_TRUE(r2.prev_kv);
  EXPECT_EQ(r2.progress_interval_ms, 1000u);
  WatchResponse resp{2, 90, {{1, "k", "v", true, std::string("o\0", 2), 80}, {2, "d", "", false, "", 90}}};
  resp.watch_id = 12;
  resp.requested = true;
  // Without `requested`, or without it and watch_id: an older server's.
  WatchResponse p2 = RoundTrip(resp, {1, 9});
  EXPECT_EQ(p2.watch_id, 12u);
  EXPECT_TRUE(p2.requested);
  EXPECT_EQ(p2.kind, 2u);
  EXPECT_EQ(p2.revision, 90u);
  ASSERT_EQ(p2.events.size(), 2u);
  EXPECT_EQ(p2.events[0].prev_value, std::string("o\0", 2));
  EXPECT_TRUE(p2.events[0].has_prev);
  EXPECT_EQ(p2.events[1].type, 2u);
  EXPECT_EQ(p2.events[1].revision, 90u);
}

// doc/protocol.md's watch example, byte for byte.
TEST(ClientProtocol, WatchRequestBytesMatchTheDocumentedExample) {
  WatchRequest req{"app/", "app0", 0, false, 1000};
  const std::string want(
      "\x04\x00\x00\x00\x00\x00\x00\x00" "app/"
      "\x04\x00\x00\x00\x00\x00\x00\x00" "app0"
      "\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00"
      "\xe8\x03\x00\x00",
      37);
  EXPECT_EQ(net::EncodeMessage(req), want);
}

TEST(ClientProtocol, ScanResponseWithHostileCountDoesNotAllocate) {
  // A vector length of 2^60 items in a 12-byte payload must fail, not allocate.
  std::string bytes = net::EncodeMessage(ScanResponse{});
  bytes[0] = '\xff';
  bytes[7] = '\x0f';
  EXPECT_FALSE(net::DecodeMessage<ScanResponse>(bytes).ok());
}

// A NotLeader answer carries the leader as typed fields through the error
// frame (the client never parses the message).
TEST(ClientProtocol, NotLeaderHintRoundTrip) {
  Status s = NotLeaderError(RoutingError{1, 3, "127.0.0.1:22379"});
  const std::string frame = net::EncodeMessage(net::ErrorPayloadOf(s));
  auto e = net::DecodeMessage<net::ErrorPayload>(frame);
  ASSERT_TRUE(e.ok());
  Status back = net::StatusOf(*e);
  ASSERT_TRUE(back.IsNotLeader());
  auto h = RoutingErrorOf(back);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->leader_id, 3u);
  EXPECT_EQ(h->leader_address, "127.0.0.1:22379");
  EXPECT_EQ(h->group, 1u);
  EXPECT_EQ(back.message(), "leader=3 addr=127.0.0.1:22379");
  EXPECT_EQ(NotLeaderError(RoutingError{}).message(), "leader=0");
  h = RoutingErrorOf(NotLeaderError(RoutingError{}));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->leader_id, 0u);
  EXPECT_EQ(h->leader_address, "");
  // A message that merely looks like a hint carries no routing fields.
  EXPECT_FALSE(RoutingErrorOf(Status::NotLeader("node 2 is not the leader; leader=5 term=7")));
}

TEST(ClientProtocol, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
  EXPECT_EQ(KeySuccessor("a"), std::string("a\0", 2));
}

TEST(ClientProtocol, RetryableErrors) {
  EXPECT_TRUE(IsRetryable(Status::NotLeader("leader=1")));
  EXPECT_TRUE(IsRetryable(Status::Unavailable("x")));
  EXPECT_TRUE(IsRetryable(Status::Timeout("x")));
  EXPECT_TRUE(IsRetryable(Status::Aborted("x")));
  EXPECT_TRUE(IsRetryable(Status::Busy("x")));
  EXPECT_FALSE(IsRetryable(Status::InvalidArgument("x")));
  EXPECT_FALSE(IsRetryable(Status::Corruption("x")));
  EXPECT_FALSE(IsRetryable(Status::NotFound("x")));
}

}  // namespace
}  // namespace tinykv::client
