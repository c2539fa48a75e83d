// Fixed-width and variable-length integer encodings, used by every on-disk
// and wire format. All multi-byte integers are little-endian.
//
//   fixed32/fixed64  4/8 bytes, little-endian
//   varint32/64      LEB128: 7 bits per byte, low groups first, high bit set
//                    on every byte but the last; 1..5 (varint32) or 1..10
//                    (varint64) bytes. Example: 300 -> 0xAC 0x02.
//   length-prefixed  varint32 length, then that many bytes
//
// Decoders never read past the end they are given: a truncated or overlong
// varint is reported as failure, never as a wrong value.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "tinykv/common/bytes.h"

namespace tinykv {

inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}
inline uint64_t DecodeFixed64(const char* p) {
  return uint64_t{DecodeFixed32(p)} | (uint64_t{DecodeFixed32(p + 4)} << 32);
}

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
void PutLengthPrefixedSlice(std::string* dst, Slice value);

// Writes the varint at dst (which must have room for kMaxVarint64Bytes) and
// returns a pointer just past it.
char* EncodeVarint32(char* dst, uint32_t v);
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

// Parse from [p, limit). Return a pointer past the parsed value, or nullptr
// if the input is truncated or the varint is too long.
const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* v);
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v);

// Consume from the front of *input. Return false (leaving *input unspecified)
// on malformed input.
bool GetFixed32(Slice* input, uint32_t* v);
bool GetFixed64(Slice* input, uint64_t* v);
bool GetVarint32(Slice* input, uint32_t* v);
bool GetVarint64(Slice* input, uint64_t* v);
bool GetLengthPrefixedSlice(Slice* input, Slice* result);

}  // namespace tinykv
