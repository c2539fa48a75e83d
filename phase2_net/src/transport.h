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
// Receive memory: the decoder's buffers grow only as bytes arrive (frame.h).
// A server passes a ReadBudget shared by all its connections: the memory of
// large frames in progress is charged to it, and a read that would take it
// past its limit waits (the connection stops reading; TCP pushes back on the
// sender) until other frames complete and release theirs. Reads adapt their
// size between 4 KiB and 64 KiB to the traffic, so an idle connection holds
// a small buffer. The write buffer is released after a large write.
//
// Thread safety: none. Everything runs on the stream's executor.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "event.h"
#include "tinykv/common/result.h"
#include "tinykv/net/frame.h"
#include "tinykv/net/stream.h"

namespace tinykv::net::internal {

// Memory for large frames in progress, shared by the connections of one
// server (thread-safe: connections run on different io threads).
//
// Frames grow in steps (frame.h), so two frames that each hold part of the
// budget and each need more could wait for each other forever. The
// overdraft breaks that: the read that has waited longest may take its
// frame's whole remaining size beyond the limit, one frame at a time. That
// frame needs nothing more, completes (or its sender is closed for being
// too slow), and releases. So the charge never exceeds limit + one frame
// (+ the bytes of each connection's last read, charged as they are moved).
class ReadBudget {
 public:
  enum class Grant { kNo, kWithinLimit, kOverdraft };

  explicit ReadBudget(size_t limit) : limit_(limit) {}
  // Charges n bytes if that keeps the total within the limit.
  bool TryAcquire(size_t n);
  // For a read that waits: a ticket (its place in line) ...
  uint64_t StartWaiting();
  // ... with which it asks again: n bytes within the limit, else, if it is
  // the longest waiting and nobody holds the overdraft, `whole` bytes (its
  // frame's whole rest) as the overdraft. Leaves the line on a grant.
  Grant TryAcquireWaiting(uint64_t ticket, size_t n, size_t whole);
  // Leaves the line without a grant (the connection closed).
  void StopWaiting(uint64_t ticket);
  // Charges n bytes regardless of the limit (bytes already received).
  void Add(size_t n);
  void Release(size_t n);
  // The frame holding the overdraft completed (its bytes are Released).
  void EndOverdraft();

  size_t used() const;
  size_t limit() const { return limit_; }
  // Reads that had to wait for the budget (a statistic).
  uint64_t waits() const;

 private:
  const size_t limit_;
  mutable std::mutex mu_;
  size_t used_ = 0;                  // guarded by mu_
  bool overdraft_taken_ = false;     // guarded by mu_
  uint64_t next_ticket_ = 1;         // guarded by mu_
  std::set<uint64_t> waiting_;       // guarded by mu_
  uint64_t waits_ = 0;               // guarded by mu_
};

struct TransportOptions {
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t write_queue_bytes = 4u << 20;
  std::shared_ptr<ReadBudget> budget;  // null: unbudgeted (clients)
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
  // trace_id: a request's (frame.h); 0 = none.
  awaitable<Status> Send(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload,
                         SteadyClock::time_point deadline = SteadyClock::time_point::max(),
                         uint64_t trace_id = 0);
  // Queues a frame without waiting for space. Returns false if closed.
  bool SendNow(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload,
               uint64_t trace_id = 0);

  // Closes now: pending reads and writes fail with `reason`. Idempotent.
  void Close(const Status& reason);
  // Writes what is queued, then closes (or closes after `grace` regardless).
  void CloseAfterFlush(std::chrono::milliseconds grace);

  bool closed() const { return closed_; }
  const Status& close_reason() const { return close_reason_; }
  size_t queued_bytes() const { return out_.size(); }
  SteadyClock::time_point last_read() const { return last_read_; }
  SteadyClock::time_point last_write() const { return last_write_; }
  // The frame in progress: some of its bytes arrived, not all. Since when
  // (its first bytes' read), how many bytes of it arrived, and how long its
  // reading has waited for the ReadBudget (not the sender's fault).
  bool frame_in_progress() const { return decoder_.buffered_bytes() > 0; }
  SteadyClock::time_point frame_started() const { return frame_started_; }
  size_t frame_bytes_received() const { return decoder_.buffered_bytes(); }
  SteadyClock::duration frame_budget_wait() const;
  // When the last complete frame was read (construction time before that).
  SteadyClock::time_point last_frame_completed() const { return last_frame_completed_; }
  // True while a write is in the kernel's hands; since when.
  bool write_in_progress() const { return write_in_progress_; }
  SteadyClock::time_point write_started() const { return write_started_; }

  // Called with the request id of every request frame once it has been
  // handed to the kernel (the client's "reached the server" evidence).
  std::function<void(uint64_t)> on_request_written;

 private:
  awaitable<void> WriteLoop(std::shared_ptr<Transport> self);
  // Waits until the ReadBudget grants `bytes` (or the transport closes).
  awaitable<void> AcquireBudget(size_t bytes);
  // Brings the budget's charge in line with the decoder's frame buffer.
  void SyncBudget();

  std::unique_ptr<Stream> stream_;
  TransportOptions options_;
  FrameDecoder decoder_;
  size_t read_size_;          // adaptive: FrameDecoder::kMinFrameReadBytes .. kReadBufferFrameBytes
  size_t budget_charged_ = 0;  // what this transport holds of options_.budget
  bool overdraft_ = false;     // the frame in progress holds the budget's overdraft
  Event budget_event_;         // woken by Close while waiting for the budget
  bool budget_waiting_ = false;
  SteadyClock::time_point budget_wait_started_;
  SteadyClock::duration frame_budget_wait_{};
  SteadyClock::time_point frame_started_;
  SteadyClock::time_point last_frame_completed_ = SteadyClock::now();
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
