#include "transport.h"

#include <algorithm>

namespace tinykv::net::internal {

namespace {
constexpr size_t kReadChunk = 64 << 10;
}  // namespace

Transport::Transport(std::unique_ptr<Stream> stream, TransportOptions options)
    : stream_(std::move(stream)), options_(options), decoder_(options.max_frame_bytes) {}

Transport::~Transport() { stream_->Close(); }

void Transport::Start() {
  asio::co_spawn(executor(), WriteLoop(shared_from_this()), asio::detached);
}

awaitable<Result<Frame>> Transport::ReadFrame() {
  for (;;) {
    auto next = decoder_.Next();
    if (!next.ok()) co_return next.status();
    if (next->has_value()) co_return std::move(**next);
    if (closed_) co_return close_reason_;
    // Read at least what the frame in progress still needs (bounded by the
    // frame limit, already checked by the decoder), or one chunk.
    const size_t want = std::max(decoder_.BytesWanted(), kReadChunk);
    char* dst = decoder_.Prepare(want);
    Result<size_t> n = co_await stream_->ReadSome(asio::buffer(dst, want));
    if (closed_) co_return close_reason_;
    if (!n.ok()) co_return n.status();
    decoder_.Commit(*n);
    last_read_ = SteadyClock::now();
  }
}

bool Transport::SendNow(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload) {
  if (closed_ || flush_then_close_) return false;
  AppendFrame(&out_, kind, request_id, method_id, payload);
  if (kind == FrameKind::kRequest) out_request_ids_.push_back(request_id);
  write_event_.NotifyAll();
  return true;
}

awaitable<Status> Transport::Send(FrameKind kind, uint64_t request_id, uint32_t method_id,
                                  Slice payload, SteadyClock::time_point deadline) {
  while (!closed_ && !flush_then_close_ && out_.size() >= options_.write_queue_bytes) {
    if (SteadyClock::now() >= deadline) {
      co_return Status::Timeout("write queue to " + peer() + " stayed full until the deadline");
    }
    co_await space_event_.Wait(deadline);
  }
  if (closed_) co_return close_reason_.ok() ? Status::Unavailable("connection closed") : close_reason_;
  if (!SendNow(kind, request_id, method_id, payload)) {
    co_return Status::Unavailable("connection to " + peer() + " is closing");
  }
  co_return Status::OK();
}

awaitable<void> Transport::WriteLoop(std::shared_ptr<Transport> self) {
  for (;;) {
    while (out_.empty() && !closed_ && !flush_then_close_) {
      co_await write_event_.Wait(SteadyClock::time_point::max());
    }
    if (closed_) break;
    if (out_.empty()) {  // flush_then_close_ and everything is written
      Close(Status::Unavailable("connection closed after flush"));
      break;
    }
    writing_.clear();
    writing_request_ids_.clear();
    std::swap(out_, writing_);
    std::swap(out_request_ids_, writing_request_ids_);
    const asio::const_buffer buffers[1] = {asio::buffer(writing_)};
    write_in_progress_ = true;
    write_started_ = SteadyClock::now();
    Status s = co_await stream_->WriteAll(buffers);
    write_in_progress_ = false;
    if (!s.ok()) {
      Close(closed_ ? close_reason_ : s);
      break;
    }
    last_write_ = SteadyClock::now();
    if (on_request_written) {
      for (uint64_t id : writing_request_ids_) on_request_written(id);
    }
    space_event_.NotifyAll();
  }
  (void)self;
}

void Transport::Close(const Status& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason.ok() ? Status::Unavailable("connection closed") : reason;
  stream_->Close();
  if (grace_timer_) grace_timer_->cancel();
  write_event_.NotifyAll();
  space_event_.NotifyAll();
}

void Transport::CloseAfterFlush(std::chrono::milliseconds grace) {
  if (closed_ || flush_then_close_) return;
  flush_then_close_ = true;
  write_event_.NotifyAll();
  space_event_.NotifyAll();
  grace_timer_ = std::make_unique<asio::steady_timer>(executor(), grace);
  grace_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->Close(Status::Unavailable("connection closed: flush grace period expired"));
  });
}

}  // namespace tinykv::net::internal
