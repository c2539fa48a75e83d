// Random: a small, fast, seeded pseudo-random generator (xoshiro256**,
// seeded through splitmix64). Deterministic for a given seed on every
// platform, which the Raft simulator relies on: a failing seed replays
// exactly (docs/style.md, "Determinism and seams").
//
// Not cryptographic. Not thread-safe: give each thread or component its own
// instance (Fork() derives an independent stream).
#pragma once

#include <cstdint>
#include <string>

namespace tinykv {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t seed() const { return seed_; }

  // Uniform 64-bit value.
  uint64_t Next();
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi);
  // True with probability 1/n. REQUIRES: n > 0.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }
  // True with probability p (clamped to [0, 1]).
  bool Bernoulli(double p);
  // Uniform double in [0, 1).
  double NextDouble();
  // Picks a base uniformly from [0, max_log] and returns a value uniform in
  // [0, 2^base): favours small numbers, as leveldb's Random::Skewed.
  uint64_t Skewed(int max_log);
  // n uniformly random bytes (any value, including '\0' and '\xff').
  std::string Bytes(size_t n);
  // A new generator whose stream is independent of this one's future output.
  Random Fork();

 private:
  uint64_t seed_;
  uint64_t s_[4];
};

// A seed for tests: the value of TINYKV_SEED if set, else a fresh random one.
// Tests print it so a failure can be replayed with TINYKV_SEED=<seed>.
uint64_t TestSeed();

}  // namespace tinykv
