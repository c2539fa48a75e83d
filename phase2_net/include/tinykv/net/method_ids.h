// The one table of RPC method ids for the whole project (doc/method_ids.md
// has the same table with the protocol each method belongs to).
//
// Ranges, by owner:
//   1 .. 99          tests of the RPC layer (phase2_net/tests)
//   100 .. 199       the phase 2 demo KV service (phase2_net/src/demo)
//   300 .. 399       Raft peers: the replication layer (phase3_raft/src/replica)
//   500 .. 599       the client protocol (phase5_client/include/tinykv/client/protocol.h)
//   0x6000 .. 0x60ff tinykv-server's admin protocol (phase6_prod)
//   >= 0xffff0000    reserved for the RPC layer itself
// A server rejects an unknown id with NotSupported, so a new method never
// reuses an id: take the next free one in its range and add it here.
#pragma once

#include <array>
#include <cstdint>

namespace tinykv::net::method_id {

// phase2_net/tests
inline constexpr uint32_t kTestEcho = 1;
inline constexpr uint32_t kTestAppend = 2;
inline constexpr uint32_t kTestCount = 3;
inline constexpr uint32_t kTestMissing = 99;  // declared, never registered

// phase 2 demo (kv.*)
inline constexpr uint32_t kDemoGet = 100;
inline constexpr uint32_t kDemoPut = 101;
inline constexpr uint32_t kDemoDelete = 102;
inline constexpr uint32_t kDemoScan = 103;
inline constexpr uint32_t kDemoEcho = 104;

// Raft peers (raft.*)
inline constexpr uint32_t kRaftBatch = 300;
inline constexpr uint32_t kRaftFetchSnapshot = 301;
inline constexpr uint32_t kRaftStateHash = 302;

// client protocol (tinykv.*)
inline constexpr uint32_t kGet = 501;
inline constexpr uint32_t kPut = 502;
inline constexpr uint32_t kDelete = 503;
inline constexpr uint32_t kDeleteRange = 504;
inline constexpr uint32_t kScan = 505;
inline constexpr uint32_t kCas = 506;
inline constexpr uint32_t kStatus = 507;
inline constexpr uint32_t kMemberList = 508;
inline constexpr uint32_t kMemberAdd = 509;
inline constexpr uint32_t kMemberPromote = 510;
inline constexpr uint32_t kMemberRemove = 511;
inline constexpr uint32_t kSnapshotSave = 512;
inline constexpr uint32_t kTso = 513;
inline constexpr uint32_t kTxn = 514;
inline constexpr uint32_t kWatch = 515;
// maintenance (maintenance_protocol.h): 516..519
inline constexpr uint32_t kCompact = 516;
inline constexpr uint32_t kDefragment = 517;
inline constexpr uint32_t kMoveLeader = 518;
inline constexpr uint32_t kHashKv = 519;
// watch progress on request (protocol.h WatchProgress)
inline constexpr uint32_t kWatchProgress = 520;
// a member's addresses (protocol.h MemberUpdate)
inline constexpr uint32_t kMemberUpdate = 521;
inline constexpr uint32_t kAlarm = 530;
// leases (lease_protocol.h): 540..549
inline constexpr uint32_t kLeaseGrant = 540;
inline constexpr uint32_t kLeaseRevoke = 541;
inline constexpr uint32_t kLeaseKeepAlive = 542;
inline constexpr uint32_t kLeaseTimeToLive = 543;
inline constexpr uint32_t kLeaseLeases = 544;

// tinykv-server admin (prod.*)
inline constexpr uint32_t kAdminStatus = 0x6001;
inline constexpr uint32_t kAdminSetFaults = 0x6002;

// Every id above, once: the compile-time check below keeps them unique.
inline constexpr std::array kAll = {
    kTestEcho,  kTestAppend, kTestCount,   kTestMissing, kDemoGet,       kDemoPut,
    kDemoDelete, kDemoScan,  kDemoEcho,    kRaftBatch,   kRaftFetchSnapshot, kRaftStateHash, kGet,
    kPut,       kDelete,     kDeleteRange, kScan,        kCas,           kStatus,
    kMemberList, kMemberAdd, kMemberPromote, kMemberRemove, kSnapshotSave, kTso, kTxn, kWatch,
    kCompact, kDefragment, kMoveLeader, kHashKv, kWatchProgress, kMemberUpdate, kAlarm,
    kLeaseGrant, kLeaseRevoke, kLeaseKeepAlive, kLeaseTimeToLive, kLeaseLeases,
    kAdminStatus, kAdminSetFaults,
};

constexpr bool AllUnique() {
  for (size_t i = 0; i < kAll.size(); ++i)
    for (size_t j = i + 1; j < kAll.size(); ++j)
      if (kAll[i] == kAll[j]) return false;
  return true;
}
static_assert(AllUnique(), "two RPC methods share an id");

}  // namespace tinykv::net::method_id
