// Transport: frames over a Stream, shared by the server's connections and
// the client's channels.
//
// Reading: ReadFrame pulls bytes into a FrameDecoder and returns whole,
// checksum-verified frames. Writing: Send appends the encoded frame to an
// output buffer; one WriteLoop coroutine writes everything queued in a single
// gathered write, so N concurrent callers cost one syscall, not N (the reason
// a multiplexed connection beats one-connection-per-call on loopback).
//
// Back-pressure: Send waits while more than write_queue_bytes are queued
// (a slow reader slows down its writers instead of growing memory).
// SendNow skips the wait; it is for small control frames only.
//
// Thread safety: none. Everything runs on the stream's executor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event.h"
#include "tinykv/common/result.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/stream.h"

namespace tinykv::net::internal {

struct TransportOptions {
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t write_queue_bytes = 4u << 20;
};

class Transport : public std::enable_shared_from_this<Transport> {
 public:
  Transport(std::unique_ptr<Stream> stream, TransportOptions options);
  ~Transport();

  asio::any_io_executor executor() { return stream_->get_executor(); }
  const std::string& peer() const { return stream_->peer(); }

  // Starts the write loop. Call once, before Send.
  void Start();

  // The next frame. Errors: framing errors from FrameDecoder (Corruption,
  // ResourceExhausted), Unavailable on EOF/reset, or the Close reason.
  // One reader at a time.
  awaitable<Result<Frame>> ReadFrame();

  // Queues a frame; waits (up to deadline) while the queue is full.
  // Unavailable/Cancelled once closed; Timeout if the deadline passes first.
  awaitable<Status> Send(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload,
                         SteadyClock::time_point deadline = SteadyClock::time_point::max());
  // Queues a frame without waiting for space. Returns false if closed.
  bool SendNow(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload);

  // Closes now: pending reads and writes fail with `reason`. Idempotent.
  void Close(const Status& reason);
  // Writes what is queued, then closes (or closes after `grace` regardless).
  void CloseAfterFlush(std::chrono::milliseconds grace);

  bool closed() const { return closed_; }
  const Status& close_reason() const { return close_reason_; }
  size_t queued_bytes() const { return out_.size(); }
  SteadyClock::time_point last_read() const { return last_read_; }
  SteadyClock::time_point last_write() const { return last_write_; }
  // True while a write is in the kernel's hands; since when.
  bool write_in_progress() const { return write_in_progress_; }
  SteadyClock::time_point write_started() const { return write_started_; }

  // Called with the request id of every request frame once it has been
  // handed to the kernel (the client's "reached the server" evidence).
  std::function<void(uint64_t)> on_request_written;

 private:
  awaitable<void> WriteLoop(std::shared_ptr<Transport> self);

  std::unique_ptr<Stream> stream_;
  TransportOptions options_;
  FrameDecoder decoder_;
  std::string out_;      // frames queued for the next write
  std::string writing_;  // frames in the write in progress
  std::vector<uint64_t> out_request_ids_;
  std::vector<uint64_t> writing_request_ids_;
  Event write_event_;  // out_ grew, or closing
  Event space_event_;  // out_ shrank, or closed
  bool closed_ = false;
  bool flush_then_close_ = false;
  Status close_reason_;
  SteadyClock::time_point last_read_ = SteadyClock::now();
  SteadyClock::time_point last_write_ = SteadyClock::now();
  bool write_in_progress_ = false;
  SteadyClock::time_point write_started_;
  std::unique_ptr<asio::steady_timer> grace_timer_;
};

}  // namespace tinykv::net::internal
