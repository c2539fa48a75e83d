#include "tinykv/net/retry.h"

#include <algorithm>

namespace tinykv::net {

std::chrono::microseconds BackoffDelay(const RetryPolicy& policy, int retry, Random* rnd) {
  using std::chrono::microseconds;
  const int64_t initial = std::chrono::duration_cast<microseconds>(policy.initial_backoff).count();
  const int64_t cap = std::chrono::duration_cast<microseconds>(policy.max_backoff).count();
  const int shift = std::clamp(retry - 1, 0, 30);
  const int64_t ceiling = std::min<int64_t>(cap, initial << shift);
  if (ceiling <= 0) return microseconds(0);
  return microseconds(static_cast<int64_t>(rnd->Uniform(static_cast<uint64_t>(ceiling) + 1)));
}

bool ShouldRetry(const Status& status, bool reached_server, bool idempotent) {
  if (status.ok() || status.IsTimeout() || status.IsCancelled()) return false;
  if (!status.IsUnavailable()) return false;  // an answer from the server; retrying won't help
  return !reached_server || idempotent;
}

}  // namespace tinykv::net
