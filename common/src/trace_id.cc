// Trace ids: see trace_id.h.
#include "tinykv/common/trace_id.h"

#include <atomic>
#include <chrono>
#include <random>

namespace tinykv {

uint64_t NewTraceId() {
  // splitmix64 over a per-process random start and a counter: distinct ids
  // within a process, unpredictable across processes, no lock.
  static const uint64_t start = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  static std::atomic<uint64_t> counter{0};
  for (;;) {
    const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    uint64_t z = start + 0x9e3779b97f4a7c15ULL * n;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    if (z != 0) return z;
  }
}

std::string FormatTraceId(uint64_t id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, id >>= 4) out[i] = kHex[id & 0xf];
  return out;
}

std::optional<uint64_t> ParseTraceId(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace tinykv
