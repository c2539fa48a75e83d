// gRPC's async client API (CompletionQueue) as C++20 coroutines, for the
// etcd backend of tinykv-bench (etcd_grpc_backend.cc: unary KV calls and
// lease keep-alive streams; etcd_grpc_watch.cc: watch streams).
//
// How: every async operation is started with a Completion as its tag; the
// one thread that polls the operation's CompletionQueue (PollUntilShutdown)
// stores `ok` and resumes the coroutine waiting on it. A coroutine that only
// uses one queue is therefore always resumed by that queue's thread, so the
// coroutines of one queue never run concurrently -- the reader and the
// writer of one stream included -- and what they share needs no lock.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "bench_backend.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::bench {

// A coroutine that runs at once, up to its first suspension, and frees its
// frame when it returns. Completion is signalled by the body (a latch).
struct DetachedTask {
  struct promise_type {
    DetachedTask get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

// What a completion queue hands back: the coroutine to resume.
struct Completion {
  std::coroutine_handle<> waiter;
  bool ok = false;
};

// Resumes the waiter of every tag `cq` yields, until the queue is shut down
// and drained. One thread per queue.
void PollUntilShutdown(grpc::CompletionQueue* cq);

// co_await CqOp(start): calls start(tag) (which starts one async operation
// with that tag: a stream's StartCall, Write, Read, WritesDone, Finish) and
// resumes with the operation's `ok`. The awaiter lives in the coroutine's
// frame until then, so the tag stays valid.
template <typename Start>
class CqOp {
 public:
  explicit CqOp(Start start) : start_(std::move(start)) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    done_.waiter = h;
    start_(static_cast<void*>(&done_));  // the poller may resume h before this returns
  }
  bool await_resume() const noexcept { return done_.ok; }

 private:
  Start start_;
  Completion done_;
};

// Plaintext, or TLS with the options' files (gRPC reads PEM text, not paths).
Result<std::shared_ptr<grpc::ChannelCredentials>> CredentialsOf(const BackendOptions& o);

// A channel with its own HTTP/2 connection, tuned for a load generator
// (etcd_grpc_backend.cc says how).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& endpoint,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials);

// A gRPC status as a Status ("etcd: " and the message; the code mapped).
Status StatusOfGrpc(const grpc::Status& status);

}  // namespace tinykv::bench
