// Bloom filter over user keys, one per SSTable ("full filter").
//
// Encoding: bit array (ceil(n * bits_per_key / 8) bytes, at least 8) followed
// by one byte k = number of probes. Probes use double hashing (Kirsch and
// Mitzenmacher 2006): h, h + delta, h + 2 delta, ... with delta = rotr(h, 17).
// With 10 bits per key, k = 6 and the false-positive rate is about 0.8%.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"

namespace tinykv::storage {

uint32_t BloomHash(Slice key);

class BloomFilterBuilder {
 public:
  explicit BloomFilterBuilder(int bits_per_key);
  void AddKey(Slice user_key) { hashes_.push_back(BloomHash(user_key)); }
  size_t num_keys() const { return hashes_.size(); }
  // Appends the encoded filter to *dst.
  void Finish(std::string* dst) const;

 private:
  int bits_per_key_;
  int k_;
  std::vector<uint32_t> hashes_;
};

// False means the key is definitely absent. Malformed filters answer true.
bool BloomKeyMayMatch(Slice user_key, Slice filter);

}  // namespace tinykv::storage
