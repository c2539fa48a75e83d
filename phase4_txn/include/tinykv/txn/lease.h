// Leases, as etcd has them: a lease is an id with a TTL in seconds; a key put
// with a lease is attached to it; revoking the lease (by a client, or by the
// leader when the TTL runs out: lessor.h) deletes every attached key in one
// revision. This header is the state machine's side: the records and the
// rules applied at apply time (deterministic on every replica). Expiry
// deadlines are not replicated state: the leader keeps them (lessor.h).
//
// Records, in the metadata family (doc/mvcc_format.md, "Leases"):
//   'm' "lease/" BE64(id)              -> varint ttl_s          the lease
//   'm' "lease_attach/" BE64(id) key   -> ""                    forward: lease -> its keys
//   'm' "lease_of/" key                -> varint id             reverse: key -> its lease
// Invariants (every batch keeps them): a forward record exists iff the
// reverse record of the same (id, key) does; both exist only while the lease
// record of id does and the key has a visible value (a delete or a revoke
// removes them); a key is attached to at most one lease. The three prefixes
// are distinct and none is a prefix of another, so each family scans alone.
//
// Rules (txn_executor.h has the command list):
//   lease-grant  id (nonzero), ttl_s (1..kMaxLeaseTtlS): the lease record;
//                an existing id -> lease_status kLeaseExists, nothing written.
//   lease-revoke id at commit_ts: a tombstone at commit_ts for every
//                attached key that has a visible value (count = how many),
//                the attachments and the lease record gone, in one batch:
//                one revision. Any attached key locked -> kLocked, written
//                at or above commit_ts -> kWriteConflict (nothing written,
//                the proposer retries with a newer timestamp); no such lease
//                -> kLeaseNotFound.
//   kv-write     a put or successful cas with lease L (nonzero): L must exist
//                (else kLeaseNotFound and nothing written), and the key is
//                attached to L (detached from any other lease). A put or cas
//                without a lease, a delete and a delete-range detach every
//                key they write. When the state machine knows no lease
//                exists, none of this costs a lookup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinykv/common/bytes.h"

namespace tinykv::txn {

// etcd's limit (MaxLeaseTTL, 9000000000 s).
inline constexpr uint64_t kMaxLeaseTtlS = 9000000000ULL;

// etcd's error text; clients match on it.
inline constexpr char kLeaseNotFoundMessage[] = "etcdserver: requested lease not found";
inline constexpr char kLeaseExistsMessage[] = "etcdserver: lease already exists";

// The lease outcome of a command (TxnCommandResult::lease_status).
enum class LeaseStatus : uint8_t {
  kOk = 0,
  kLeaseNotFound = 1,  // lease-revoke, or a put naming a lease that does not exist
  kLeaseExists = 2,    // lease-grant of an id in use
};

inline constexpr char kLeasePrefix[] = "mlease/";
inline constexpr char kLeaseAttachPrefix[] = "mlease_attach/";
inline constexpr char kLeaseOfPrefix[] = "mlease_of/";

std::string LeaseKey(uint64_t id);
// The forward record; LeaseAttachPrefix(id) is the prefix of all of id's.
std::string LeaseAttachKey(uint64_t id, Slice key);
std::string LeaseAttachPrefix(uint64_t id);
std::string LeaseOfKey(Slice key);

// Decoders of the records (nullopt: malformed).
std::optional<uint64_t> DecodeLeaseId(Slice lease_key);     // from LeaseKey
std::optional<uint64_t> DecodeVarintValue(Slice value);     // ttl_s, or a reverse record's id

}  // namespace tinykv::txn
