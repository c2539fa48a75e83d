// Event: "something changed, re-check your condition" for coroutines that
// share one single-threaded executor (a connection's io thread).
//
//   while (!condition()) {
//     if (Clock::now() >= deadline) return Timeout;
//     co_await event.Wait(deadline);
//   }
//
// NotifyAll wakes every current waiter. Wakeups can be spurious and a
// waiter's deadline may pass silently; callers always re-check both in a
// loop. Because every user runs on the same thread, there is no gap between
// checking the condition and starting to wait, so no wakeup is lost.
//
// Thread safety: none; one executor only.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include "tinykv/net/asio.h"

namespace tinykv::net::internal {

using SteadyClock = std::chrono::steady_clock;

class Event {
 public:
  awaitable<void> Wait(SteadyClock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    // Unregisters in a destructor, so that a coroutine frame destroyed while
    // suspended here (its io_context shut down) leaves no dangling pointer.
    struct Registration {
      std::vector<asio::steady_timer*>* waiters;
      asio::steady_timer* timer;
      ~Registration() { waiters->erase(std::find(waiters->begin(), waiters->end(), timer)); }
    } registration{&waiters_, &timer};
    waiters_.push_back(&timer);
    boost::system::error_code ec;  // aborted = notified; success = deadline
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void NotifyAll() {
    for (asio::steady_timer* t : waiters_) t->cancel();
  }
  bool has_waiters() const { return !waiters_.empty(); }

 private:
  std::vector<asio::steady_timer*> waiters_;
};

}  // namespace tinykv::net::internal
