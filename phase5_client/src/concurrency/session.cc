// Session: a lease kept alive (concurrency.h).
#include "tinykv/client/concurrency.h"

namespace tinykv::client {

Result<std::unique_ptr<Session>> Session::Create(Client* client, SessionOptions options) {
  uint64_t lease = options.lease;
  if (lease == 0) {
    TINYKV_ASSIGN_OR_RETURN(LeaseGrantResponse granted, client->LeaseGrant(options.ttl_s));
    lease = granted.id;
  }
  Result<std::unique_ptr<LeaseKeepAlive>> keeper = LeaseKeepAlive::Start(client, lease);
  if (!keeper.ok()) {
    if (options.lease == 0) client->LeaseRevoke(lease).status().IgnoreError();
    return keeper.status();
  }
  const uint64_t ttl_s = (*keeper)->ttl_s();
  return std::unique_ptr<Session>(new Session(client, lease, ttl_s, std::move(keeper).value()));
}

Session::Session(Client* client, uint64_t lease, uint64_t ttl_s,
                 std::unique_ptr<LeaseKeepAlive> keeper)
    : client_(client), lease_(lease), ttl_s_(ttl_s), keeper_(std::move(keeper)) {}

Session::~Session() { Close().IgnoreError(); }

Status Session::status() const {
  if (closed_.load()) return Status::Cancelled("session: closed");
  // Only NotFound is final: other failed renewals are retried by the keeper
  // while the lease still has time left.
  if (keeper_->status().IsNotFound()) return Status::NotFound("session: expired (its lease is gone)");
  return Status::OK();
}

Status Session::Close() {
  if (closed_.exchange(true)) return Status::OK();
  keeper_->Stop();
  Result<LeaseRevokeResponse> r = client_->LeaseRevoke(lease_);
  if (!r.ok() && !r.status().IsNotFound()) return r.status();
  return Status::OK();
}

void Session::Orphan() {
  closed_.store(true);
  keeper_->Stop();
}

}  // namespace tinykv::client
