// Tso: see tso.h.
#include "tinykv/txn/tso.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {

namespace {

class SystemUnixClock final : public Clock {
 public:
  uint64_t NowMicros() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }
  void SleepForMicros(uint64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

Clock* UnixClock() {
  static SystemUnixClock* const clock = new SystemUnixClock();  // never destroyed
  return clock;
}

TsoBackend ReplicaTsoBackend(replica::Replica* r, std::chrono::milliseconds timeout) {
  TsoBackend b;
  b.reserve = [r, timeout](uint64_t upto) -> Result<TxnCommandResult> {
    TINYKV_ASSIGN_OR_RETURN(std::string out,
                            r->ProposeSync(EncodeTxnCommand(ReserveTsCmd{upto}), timeout));
    return DecodeTxnCommandResult(Slice(out));
  };
  b.leader_term = [r]() -> uint64_t { return r->leader_term(); };
  return b;
}

Tso::Tso(TsoOptions options, TsoBackend backend)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : UnixClock()),
      backend_(std::move(backend)) {}

uint64_t Tso::reservations() const {
  std::lock_guard<std::mutex> l(mu_);
  return reservations_;
}

Status Tso::Reserve(uint64_t term, uint64_t need) {
  const uint64_t ahead = ComposeTs(clock_->NowMillis() + options_.window_ms, 0);
  const uint64_t upto = std::max({ahead, need, limit_ + ComposeTs(options_.window_ms, 0)});
  TINYKV_ASSIGN_OR_RETURN(TxnCommandResult r, backend_.reserve(upto));
  ++reservations_;
  if (r.term != term) {
    // Applied in another term than the one we lead in: not ours to serve.
    term_ = 0;
    return Status::NotLeader("tso: leadership changed during a reservation");
  }
  // Extending our own window: it continues. Anything else -- a first window,
  // or one another leader reserved past -- starts above the mark before it.
  if (term_ != term || r.prev_reserved != limit_) last_ = std::max(last_, r.prev_reserved);
  limit_ = r.reserved;
  term_ = term;
  return Status::OK();
}

Result<uint64_t> Tso::GetTimestamps(uint32_t count) {
  TINYKV_CHECK(count >= 1 && count <= (uint64_t{1} << kLogicalBits)) << "bad count " << count;
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t term = backend_.leader_term();
  if (term == 0) return Status::NotLeader("tso: not the leader");
  if (term != term_) term_ = 0;  // a window of another term is not ours any more
  uint64_t first = 0, end = 0;
  for (int attempt = 0;; ++attempt) {
    first = std::max(last_ + 1, ComposeTs(clock_->NowMillis(), 0));
    end = first + count - 1;
    if (term_ == term && end <= limit_) break;
    if (attempt == 3) return Status::Unavailable("tso: could not reserve a window");
    TINYKV_RETURN_IF_ERROR(Reserve(term, end));
  }
  last_ = end;
  // Ahead of use: the next window before this one runs out.
  if (PhysicalMs(limit_) - PhysicalMs(end) < options_.renew_before_ms) {
    Status s = Reserve(term, limit_ + 1);
    if (!s.ok()) {
      logging::Get("txn")->warn("tso: renewing the window failed: {}", s.ToString());
      if (s.IsNotLeader()) term_ = 0;
    }
  }
  return first;
}

}  // namespace tinykv::txn
