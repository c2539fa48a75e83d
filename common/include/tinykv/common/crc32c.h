// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the
// checksum on every WAL record, SSTable block, manifest record and RPC frame.
//
// Uses the SSE4.2 `crc32` instruction when the CPU has it (checked once at
// run time), else a portable slicing-by-8 table. Both give identical results;
// tests check them against the RFC 3720 §B.4 vectors.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tinykv/common/bytes.h"

namespace tinykv::crc32c {

// Returns the CRC32C of concat(A, data[0, n)) where init_crc is the CRC32C of A.
// Extend(0, data, n) is the CRC32C of data.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(Slice s) { return Extend(0, s.data(), s.size()); }

// A CRC stored next to the data it covers would, if the data also contains
// CRCs, make CRC-of-CRC patterns weak. As in LevelDB and RocksDB, stored CRCs
// are masked: rotated right by 15 bits and offset by a constant.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline constexpr uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline constexpr uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// For tests and benchmarks: which implementation Extend uses, and direct
// access to each.
bool HardwareAccelerated();
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);
uint32_t ExtendHardware(uint32_t init_crc, const char* data, size_t n);  // REQUIRES: HardwareAccelerated()

}  // namespace tinykv::crc32c
