// StateHasher: see state_hash.h. XXH64's building blocks over one lane: each
// little-endian 8-byte word goes through the round function and is merged
// into the accumulator (XXH64's tail step); the last partial word is merged
// byte by byte; the length and the avalanche finish it.
#include "tinykv/replica/state_hash.h"

#include <algorithm>
#include <cstring>

#include "tinykv/common/coding.h"

namespace tinykv::replica {
namespace {

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kP2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kP3 = 0x165667B19E3779F9ull;
constexpr uint64_t kP4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kP5 = 0x27D4EB2F165667C5ull;

constexpr uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

constexpr uint64_t Round(uint64_t input) { return Rotl(input * kP2, 31) * kP1; }

}  // namespace

void StateHasher::Word(uint64_t w) {
  acc_ ^= Round(w);
  acc_ = Rotl(acc_, 27) * kP1 + kP4;
}

void StateHasher::Update(const char* data, size_t n) {
  length_ += n;
  if (buffered_ > 0) {
    const size_t take = std::min(n, sizeof(buf_) - buffered_);
    std::memcpy(buf_ + buffered_, data, take);
    buffered_ += take;
    data += take;
    n -= take;
    if (buffered_ < sizeof(buf_)) return;
    Word(DecodeFixed64(buf_));
    buffered_ = 0;
  }
  for (; n >= 8; data += 8, n -= 8) Word(DecodeFixed64(data));
  std::memcpy(buf_, data, n);
  buffered_ = n;
}

void StateHasher::AddField(Slice field) {
  char len[10];
  char* end = EncodeVarint64(len, field.size());
  Update(len, static_cast<size_t>(end - len));
  Update(field.data(), field.size());
}

void StateHasher::AddFixed64(uint64_t v) {
  char b[8];
  EncodeFixed64(b, v);
  Update(b, sizeof(b));
}

uint64_t StateHasher::Finish() const {
  uint64_t h = acc_;
  for (size_t i = 0; i < buffered_; ++i) {
    h ^= static_cast<uint64_t>(static_cast<uint8_t>(buf_[i])) * kP5;
    h = Rotl(h, 11) * kP1;
  }
  h ^= length_ * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

}  // namespace tinykv::replica
