// Helpers shared by the KvNode test fixtures (kv_node_test.cc,
// kv_node_member_test.cc).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/replica/kv_node.h"
#include "tinykv/testing/test_util.h"

namespace tinykv::replica::node_test {
using namespace raft;  // NOLINT: core types in tests

// Runs attempt(node) at the node leader() names (nullptr: none, which is
// Unavailable) until it returns anything but a transient refusal
// (transient(status): an election in progress and the like), at most `tries`
// times 20 ms apart; returns the last outcome.
template <typename T, typename LeaderFn, typename Attempt, typename Transient>
Result<T> RetryAtLeader(LeaderFn leader, Attempt attempt, Transient transient, int tries) {
  Status last = Status::Unavailable("no attempt made");
  for (int i = 0; i < tries; ++i) {
    auto* node = leader();
    if (node == nullptr) return Status::Unavailable("no leader");
    Result<T> r = attempt(node);
    if (r.ok() || !transient(r.status())) return r;
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return last;
}

// Waits until node's applied state holds `value` for `key` (nullopt: absent).
inline bool WaitValue(KvNode* node, const std::string& key,
                      const std::optional<std::string>& value,
                      std::chrono::milliseconds timeout) {
  return ::tinykv::testing::WaitUntil(
      [&] {
        auto r = node->Get(key);
        return r.ok() && *r == value;
      },
      timeout);
}

}  // namespace tinykv::replica::node_test
