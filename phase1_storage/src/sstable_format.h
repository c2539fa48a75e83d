// SSTable on-disk structures: block handles, the footer and block reads.
// The layout is documented in doc/sstable_format.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/common/env.h"
#include "tinykv/common/status.h"

namespace tinykv::storage {

// "tinykvst" as a little-endian fixed64.
inline constexpr uint64_t kTableMagicNumber = 0x7473766b796e6974ull;
// Every block is followed by: type (1 byte, 0 = uncompressed) | masked crc32c
// of the block contents and the type byte (4 bytes).
inline constexpr size_t kBlockTrailerSize = 5;
inline constexpr char kNoCompression = 0;

// Where a block lives: offset and size (excluding the trailer).
struct BlockHandle {
  static constexpr size_t kMaxEncodedLength = 10 + 10;
  uint64_t offset = 0;
  uint64_t size = 0;

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(Slice* input);
};

// Footer (fixed 48 bytes at the end of the file):
//   metaindex handle | index handle | zero padding to 40 bytes | magic fixed64
struct Footer {
  static constexpr size_t kEncodedLength = 2 * BlockHandle::kMaxEncodedLength + 8;
  BlockHandle metaindex_handle;
  BlockHandle index_handle;

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(Slice* input);
};

// The contents of a block read from a file, verified against its checksum.
struct BlockContents {
  std::unique_ptr<char[]> heap;       // owns data, or
  std::shared_ptr<const void> pinned;  // keeps the memory-mapped file holding data alive
  Slice data;
};

// Reads the block at `handle`, checks its trailer (checksum and type) and
// returns Corruption naming `fname` and the offset on mismatch. If the file
// is memory-mapped and `owner` (the shared_ptr owning `file`) is given, the
// block is not copied: result->pinned holds the file instead.
// `verify_checksum` false skips the CRC32C (only for bytes already verified
// once, see Table::ReadDataBlock); the type byte is checked regardless.
Status ReadBlock(const RandomAccessFile* file, const std::string& fname,
                 const BlockHandle& handle, BlockContents* result,
                 const std::shared_ptr<const void>& owner = nullptr,
                 bool verify_checksum = true);

}  // namespace tinykv::storage
