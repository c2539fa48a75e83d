// AwaitCallback: turns a callback-style asynchronous call (KvNode::Propose,
// KvNode::ReadBarrier — their callbacks run on the node's own threads) into
// an Asio awaitable for the service's handler coroutines.
//
// The callback does not resume the coroutine itself (that would run the
// handler, and the rest of the connection's work, on the node's thread); it
// posts the value to the executor the coroutine is bound to — the
// connection's io thread — and the coroutine resumes there. So no io thread
// ever blocks waiting for Raft.
//
// REQUIRES: the callback is invoked exactly once, and while the io_context
// behind the awaiting coroutine still exists (it may be stopped: the value is
// then dropped with the coroutine). service.h states the shutdown order that
// guarantees it.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/net/asio.h"

namespace tinykv::client::internal {

// `start(done)` begins the operation; `done(T)` may be called from any thread.
template <typename T, typename Start>
net::awaitable<T> AwaitCallback(Start start) {
  namespace asio = net::asio;
  auto initiation = [start = std::move(start)](auto handler) mutable {
    using Handler = decltype(handler);
    auto shared = std::make_shared<Handler>(std::move(handler));
    std::function<void(T)> done = [shared](T value) {
      auto ex = asio::get_associated_executor(*shared);
      asio::post(ex, [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
    };
    start(std::move(done));
  };
  // Built in its own statement, then awaited: GCC 12 mis-destroys class
  // temporaries inside a co_await expression (phase2_net/README.md).
  auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(initiation),
                                                                          asio::use_awaitable);
  T value = co_await std::move(op);
  co_return value;
}

// What a Result<T> callback hands the coroutine: Asio needs a
// default-constructible value, which Result<T> is not.
template <typename T>
struct Outcome {
  Status status;
  T value{};
};

// AwaitCallback for the node's usual shape, a callback taking Result<T>:
// `start(done)` begins the call with `done(Result<T>)`; the awaitable
// yields that Result.
template <typename T, typename Start>
net::awaitable<Result<T>> AwaitResult(Start start) {
  auto op = AwaitCallback<Outcome<T>>(
      [start = std::move(start)](std::function<void(Outcome<T>)> done) mutable {
        start([done = std::move(done)](Result<T> r) {
          Outcome<T> out;
          if (r.ok()) {
            out.value = std::move(r).value();
          } else {
            out.status = r.status();
          }
          done(std::move(out));
        });
      });
  Outcome<T> out = co_await std::move(op);
  if (!out.status.ok()) co_return std::move(out.status);
  co_return std::move(out.value);
}

}  // namespace tinykv::client::internal
