// StateHasher: the running 64-bit hash a StateMachine computes its Hash()
// with (state_machine.h): fields fed in order, each framed by its length, so
// ("ab", "c") and ("a", "bc") hash differently.
//
//   StateHasher h;
//   for (each key, value in order) { h.AddField(key); h.AddField(value); }
//   uint64_t hash = h.Finish();
//
// Stable: replicas built by different versions compare their hashes, so the
// function is fixed forever (little-endian words, fixed constants; pinned by
// StateHasher.GoldenValues). It is XXH64's round and avalanche applied to the
// byte stream in one lane -- fast (one multiply chain per 8 bytes) and well
// mixed, but not byte-compatible with XXH64, and not a cryptographic hash: it
// detects accidental damage, not a forger.
//
// Thread safety: none (one hasher per thread).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tinykv/common/bytes.h"

namespace tinykv::replica {

class StateHasher {
 public:
  // Appends varint(field.size()) | field.
  void AddField(Slice field);
  void AddFixed64(uint64_t v);  // 8 bytes, little-endian, no length
  // The hash of everything added so far (the hasher may go on after it).
  uint64_t Finish() const;

 private:
  void Update(const char* data, size_t n);
  void Word(uint64_t w);

  uint64_t acc_ = 0x27D4EB2F165667C5ull;  // XXH64's PRIME64_5: the seed-0 start
  uint64_t length_ = 0;                   // bytes fed
  char buf_[8];
  size_t buffered_ = 0;
};

}  // namespace tinykv::replica
