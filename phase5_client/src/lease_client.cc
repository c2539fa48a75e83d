// The client's lease calls (client.h "leases") and LeaseKeepAlive
// (lease_keep_alive.h).
#include <algorithm>

#include "tinykv/client/client.h"
#include "tinykv/client/lease_keep_alive.h"

namespace tinykv::client {

Result<LeaseGrantResponse> Client::LeaseGrant(uint64_t ttl_s, uint64_t id,
                                              const CallOptions& opts) {
  if (ttl_s == 0) return Status::InvalidArgument("lease grant: ttl must be at least 1 second");
  LeaseGrantRequest req;
  req.ttl_s = ttl_s;
  req.id = id;
  return Invoke<LeaseGrantMethod>(req, DeadlineOf(opts));
}

Result<LeaseRevokeResponse> Client::LeaseRevoke(uint64_t id, const CallOptions& opts) {
  LeaseRevokeRequest req;
  req.id = id;
  return Invoke<LeaseRevokeMethod>(req, DeadlineOf(opts));
}

Result<LeaseKeepAliveResponse> Client::LeaseKeepAliveOnce(uint64_t id, const CallOptions& opts) {
  return Invoke<LeaseKeepAliveMethod>(LeaseKeepAliveRequest{id}, DeadlineOf(opts));
}

Result<LeaseTimeToLiveResponse> Client::LeaseTimeToLive(uint64_t id, bool keys,
                                                        const CallOptions& opts) {
  return Invoke<LeaseTimeToLiveMethod>(LeaseTimeToLiveRequest{id, keys}, DeadlineOf(opts));
}

Result<std::vector<uint64_t>> Client::Leases(const CallOptions& opts) {
  TINYKV_ASSIGN_OR_RETURN(LeaseLeasesResponse r,
                          Invoke<LeaseLeasesMethod>(LeaseLeasesRequest{}, DeadlineOf(opts)));
  return std::move(r.ids);
}

// ---- LeaseKeepAlive ----

Result<std::unique_ptr<LeaseKeepAlive>> LeaseKeepAlive::Start(Client* client, uint64_t id) {
  TINYKV_ASSIGN_OR_RETURN(LeaseKeepAliveResponse first, client->LeaseKeepAliveOnce(id));
  std::unique_ptr<LeaseKeepAlive> k(new LeaseKeepAlive(client, id, first.ttl_s));
  k->thread_ = std::thread([p = k.get()] { p->Run(); });
  return k;
}

LeaseKeepAlive::LeaseKeepAlive(Client* client, uint64_t id, uint64_t ttl_s)
    : client_(client), id_(id), ttl_s_(ttl_s) {
  renewals_ = 1;
}

LeaseKeepAlive::~LeaseKeepAlive() { Stop(); }

void LeaseKeepAlive::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status LeaseKeepAlive::status() const {
  std::lock_guard<std::mutex> l(mu_);
  return status_;
}

uint64_t LeaseKeepAlive::renewals() const {
  std::lock_guard<std::mutex> l(mu_);
  return renewals_;
}

void LeaseKeepAlive::Run() {
  // Every ttl/3 (at least 100 ms); each renewal may take up to a period.
  const auto period = std::max(std::chrono::milliseconds(100),
                               std::chrono::milliseconds(ttl_s_ * 1000 / 3));
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (cv_.wait_for(l, period, [this] { return stop_; })) break;
    l.unlock();
    CallOptions opts;
    opts.timeout = period;
    Result<LeaseKeepAliveResponse> r = client_->LeaseKeepAliveOnce(id_, opts);
    l.lock();
    status_ = r.status();
    if (r.ok()) {
      ++renewals_;
    } else if (r.status().IsNotFound()) {
      break;  // revoked or expired: nothing left to keep
    }
  }
}

}  // namespace tinykv::client
