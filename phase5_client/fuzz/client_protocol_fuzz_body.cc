// FuzzClientProtocolBytes; see client_protocol_fuzz_body.h.
#include "client_protocol_fuzz_body.h"

#include <string>

#include "tinykv/client/client.h"
#include "tinykv/client/maintenance_protocol.h"
#include "tinykv/client/protocol.h"
#include "tinykv/common/check.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/method.h"
#include "tinykv/net/serialization.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::client::fuzz {
namespace {

// Whatever decodes re-encodes to exactly the payload: the format has one
// encoding per value, so nothing was dropped or invented. `optional_tail` is
// the encoding of a message's trailing fields (net::TrailingField) at their
// defaults: an older sender omits some of them, from the first it lacks on,
// and they decode as their defaults, so the re-encoding may add a suffix of it.
template <typename T>
void TryDecode(Slice payload, const std::string& optional_tail = "") {
  auto m = net::DecodeMessage<T>(payload);
  if (!m.ok()) {
    TINYKV_CHECK(m.status().IsCorruption()) << m.status().ToString();
    return;
  }
  const std::string enc = net::EncodeMessage(*m);
  const std::string in = payload.ToString();
  const bool extended = enc.size() > in.size() && enc.compare(0, in.size(), in) == 0 &&
                        optional_tail.size() >= enc.size() - in.size() &&
                        optional_tail.compare(optional_tail.size() - (enc.size() - in.size()),
                                              std::string::npos, enc, in.size()) == 0;
  TINYKV_CHECK(enc == in || extended) << "payload round trip changed the bytes";
  auto again = net::DecodeMessage<T>(enc);
  TINYKV_CHECK(again.ok() && net::EncodeMessage(*again) == enc) << "re-encoded payload";
}

void CheckRouting(std::string_view detail) {
  std::optional<RoutingError> r = DecodeRoutingError(detail);
  if (!r) return;
  const std::string enc = EncodeRoutingError(*r);
  std::optional<RoutingError> again = DecodeRoutingError(enc);
  TINYKV_CHECK(again && *again == *r) << "routing error round trip changed the value";
  (void)NotLeaderMessage(*r);
  // The client dials the hint's address next (client.cc): it must parse or
  // fail as an endpoint given on the command line would.
  (void)ParseEndpoint(r->leader_address);
}

// An error frame's payload as the client reads it: a Status, and the
// leader hint in its detail.
void CheckErrorPayload(Slice payload) {
  auto e = net::DecodeMessage<net::ErrorPayload>(payload);
  if (!e.ok()) return;
  const Status s = net::StatusOf(*e);
  TINYKV_CHECK(!s.ok()) << "an error frame decoded to OK";
  std::optional<RoutingError> r = RoutingErrorOf(s);
  if (r) {
    TINYKV_CHECK(DecodeRoutingError(s.detail()) == r) << "RoutingErrorOf disagrees with the detail";
  }
  (void)s.ToString();
  CheckRouting(e->detail);
  // A watch stream's end: the client reads the compacted or resume revision.
  if (std::optional<txn::WatchError> w = txn::DecodeWatchError(e->detail)) {
    TINYKV_CHECK(txn::DecodeWatchError(txn::EncodeWatchError(*w)) == w)
        << "watch error round trip changed the value";
  }
}

}  // namespace

void FuzzClientProtocolBytes(const uint8_t* data, size_t size) {
  const Slice in(reinterpret_cast<const char*>(data), size);
  const std::string revision(8, '\0');  // a trailing revision 0
  TryDecode<GetRequest>(in, revision);
  // Trailing lists are empty (a size 0), metadata and headers 0s, flags false.
  const std::string no_list(8, '\0');
  const std::string header(24, '\0');  // ResponseHeader: cluster_id, member_id, raft_term
  TryDecode<GetResponse>(in, revision + std::string(32, '\0') + header);  // revision, meta
  TryDecode<PutRequest>(in, std::string(9, '\0'));  // lease 0, prev_kv false
  TryDecode<WriteResponse>(in, revision + no_list + no_list + header);
  TryDecode<DeleteRequest>(in, std::string(1, '\0'));  // prev_kv false
  TryDecode<DeleteRangeRequest>(in, std::string(1, '\0'));
  TryDecode<DeleteRangeResponse>(in,
                                 revision + no_list + no_list + std::string(1, '\0') + header);
  TryDecode<ScanRequest>(in, revision);
  TryDecode<ScanResponse>(in, revision + no_list + header);
  TryDecode<CasRequest>(in, revision);  // lease 0
  TryDecode<CasResponse>(in, revision);
  TryDecode<TsoRequest>(in);
  TryDecode<TsoResponse>(in);
  TryDecode<TxnRequest>(in);
  TryDecode<TxnResponse>(in);
  TryDecode<StatusRequest>(in);
  // cluster_id 0, alarm "", watchers 0, watch_queued_bytes 0, version ""
  TryDecode<StatusResponse>(in, std::string(40, '\0'));
  TryDecode<WatchRequest>(in);
  TryDecode<WatchResponse>(in, std::string(9, '\0'));  // watch_id 0, requested false
  TryDecode<MemberListRequest>(in);
  TryDecode<MemberListResponse>(in);
  TryDecode<MemberAddRequest>(in, std::string(1, '\0'));  // force = false
  TryDecode<MemberPromoteRequest>(in);
  TryDecode<MemberUpdateRequest>(in);
  TryDecode<MemberRemoveRequest>(in);
  TryDecode<MemberChangeResponse>(in);
  TryDecode<LeaseGrantRequest>(in);
  TryDecode<LeaseGrantResponse>(in);
  TryDecode<LeaseRevokeRequest>(in);
  TryDecode<LeaseRevokeResponse>(in);
  TryDecode<LeaseKeepAliveRequest>(in);
  TryDecode<LeaseKeepAliveResponse>(in);
  TryDecode<LeaseTimeToLiveRequest>(in);
  TryDecode<LeaseTimeToLiveResponse>(in);
  TryDecode<LeaseLeasesRequest>(in);
  TryDecode<LeaseLeasesResponse>(in);
  TryDecode<CompactRequest>(in);
  TryDecode<CompactResponse>(in);
  TryDecode<DefragmentRequest>(in);
  TryDecode<DefragmentResponse>(in);
  TryDecode<MoveLeaderRequest>(in);
  TryDecode<MoveLeaderResponse>(in);
  TryDecode<HashKvRequest>(in);
  TryDecode<HashKvResponse>(in);
  CheckErrorPayload(in);
  CheckRouting(std::string_view(in.data(), in.size()));
}

}  // namespace tinykv::client::fuzz
