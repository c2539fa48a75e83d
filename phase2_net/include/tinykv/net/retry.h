// RetryPolicy: when and how long to wait before trying a call again.
//
// Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential
// Backoff And Jitter", 2015): before retry n (n = 1, 2, ...) sleep a uniform
// random time in [0, min(max_backoff, initial_backoff * 2^(n-1))]. Full jitter
// spreads a thundering herd of clients the best of the variants studied there.
//
// What may be retried (ShouldRetry) is decided by the client, not here:
// only failures where the request provably never reached the server
// (connect failed, the frame was never handed to the kernel, or the server
// answered with an error marked kErrorNotExecuted), or any
// Unavailable failure of a call marked idempotent. A Timeout is never
// retried: the deadline covers all attempts.
#pragma once

#include <chrono>
#include <cstdint>

#include "tinykv/common/random.h"
#include "tinykv/common/status.h"

namespace tinykv::net {

struct RetryPolicy {
  int max_attempts = 4;  // total tries, including the first; 1 disables retries
  std::chrono::milliseconds initial_backoff{10};
  std::chrono::milliseconds max_backoff{1000};
};

// The sleep before retry `retry` (1-based), drawn from `rnd`.
std::chrono::microseconds BackoffDelay(const RetryPolicy& policy, int retry, Random* rnd);

// Whether a failed attempt may be retried under the rules above.
// `reached_server`: the request frame was written to the connection.
bool ShouldRetry(const Status& status, bool reached_server, bool idempotent);

}  // namespace tinykv::net
