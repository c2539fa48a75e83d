// The queue of contenders under a prefix that Mutex and Election share
// (concurrency.h "The queue"): entering it, reading it, waiting for one's
// turn.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/client/concurrency.h"

namespace tinykv::client::concurrency_internal {

// "PREFIX/" (the queue's keys start with it) and a session's key in it.
std::string QueuePrefix(const std::string& prefix);
std::string QueueKey(const std::string& queue_prefix, uint64_t lease);

// Puts `key` with `value`, attached to the session's lease, unless it
// exists (then only a different value is written, when `set_value`: the
// key keeps its create revision, its place in the queue). The key holds
// the session's lease id, so only this session writes it: the check and
// the put need no transaction (which would detach the lease anyway).
Status Enqueue(Session& session, const std::string& key, const std::string& value,
               bool set_value);

// One linearizable scan of the queue (or at `revision`, when not 0).
struct QueueView {
  std::vector<KeyValue> kvs;
  uint64_t revision = 0;  // the scan's
  int owner = -1;         // index of the lowest create revision; -1: empty queue
  int self = -1;          // index of `key`; -1: not in the queue (or no key given)
  int predecessor = -1;   // the greatest create revision below self's; -1: none
};
Result<QueueView> ReadQueue(Client& client, const std::string& queue_prefix,
                            const std::string& key, uint64_t revision = 0);

// Waits until `key` owns the queue; returns its create revision then.
// NotFound when the key is gone (the session's lease was revoked or
// expired), Timeout and Cancelled as `wait` says. `what` names the caller
// in errors ("mutex", "election"). The caller deletes the key on failure.
Result<uint64_t> WaitForTurn(Session& session, const std::string& queue_prefix,
                             const std::string& key, const WaitOptions& wait, const char* what);

}  // namespace tinykv::client::concurrency_internal
