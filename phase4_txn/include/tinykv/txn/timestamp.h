// Timestamps of the transaction layer: hybrid timestamps, as TiKV's PD hands
// them out.
//
//   ts = physical_ms << 18 | logical
//
// physical_ms is milliseconds of the oracle's Clock; logical counts the
// timestamps handed out within one millisecond (2^18 = 262144 of them). The
// oracle (tso.h) keeps them strictly increasing however the clock moves, so a
// timestamp is also a unique name: no two transactions share a start_ts, and
// no commit_ts equals another transaction's start_ts. A lock's TTL is
// measured on the physical part only (PhysicalMs).
//
// 0 is never handed out: it means "none" (ResolveLock's commit_ts 0 = roll
// back), and kMaxTs means "newest" (a read at kMaxTs sees every commit).
#pragma once

#include <cstdint>
#include <limits>

namespace tinykv::txn {

inline constexpr int kLogicalBits = 18;
inline constexpr uint64_t kLogicalMask = (uint64_t{1} << kLogicalBits) - 1;
inline constexpr uint64_t kMaxTs = std::numeric_limits<uint64_t>::max();

constexpr uint64_t ComposeTs(uint64_t physical_ms, uint64_t logical) {
  return (physical_ms << kLogicalBits) | (logical & kLogicalMask);
}
constexpr uint64_t PhysicalMs(uint64_t ts) { return ts >> kLogicalBits; }
constexpr uint64_t LogicalOf(uint64_t ts) { return ts & kLogicalMask; }

}  // namespace tinykv::txn
