// xoshiro256** by Blackman and Vigna (https://prng.di.unimi.it/), seeded with
// splitmix64 so that nearby seeds give unrelated streams.
#include "tinykv/common/random.h"

#include <cstdlib>
#include <random>

#include "tinykv/common/check.h"

namespace tinykv {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(&x);
}

uint64_t Random::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Random::Uniform(uint64_t n) {
  TINYKV_CHECK(n > 0);
  // Lemire's multiply-shift with rejection: unbiased and division-free.
  __extension__ using u128 = unsigned __int128;
  u128 m = static_cast<u128>(Next()) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<u128>(Next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

uint64_t Random::Range(uint64_t lo, uint64_t hi) {
  TINYKV_CHECK(lo <= hi);
  if (hi - lo == UINT64_MAX) return Next();
  return lo + Uniform(hi - lo + 1);
}

double Random::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Random::Bernoulli(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return NextDouble() < p;
}

uint64_t Random::Skewed(int max_log) {
  const uint64_t base = Uniform(static_cast<uint64_t>(max_log) + 1);
  return base >= 64 ? Next() : Uniform(uint64_t{1} << base);
}

std::string Random::Bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(Next() & 0xff);
  return out;
}

Random Random::Fork() { return Random(Next()); }

uint64_t TestSeed() {
  if (const char* env = std::getenv("TINYKV_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 0);
  }
  return std::random_device{}();
}

}  // namespace tinykv
