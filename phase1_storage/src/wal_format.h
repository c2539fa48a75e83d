// WAL (and MANIFEST) record framing constants. The format is documented in
// doc/wal_format.md; this header holds only the constants.
#pragma once

#include <cstddef>

namespace tinykv::storage::wal {

enum RecordType : unsigned char {
  // Zero is reserved for preallocated/zero-filled space.
  kZeroType = 0,
  kFullType = 1,
  // Fragments of a record that spans blocks.
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4,
};
inline constexpr int kMaxRecordType = kLastType;

inline constexpr size_t kBlockSize = 32768;

// Header: checksum (4 bytes, masked crc32c of type + payload), length (2 bytes
// little-endian), type (1 byte).
inline constexpr size_t kHeaderSize = 4 + 2 + 1;

}  // namespace tinykv::storage::wal
