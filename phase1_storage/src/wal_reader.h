// wal::Reader: reads the records written by wal::Writer -- the WAL and the
// MANIFEST alike -- and tells a torn tail from corruption
// (doc/wal_format.md, "Recovery rules").
//
// The rule: a record is either intact (its checksum matches), or the file
// ends in the middle of it, or the file is damaged.
//  * Torn tail: the LAST record is physically cut off by the end of the
//    file -- its header or payload runs past EOF, or the file ends after a
//    FIRST/MIDDLE fragment, or the rest of the file from a record boundary
//    is zero bytes (space the file system extended but never wrote). This is
//    what a crash in the middle of an append leaves. ReadRecord returns
//    false, status() is OK, dropped_torn_tail() is true and
//    first_bad_offset() is where the torn record starts. Whether dropping it
//    is acceptable is the caller's decision: only if the state before it is
//    still complete (the DB checks that; see db_impl.cc, version_set.cc).
//  * Corruption: anything else -- a checksum mismatch anywhere (also in the
//    last record: a crash cuts bytes off, it does not change them), a
//    length that runs past its block, a record whose length is damaged
//    (its payload ends, with a matching checksum, before EOF), an unknown
//    type, a broken fragment sequence, non-zero bytes in a block trailer,
//    or zero bytes followed by data. ReadRecord returns false and status()
//    is Corruption("<file>: offset <N>: <reason>"), N being the offset of the
//    first bad record. Every record before N was returned first.
//  * I/O errors reading the file end the reading with that status.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinykv/common/env.h"
#include "wal_format.h"

namespace tinykv::storage::wal {

class Reader {
 public:
  // `file` must outlive the reader; `fname` is used in error messages.
  Reader(SequentialFile* file, std::string fname);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads the next record. *record stays valid until the next call and may
  // point into *scratch. Returns false at the end of input or on error.
  bool ReadRecord(Slice* record, std::string* scratch);

  // OK at a clean end (possibly after a torn tail); Corruption or IOError
  // otherwise.
  const Status& status() const { return status_; }
  // Offset of the last record returned by ReadRecord.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // Offset just past the last record returned (the consistent prefix).
  uint64_t end_of_last_record() const { return end_of_last_record_; }
  // True if the file ended in a torn record (see above).
  bool dropped_torn_tail() const { return torn_tail_; }
  // Where the torn record or the corruption starts, if either was seen.
  uint64_t first_bad_offset() const { return bad_offset_; }

 private:
  static constexpr unsigned kEof = kMaxRecordType + 1;
  static constexpr unsigned kBadRecord = kMaxRecordType + 2;

  unsigned ReadPhysicalRecord(Slice* result, uint64_t* offset);
  // Ends reading: Corruption at offset (returns kBadRecord) ...
  unsigned Corrupt(uint64_t offset, const std::string& reason);
  // ... or a torn tail starting at offset (returns kEof).
  unsigned Torn(uint64_t offset);
  // Reads the next block into buffer_; false on an I/O error (status_ set).
  bool ReadBlock();
  // Whether buffer_ and everything after it in the file are zero bytes.
  // Consumes the file.
  bool RestIsZero();
  // For a record at buffer_ whose length runs past EOF: whether it is a
  // damaged record rather than a torn one -- its checksum matches a shorter
  // payload, or a valid record follows it.
  bool LengthLooksDamaged() const;
  uint64_t CurrentOffset() const { return end_of_buffer_offset_ - buffer_.size(); }

  SequentialFile* const file_;
  const std::string fname_;
  std::unique_ptr<char[]> backing_store_;
  Slice buffer_;
  bool eof_ = false;
  bool done_ = false;
  uint64_t end_of_buffer_offset_ = 0;
  uint64_t last_record_offset_ = 0;
  uint64_t end_of_last_record_ = 0;
  bool torn_tail_ = false;
  uint64_t bad_offset_ = 0;
  Status status_;
};

}  // namespace tinykv::storage::wal
