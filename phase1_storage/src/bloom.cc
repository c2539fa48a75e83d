#include "bloom.h"

#include "tinykv/common/coding.h"

namespace tinykv::storage {

uint32_t BloomHash(Slice key) {
  // Murmur-like hash, as LevelDB's util/hash.cc.
  constexpr uint32_t kSeed = 0xbc9f1d34;
  constexpr uint32_t m = 0xc6a4a793;
  constexpr uint32_t r = 24;
  const char* data = key.data();
  const size_t n = key.size();
  const char* limit = data + n;
  uint32_t h = kSeed ^ static_cast<uint32_t>(n * m);
  while (data + 4 <= limit) {
    const uint32_t w = DecodeFixed32(data);
    data += 4;
    h += w;
    h *= m;
    h ^= (h >> 16);
  }
  switch (limit - data) {
    case 3:
      h += static_cast<uint32_t>(static_cast<unsigned char>(data[2])) << 16;
      [[fallthrough]];
    case 2:
      h += static_cast<uint32_t>(static_cast<unsigned char>(data[1])) << 8;
      [[fallthrough]];
    case 1:
      h += static_cast<unsigned char>(data[0]);
      h *= m;
      h ^= (h >> r);
      break;
  }
  return h;
}

BloomFilterBuilder::BloomFilterBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {
  // k = bits_per_key * ln(2) minimizes the false-positive rate.
  k_ = static_cast<int>(bits_per_key * 0.69);
  if (k_ < 1) k_ = 1;
  if (k_ > 30) k_ = 30;
}

void BloomFilterBuilder::Finish(std::string* dst) const {
  size_t bits = hashes_.size() * static_cast<size_t>(bits_per_key_);
  if (bits < 64) bits = 64;
  const size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  const size_t init_size = dst->size();
  dst->resize(init_size + bytes, 0);
  dst->push_back(static_cast<char>(k_));
  char* array = &(*dst)[init_size];
  for (uint32_t h : hashes_) {
    const uint32_t delta = (h >> 17) | (h << 15);
    for (int j = 0; j < k_; ++j) {
      const size_t bitpos = h % bits;
      array[bitpos / 8] |= static_cast<char>(1 << (bitpos % 8));
      h += delta;
    }
  }
}

bool BloomKeyMayMatch(Slice user_key, Slice filter) {
  const size_t len = filter.size();
  if (len < 2) return true;
  const char* array = filter.data();
  const size_t bits = (len - 1) * 8;
  const int k = static_cast<unsigned char>(array[len - 1]);
  if (k > 30 || k == 0) return true;  // unknown encoding: do not filter
  uint32_t h = BloomHash(user_key);
  const uint32_t delta = (h >> 17) | (h << 15);
  for (int j = 0; j < k; ++j) {
    const size_t bitpos = h % bits;
    if ((array[bitpos / 8] & (1 << (bitpos % 8))) == 0) return false;
    h += delta;
  }
  return true;
}

}  // namespace tinykv::storage
