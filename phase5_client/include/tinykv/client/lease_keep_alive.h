// LeaseKeepAlive: keeps one lease alive from a background thread, as
// etcd's clientv3 KeepAlive does -- a renewal (Client::LeaseKeepAliveOnce)
// every ttl/3, so two renewals may fail (a leader change, a slow network)
// before the lease is at risk.
//
//   auto lease = client->LeaseGrant(10).value();
//   auto keeper = LeaseKeepAlive::Start(client.get(), lease.id).value();
//   ... the lease lives while `keeper` does ...
//
// Start renews once, at once (NotFound if the lease does not exist) and
// learns the TTL from the answer. A later renewal that fails with NotFound
// (the lease was revoked or expired) stops the keeper, and status() says
// so; any other failure is retried at the next period. Destroying (or
// Stop) ends the renewals; the lease then expires at its TTL unless revoked.
//
// Thread safety: status(), renewals() and Stop() from any thread. The
// Client must outlive the keeper.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "tinykv/client/client.h"

namespace tinykv::client {

class LeaseKeepAlive {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LeaseKeepAlive>> Start(Client* client, uint64_t id);
  ~LeaseKeepAlive();
  LeaseKeepAlive(const LeaseKeepAlive&) = delete;
  LeaseKeepAlive& operator=(const LeaseKeepAlive&) = delete;

  uint64_t id() const { return id_; }
  uint64_t ttl_s() const { return ttl_s_; }
  // OK while renewing; the error of the last renewal otherwise (NotFound:
  // the lease is gone and the keeper stopped).
  Status status() const;
  uint64_t renewals() const;
  // Ends the renewals (idempotent).
  void Stop();

 private:
  LeaseKeepAlive(Client* client, uint64_t id, uint64_t ttl_s);
  void Run();

  Client* const client_;
  const uint64_t id_;
  const uint64_t ttl_s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;         // guarded by mu_
  Status status_;             // guarded by mu_
  uint64_t renewals_ = 0;     // guarded by mu_
  std::thread thread_;
};

}  // namespace tinykv::client
