// The lease methods' handlers: see lease_service.h.
#include "lease_service.h"

#include <memory>
#include <utility>

#include "await_node.h"

namespace tinykv::client::internal {

net::awaitable<Result<LeaseGrantResponse>> LeaseHandlers::Grant(LeaseGrantRequest req) {
  txn::TxnNode* node = &node_;
  const std::chrono::milliseconds timeout = timeout_of_(req.timeout_ms);
  auto op = AwaitResult<txn::LeaseGrantResult>([node, req, timeout](auto done) {
    node->LeaseGrant(req.id, req.ttl_s, timeout, std::move(done));
  });
  Result<txn::LeaseGrantResult> r = co_await std::move(op);
  if (!r.ok()) co_return translate_(r.status());
  co_return LeaseGrantResponse{r->id, r->ttl_s};
}

net::awaitable<Result<LeaseRevokeResponse>> LeaseHandlers::Revoke(LeaseRevokeRequest req) {
  txn::TxnNode* node = &node_;
  const std::chrono::milliseconds timeout = timeout_of_(req.timeout_ms);
  auto op = AwaitResult<txn::LeaseRevokeResult>([node, req, timeout](auto done) {
    node->LeaseRevoke(req.id, timeout, std::move(done));
  });
  Result<txn::LeaseRevokeResult> r = co_await std::move(op);
  if (!r.ok()) co_return translate_(r.status());
  co_return LeaseRevokeResponse{r->revision, r->deleted};
}

net::awaitable<Result<LeaseKeepAliveResponse>> LeaseHandlers::KeepAlive(LeaseKeepAliveRequest req) {
  Result<uint64_t> ttl = node_.LeaseKeepAlive(req.id);
  if (!ttl.ok()) co_return translate_(ttl.status());
  co_return LeaseKeepAliveResponse{req.id, *ttl};
}

net::awaitable<Result<LeaseTimeToLiveResponse>> LeaseHandlers::TimeToLive(
    LeaseTimeToLiveRequest req) {
  Result<txn::LeaseTimeToLiveResult> r = node_.LeaseTimeToLive(req.id, req.keys);
  if (!r.ok()) co_return translate_(r.status());
  LeaseTimeToLiveResponse resp;
  resp.id = r->id;
  resp.granted_ttl_s = r->granted_ttl_s;
  resp.ttl_s = r->remaining_s;
  resp.keys = std::move(r->keys);
  co_return resp;
}

net::awaitable<Result<LeaseLeasesResponse>> LeaseHandlers::Leases(LeaseLeasesRequest) {
  Result<std::vector<uint64_t>> ids = node_.Leases();
  if (!ids.ok()) co_return translate_(ids.status());
  co_return LeaseLeasesResponse{std::move(ids).value()};
}

}  // namespace tinykv::client::internal
