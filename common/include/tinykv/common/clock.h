// Clock: the one way TinyKV code asks "what time is it" (docs/style.md, "Determinism and seams"), so tests
// and the Raft simulator can own time.
//
//   SystemClock  — the real monotonic clock; SleepFor really sleeps.
//   ManualClock  — time moves only when Advance() is called; SleepFor
//                  advances it (useful for single-threaded simulations).
//
// Thread safety: all methods of both clocks are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tinykv {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic microseconds since an arbitrary epoch.
  virtual uint64_t NowMicros() const = 0;
  virtual void SleepForMicros(uint64_t micros) = 0;

  uint64_t NowMillis() const { return NowMicros() / 1000; }

  // The process-wide real clock. Never null, never destroyed.
  static Clock* Real();
};

class SystemClock final : public Clock {
 public:
  uint64_t NowMicros() const override;
  void SleepForMicros(uint64_t micros) override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_micros = 0) : now_(start_micros) {}
  uint64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  void SleepForMicros(uint64_t micros) override { Advance(micros); }
  void Advance(uint64_t micros) { now_.fetch_add(micros, std::memory_order_acq_rel); }
  void Set(uint64_t micros) { now_.store(micros, std::memory_order_release); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace tinykv
