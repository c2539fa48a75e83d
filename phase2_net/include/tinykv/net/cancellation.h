// CancellationToken: lets one thread cancel calls started on another.
//
//   auto token = std::make_shared<CancellationToken>();
//   CallOptions opts; opts.cancel = token;
//   ... client->CallSync<M>(addr, req, opts) on thread A ...
//   token->Cancel();   // thread B: the call returns Cancelled promptly, and
//                      // the server is told to stop (a cancel frame).
//
// A token can be shared by many calls; cancelling it cancels all of them,
// including calls started after Cancel(). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace tinykv::net {

class CancellationToken {
 public:
  using Callback = std::function<void()>;

  void Cancel() {
    std::unordered_map<uint64_t, Callback> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& [id, cb] : callbacks) cb();
  }
  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }
  // Registers a callback run (on the cancelling thread) by Cancel. Returns 0
  // and does not register if already cancelled. The callback must be cheap
  // and must not block (it posts to an executor).
  uint64_t Register(Callback cb) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return 0;
    const uint64_t id = ++next_id_;
    callbacks_.emplace(id, std::move(cb));
    return id;
  }
  void Unregister(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, Callback> callbacks_;
};

}  // namespace tinykv::net
