// The lease methods' handlers: see lease_service.h.
#include "lease_service.h"

#include <memory>
#include <utility>

#include "await_node.h"

namespace tinykv::client::internal {
namespace {

// What the node's callbacks deliver; default-constructible for Asio.
template <typename T>
struct Outcome {
  Status status;
  T value{};
};

}  // namespace

net::awaitable<Result<LeaseGrantResponse>> LeaseHandlers::Grant(LeaseGrantRequest req) {
  txn::TxnNode* node = &node_;
  const std::chrono::milliseconds timeout = timeout_of_(req.timeout_ms);
  auto op = AwaitCallback<Outcome<txn::LeaseGrantResult>>(
      [node, req, timeout](std::function<void(Outcome<txn::LeaseGrantResult>)> done) {
        node->LeaseGrant(req.id, req.ttl_s, timeout,
                         [done = std::move(done)](Result<txn::LeaseGrantResult> r) {
                           Outcome<txn::LeaseGrantResult> out;
                           if (r.ok()) {
                             out.value = *r;
                           } else {
                             out.status = r.status();
                           }
                           done(std::move(out));
                         });
      });
  Outcome<txn::LeaseGrantResult> out = co_await std::move(op);
  if (!out.status.ok()) co_return translate_(std::move(out.status));
  co_return LeaseGrantResponse{out.value.id, out.value.ttl_s};
}

net::awaitable<Result<LeaseRevokeResponse>> LeaseHandlers::Revoke(LeaseRevokeRequest req) {
  txn::TxnNode* node = &node_;
  const std::chrono::milliseconds timeout = timeout_of_(req.timeout_ms);
  auto op = AwaitCallback<Outcome<txn::LeaseRevokeResult>>(
      [node, req, timeout](std::function<void(Outcome<txn::LeaseRevokeResult>)> done) {
        node->LeaseRevoke(req.id, timeout,
                          [done = std::move(done)](Result<txn::LeaseRevokeResult> r) {
                            Outcome<txn::LeaseRevokeResult> out;
                            if (r.ok()) {
                              out.value = *r;
                            } else {
                              out.status = r.status();
                            }
                            done(std::move(out));
                          });
      });
  Outcome<txn::LeaseRevokeResult> out = co_await std::move(op);
  if (!out.status.ok()) co_return translate_(std::move(out.status));
  co_return LeaseRevokeResponse{out.value.revision, out.value.deleted};
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
