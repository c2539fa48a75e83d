#include "tinykv/common/clock.h"

#include <thread>

namespace tinykv {

uint64_t SystemClock::NowMicros() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void SystemClock::SleepForMicros(uint64_t micros) {
  std::this_thread::sleep_for(std::chrono::microseconds(micros));
}

Clock* Clock::Real() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return clock;
}

}  // namespace tinykv
