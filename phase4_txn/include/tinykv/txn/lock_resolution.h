// Lock resolution: what to do about a lock met, once its transaction's fate
// is known -- Percolator's roll-forward / roll-back, as both a client that
// met a lock (phase 5's Client) and the watch hub (a lock that holds its
// resolved timestamp for good: its client died) run it:
//
//   1. check-txn-status on the lock's primary at a fresh timestamp
//      (CheckStatusOf): a primary lock past its TTL is rolled back by that
//      check itself; a live one answers kLocked with the TTL left;
//   2. then, unless the transaction lives, resolve-lock on the key
//      (ResolutionOf): commit it at the primary's commit_ts, or roll it back.
#pragma once

#include <cstdint>
#include <optional>

#include "tinykv/txn/key_error.h"
#include "tinykv/txn/mvcc_record.h"
#include "tinykv/txn/txn_command.h"

namespace tinykv::txn {

CheckTxnStatusCmd CheckStatusOf(const LockInfo& lock, uint64_t current_ts);
// REQUIRES: `status` is check-txn-status's result for `lock` without
// KeyErrors. nullopt: the transaction lives (kLocked), nothing to resolve.
std::optional<ResolveLockCmd> ResolutionOf(const LockInfo& lock, const TxnCommandResult& status);
// Whether `lock`'s own TTL has passed at current_ts (on the physical clock,
// as check-txn-status measures it). A secondary's TTL may pass while its
// transaction lives (heartbeats extend the primary's): only a hint to check.
bool LockTtlPassed(const Lock& lock, uint64_t current_ts);

}  // namespace tinykv::txn
