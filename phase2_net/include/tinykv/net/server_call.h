// ServerCall and ServerWriter: what a handler sees of the call it serves.
//
// A server-streaming handler gets a ServerWriter<Item>& and yields items:
//
//   awaitable<Status> Scan(ScanRequest req, ServerWriter<KeyValue>& out) {
//     for (...) {
//       TINYKV_RETURN_IF_ERROR(co_await out.Write(kv));   // Cancelled: client gone or cancelled
//     }
//     co_return Status::OK();                            // -> stream-end frame
//   }
//
// Write waits while the connection's write queue is full (back-pressure), and
// returns Cancelled as soon as the client cancels the call, its deadline
// passes on the client (the client sends a cancel frame), the connection
// closes, or the server shuts down past its drain deadline. A handler must
// stop yielding when Write fails.
//
// GCC 12 caution for handler authors: do not build temporaries of class type
// inside a co_await expression (`co_await out.Write(Item{...})`); GCC 12
// destroys them twice. Name the item first, then `co_await out.Write(item)`.
//
// Thread safety: a ServerCall belongs to its connection's io thread; use it
// only from the handler's coroutine.
#pragma once

#include <cstdint>
#include <string>

#include "tinykv/common/status.h"
#include "tinykv/net/asio.h"
#include "tinykv/net/serialization.h"

namespace tinykv::net {

class ServerCall {
 public:
  virtual ~ServerCall() = default;
  virtual uint64_t request_id() const = 0;
  // "ip:port" of the client.
  virtual const std::string& peer() const = 0;
  // What the server's hello handler returned for this connection (the
  // identity the peer's hello claims); 0 without a hello.
  virtual uint64_t peer_id() const = 0;
  // The request frame's trace id (frame.h; common/trace_id.h); 0 = none.
  virtual uint64_t trace_id() const { return 0; }
  // True once the client cancelled, the connection closed, or shutdown forced.
  virtual bool cancelled() const = 0;
  // Queues one stream item, waiting for room in the write queue.
  virtual awaitable<Status> WriteItem(std::string payload) = 0;
};

template <typename Item>
class ServerWriter {
 public:
  explicit ServerWriter(ServerCall* call) : call_(call) {}
  awaitable<Status> Write(const Item& item) {
    if (call_->cancelled()) co_return Status::Cancelled("stream cancelled");
    auto write = call_->WriteItem(EncodeMessage(item));  // split: GCC 12 co_await bug
    co_return co_await std::move(write);
  }
  bool cancelled() const { return call_->cancelled(); }
  ServerCall& call() { return *call_; }

 private:
  ServerCall* call_;
};

}  // namespace tinykv::net
