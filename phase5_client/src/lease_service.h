// The server side of the lease methods (lease_protocol.h) over a TxnNode
// (txn_node.h "Leases"). service.cc registers them next to the other
// methods and lends its NotLeader translation (the leader hint) and its
// default timeout. Handlers never block on Raft: proposals are awaited as
// the other writes are (await_node.h); keep-alive, time-to-live and the list
// are answered from the leader's memory and its state machine at once.
#pragma once

#include <chrono>
#include <functional>

#include "tinykv/client/lease_protocol.h"
#include "tinykv/common/result.h"
#include "tinykv/net/asio.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::client::internal {

class LeaseHandlers {
 public:
  LeaseHandlers(txn::TxnNode& node, std::function<Status(Status)> translate,
                std::function<std::chrono::milliseconds(uint32_t)> timeout_of)
      : node_(node), translate_(std::move(translate)), timeout_of_(std::move(timeout_of)) {}

  net::awaitable<Result<LeaseGrantResponse>> Grant(LeaseGrantRequest req);
  net::awaitable<Result<LeaseRevokeResponse>> Revoke(LeaseRevokeRequest req);
  net::awaitable<Result<LeaseKeepAliveResponse>> KeepAlive(LeaseKeepAliveRequest req);
  net::awaitable<Result<LeaseTimeToLiveResponse>> TimeToLive(LeaseTimeToLiveRequest req);
  net::awaitable<Result<LeaseLeasesResponse>> Leases(LeaseLeasesRequest req);

 private:
  txn::TxnNode& node_;
  const std::function<Status(Status)> translate_;
  const std::function<std::chrono::milliseconds(uint32_t)> timeout_of_;
};

}  // namespace tinykv::client::internal
