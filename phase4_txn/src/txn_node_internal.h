// Helpers shared by TxnNode's two source files (txn_node.cc, txn_node_lease.cc).
#pragma once

#include <algorithm>
#include <chrono>

#include "tinykv/common/status.h"

namespace tinykv::txn::internal {

// The time left until `deadline`, at least 1 ms (a proposal's timeout).
inline std::chrono::milliseconds Left(std::chrono::steady_clock::time_point deadline) {
  using std::chrono::milliseconds;
  return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(
                                       deadline - std::chrono::steady_clock::now()));
}

// Proposal outcomes after which the entry is certainly not in the log (or
// not in any log that can commit it): its timestamp is released at once.
// Any other failure (Timeout, Cancelled, Unavailable) leaves the entry's
// fate open; its record goes when it applies or when the term ends.
inline bool NeverApplies(const Status& s) {
  return s.IsNotLeader() || s.IsAborted() || s.IsBusy() || s.IsResourceExhausted() ||
         s.IsInvalidArgument();
}

}  // namespace tinykv::txn::internal
