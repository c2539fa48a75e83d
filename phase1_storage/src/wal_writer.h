// wal::Writer: appends records to a log file in the framing of
// doc/wal_format.md. Used for the WAL and for the MANIFEST.
//
// Thread safety: one thread at a time (the DB's write leader).
#pragma once

#include <cstdint>

#include "tinykv/common/env.h"
#include "wal_format.h"

namespace tinykv::storage::wal {

class Writer {
 public:
  // `dest` must be empty (or hold dest_length bytes already written in this
  // format) and outlive the writer.
  explicit Writer(WritableFile* dest, uint64_t dest_length = 0);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one record and hands it to the OS (Flush). Durability needs a
  // later Sync() on the file.
  Status AddRecord(Slice slice);
  uint64_t file_size() const { return file_size_; }

 private:
  Status EmitPhysicalRecord(RecordType type, const char* ptr, size_t length);

  WritableFile* dest_;
  size_t block_offset_;
  uint64_t file_size_;
  // crc32c of each record type byte, precomputed.
  uint32_t type_crc_[kMaxRecordType + 1];
};

}  // namespace tinykv::storage::wal
