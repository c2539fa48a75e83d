#include "transport.h"

#include <algorithm>

namespace tinykv::net::internal {

namespace {
constexpr size_t kMinRead = FrameDecoder::kMinFrameReadBytes;
constexpr size_t kMaxRead = FrameDecoder::kReadBufferFrameBytes;
// A write buffer above this is released after its write instead of kept for
// the next one (a connection that once sent a 4 MiB response keeps nothing).
constexpr size_t kKeepWriteBufferBytes = 256u << 10;
// How often a read waiting for the ReadBudget looks again (the budget is
// released from other io threads, which cannot wake this one directly).
constexpr auto kBudgetPoll = std::chrono::milliseconds(10);
}  // namespace

bool ReadBudget::TryAcquire(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ + n > limit_) return false;
  used_ += n;
  return true;
}

uint64_t ReadBudget::StartWaiting() {
  std::lock_guard<std::mutex> lock(mu_);
  ++waits_;
  const uint64_t ticket = next_ticket_++;
  waiting_.insert(ticket);
  return ticket;
}

ReadBudget::Grant ReadBudget::TryAcquireWaiting(uint64_t ticket, size_t n, size_t whole) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ + n <= limit_) {
    used_ += n;
    waiting_.erase(ticket);
    return Grant::kWithinLimit;
  }
  if (!overdraft_taken_ && !waiting_.empty() && *waiting_.begin() == ticket) {
    overdraft_taken_ = true;
    used_ += whole;
    waiting_.erase(ticket);
    return Grant::kOverdraft;
  }
  return Grant::kNo;
}

void ReadBudget::StopWaiting(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  waiting_.erase(ticket);
}

void ReadBudget::Add(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  used_ += n;
}

void ReadBudget::Release(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  used_ -= n;
}

void ReadBudget::EndOverdraft() {
  std::lock_guard<std::mutex> lock(mu_);
  overdraft_taken_ = false;
}

size_t ReadBudget::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

uint64_t ReadBudget::waits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waits_;
}

Transport::Transport(std::unique_ptr<Stream> stream, TransportOptions options)
    : stream_(std::move(stream)),
      options_(std::move(options)),
      decoder_(options_.max_frame_bytes),
      read_size_(kMinRead) {}

Transport::~Transport() {
  stream_->Close();
  if (options_.budget) {
    if (budget_charged_ > 0) options_.budget->Release(budget_charged_);
    if (overdraft_) options_.budget->EndOverdraft();
  }
}

SteadyClock::duration Transport::frame_budget_wait() const {
  return frame_budget_wait_ +
         (budget_waiting_ ? SteadyClock::now() - budget_wait_started_ : SteadyClock::duration{});
}

void Transport::SyncBudget() {
  if (!options_.budget) return;
  const size_t held = decoder_.frame_buffer_bytes();
  if (held > budget_charged_) {
    options_.budget->Add(held - budget_charged_);
  } else if (held < budget_charged_) {
    options_.budget->Release(budget_charged_ - held);
  }
  budget_charged_ = held;
  if (overdraft_ && held == 0) {  // the overdrawn frame is complete
    options_.budget->EndOverdraft();
    overdraft_ = false;
  }
}

awaitable<void> Transport::AcquireBudget(size_t bytes) {
  ReadBudget& budget = *options_.budget;
  if (budget.TryAcquire(bytes)) {
    budget_charged_ += bytes;
    co_return;
  }
  const uint64_t ticket = budget.StartWaiting();
  budget_waiting_ = true;
  budget_wait_started_ = SteadyClock::now();
  for (;;) {
    co_await budget_event_.Wait(SteadyClock::now() + kBudgetPoll);
    if (closed_) {
      budget.StopWaiting(ticket);
      break;
    }
    const size_t whole = decoder_.FrameBufferGrowthToEnd();
    const ReadBudget::Grant grant = budget.TryAcquireWaiting(ticket, bytes, whole);
    if (grant == ReadBudget::Grant::kWithinLimit) {
      budget_charged_ += bytes;
      break;
    }
    if (grant == ReadBudget::Grant::kOverdraft) {
      // The whole rest of the frame at once: it will need nothing more.
      decoder_.ReserveWholeFrame();
      budget_charged_ += whole;
      overdraft_ = true;
      break;
    }
  }
  budget_waiting_ = false;
  frame_budget_wait_ += SteadyClock::now() - budget_wait_started_;
}

void Transport::Start() {
  asio::co_spawn(executor(), WriteLoop(shared_from_this()), asio::detached);
}

awaitable<Result<Frame>> Transport::ReadFrame() {
  for (;;) {
    auto next = decoder_.Next();
    SyncBudget();
    if (!next.ok()) co_return next.status();
    if (next->has_value()) {
      last_frame_completed_ = SteadyClock::now();
      // Bytes left over belong to the next frame, which began with them.
      frame_started_ = last_read_;
      frame_budget_wait_ = {};
      co_return std::move(**next);
    }
    if (closed_) co_return close_reason_;
    if (options_.budget) {
      const size_t growth = decoder_.FrameBufferGrowth(read_size_);
      if (growth > 0) {
        co_await AcquireBudget(growth);
        if (closed_) co_return close_reason_;
      }
    }
    const bool frame_was_empty = decoder_.buffered_bytes() == 0;
    const FrameDecoder::ReadSpace space = decoder_.PrepareRead(read_size_);
    Result<size_t> n = co_await stream_->ReadSome(asio::buffer(space.data, space.size));
    decoder_.CommitRead(n.ok() && !closed_ ? *n : 0);
    SyncBudget();
    if (closed_) co_return close_reason_;
    if (!n.ok()) co_return n.status();
    last_read_ = SteadyClock::now();
    if (frame_was_empty && *n > 0) {
      frame_started_ = last_read_;
      frame_budget_wait_ = {};
    }
    // A read that filled its space suggests more is waiting: offer more next
    // time. One that came back mostly empty: offer less (an idle connection
    // ends up holding a small buffer).
    if (*n == space.size) {
      read_size_ = std::min(kMaxRead, read_size_ * 2);
    } else if (*n < space.size / 4) {
      read_size_ = std::max(kMinRead, read_size_ / 2);
    }
  }
}

bool Transport::SendNow(FrameKind kind, uint64_t request_id, uint32_t method_id, Slice payload,
                        uint64_t trace_id) {
  if (closed_ || flush_then_close_) return false;
  AppendFrame(&out_, kind, request_id, method_id, payload, trace_id);
  if (kind == FrameKind::kRequest) out_request_ids_.push_back(request_id);
  write_event_.NotifyAll();
  return true;
}

awaitable<Status> Transport::Send(FrameKind kind, uint64_t request_id, uint32_t method_id,
                                  Slice payload, SteadyClock::time_point deadline,
                                  uint64_t trace_id) {
  while (!closed_ && !flush_then_close_ && out_.size() >= options_.write_queue_bytes) {
    if (SteadyClock::now() >= deadline) {
      co_return Status::Timeout("write queue to " + peer() + " stayed full until the deadline");
    }
    co_await space_event_.Wait(deadline);
  }
  if (closed_) co_return close_reason_.ok() ? Status::Unavailable("connection closed") : close_reason_;
  if (!SendNow(kind, request_id, method_id, payload, trace_id)) {
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
    if (writing_.capacity() > kKeepWriteBufferBytes) std::string().swap(writing_);
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
  budget_event_.NotifyAll();
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
