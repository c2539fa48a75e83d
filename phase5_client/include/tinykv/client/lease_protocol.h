// The lease methods of the client protocol (protocol.h; doc/protocol.md
// "Leases"): etcd's Lease service over TxnNode's leases (phase4_txn
// txn_node.h, lease.h). A lease is an id (nonzero, etcd prints it in hex)
// with a TTL in seconds; a Put with `lease` attaches its key; when the lease
// is revoked -- by LeaseRevoke, or by the leader once the TTL passes without
// a LeaseKeepAlive -- every attached key is deleted in one revision.
//
// Every lease method is the leader's (a follower answers NotLeader with the
// hint, as for writes). A lease that does not exist is NotFound with etcd's
// message "etcdserver: requested lease not found" (kLeaseNotFoundMessage;
// clients match on it); LeaseGrant of an id in use is AlreadyExists
// ("etcdserver: lease already exists"). A server without MVCC answers
// NotSupported.
//
// Method ids 540..549 (net/method_ids.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/net/method.h"
#include "tinykv/net/method_ids.h"
#include "tinykv/net/serialization.h"

namespace tinykv::client {

// ---- LeaseGrant: a new lease ----
// id 0: the leader picks a random one (positive as an int64). Not
// idempotent: a retry of a grant that applied gets AlreadyExists (an id
// given) or grants a second lease (a random id; the first expires).
struct LeaseGrantRequest {
  uint64_t ttl_s = 0;  // 1 .. 9000000000
  uint64_t id = 0;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(ttl_s, id, timeout_ms);
  }
};
struct LeaseGrantResponse {
  uint64_t id = 0;
  uint64_t ttl_s = 0;
  template <class A>
  void serialize(A& a) {
    a(id, ttl_s);
  }
};

// ---- LeaseRevoke: the lease and every key attached to it deleted ----
struct LeaseRevokeRequest {
  uint64_t id = 0;
  uint32_t timeout_ms = 0;
  template <class A>
  void serialize(A& a) {
    a(id, timeout_ms);
  }
};
struct LeaseRevokeResponse {
  uint64_t revision = 0;  // the one revision of the deletes
  uint64_t deleted = 0;   // keys deleted
  template <class A>
  void serialize(A& a) {
    a(revision, deleted);
  }
};

// ---- LeaseKeepAlive: one renewal (deadline := now + ttl) ----
// Unary: a client renews on its own schedule (lease_keep_alive.h
// renews every ttl/3). A lease past its deadline is not renewed: NotFound.
struct LeaseKeepAliveRequest {
  uint64_t id = 0;
  template <class A>
  void serialize(A& a) {
    a(id);
  }
};
struct LeaseKeepAliveResponse {
  uint64_t id = 0;
  uint64_t ttl_s = 0;  // the granted TTL, which the deadline now is away
  template <class A>
  void serialize(A& a) {
    a(id, ttl_s);
  }
};

// ---- LeaseTimeToLive ----
struct LeaseTimeToLiveRequest {
  uint64_t id = 0;
  bool keys = false;  // true: the attached keys too
  template <class A>
  void serialize(A& a) {
    a(id, keys);
  }
};
struct LeaseTimeToLiveResponse {
  uint64_t id = 0;
  uint64_t granted_ttl_s = 0;
  uint64_t ttl_s = 0;  // whole seconds left before the leader revokes it
  std::vector<std::string> keys;  // in key order; empty unless asked for
  template <class A>
  void serialize(A& a) {
    a(id, granted_ttl_s, ttl_s, keys);
  }
};

// ---- LeaseLeases: every lease's id ----
struct LeaseLeasesRequest {
  uint8_t reserved = 0;
  template <class A>
  void serialize(A& a) {
    a(reserved);
  }
};
struct LeaseLeasesResponse {
  std::vector<uint64_t> ids;  // in order
  template <class A>
  void serialize(A& a) {
    a(ids);
  }
};

using LeaseGrantMethod =
    net::UnaryMethod<net::method_id::kLeaseGrant, "tinykv.LeaseGrant", LeaseGrantRequest,
                     LeaseGrantResponse, net::kNotIdempotent>;
// Not idempotent: a retry of a revoke that applied gets NotFound.
using LeaseRevokeMethod =
    net::UnaryMethod<net::method_id::kLeaseRevoke, "tinykv.LeaseRevoke", LeaseRevokeRequest,
                     LeaseRevokeResponse, net::kNotIdempotent>;
using LeaseKeepAliveMethod =
    net::UnaryMethod<net::method_id::kLeaseKeepAlive, "tinykv.LeaseKeepAlive",
                     LeaseKeepAliveRequest, LeaseKeepAliveResponse, net::kIdempotent>;
using LeaseTimeToLiveMethod =
    net::UnaryMethod<net::method_id::kLeaseTimeToLive, "tinykv.LeaseTimeToLive",
                     LeaseTimeToLiveRequest, LeaseTimeToLiveResponse, net::kIdempotent>;
using LeaseLeasesMethod =
    net::UnaryMethod<net::method_id::kLeaseLeases, "tinykv.LeaseLeases", LeaseLeasesRequest,
                     LeaseLeasesResponse, net::kIdempotent>;

}  // namespace tinykv::client
