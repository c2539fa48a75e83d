// Waiting for an open-loop request's intended start (open_loop.h) inside a
// coroutine on an Asio executor: the tinykv and etcd-http backends. (The
// etcd gRPC backend waits with a grpc::Alarm on its CompletionQueue.)
#pragma once

#include "tinykv/net/asio.h"  // first: see the header

#include <chrono>

namespace tinykv::bench {

// Suspends the calling coroutine until `t` (at once if it has passed),
// without blocking the executor's thread.
inline net::awaitable<void> WaitUntil(std::chrono::steady_clock::time_point t) {
  if (std::chrono::steady_clock::now() >= t) co_return;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, t);
  boost::system::error_code ec;  // a cancelled wait just ends early
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

}  // namespace tinykv::bench
