// RepeatFilter: keeps a warning that repeats from flooding the log.
//
// A peer that is refused (a wrong cluster id, say) typically retries at once
// and is refused again, every heartbeat. The first refusal is worth a
// warning; the same one a moment later is not. ShouldWarn(key) is true when
// `key` differs from the last key seen, or the window passed since that key
// was last logged at warn; callers log at debug otherwise.
//
// Thread safety: thread-safe (a server's connections share one).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

namespace tinykv::net::internal {

class RepeatFilter {
 public:
  explicit RepeatFilter(std::chrono::steady_clock::duration window = std::chrono::seconds(10))
      : window_(window) {}

  bool ShouldWarn(std::string_view key) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (key == last_key_ && now - last_warned_ < window_) return false;
    last_key_.assign(key);
    last_warned_ = now;
    return true;
  }

 private:
  const std::chrono::steady_clock::duration window_;
  std::mutex mu_;
  std::string last_key_;
  std::chrono::steady_clock::time_point last_warned_;
};

}  // namespace tinykv::net::internal
