// wal::Reader: reads the records written by wal::Writer, telling a torn tail
// from corruption (doc/wal_format.md, "Recovery rules").
//
//  * A torn tail -- an incomplete or checksum-failing record with no valid
//    record after it -- is a clean end of the log: ReadRecord returns false,
//    status() is OK, dropped_tail_bytes() > 0. This is what a crash in the
//    middle of an append leaves behind.
//  * A bad record FOLLOWED by a valid record cannot come from a torn write:
//    ReadRecord returns false and status() is Corruption with a message that
//    names the file and the byte offset of the first bad record. Every record
//    before that offset was returned first, so a caller that wants
//    point-in-time recovery simply stops there.
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

  // OK at a clean end (possibly after dropping a torn tail); Corruption or
  // IOError otherwise.
  const Status& status() const { return status_; }
  // Offset of the last record returned by ReadRecord.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // Offset just past the last record returned (the consistent prefix).
  uint64_t end_of_last_record() const { return end_of_last_record_; }
  // True if a torn tail was dropped at the end of the file.
  bool dropped_torn_tail() const { return torn_tail_; }
  // Offset of the first bad or incomplete byte, if any was seen.
  uint64_t first_bad_offset() const { return bad_offset_; }

 private:
  static constexpr unsigned kEof = kMaxRecordType + 1;
  static constexpr unsigned kBadRecord = kMaxRecordType + 2;

  unsigned ReadPhysicalRecord(Slice* result, uint64_t* offset, const char** reason);
  void MarkBad(uint64_t offset, const char* reason);
  // The first position in [begin, end) (inside buffer_) holding a physical
  // record with a valid checksum that does not straddle a block; or null.
  const char* FindValidRecord(const char* begin, const char* end) const;
  uint64_t CurrentOffset() const { return end_of_buffer_offset_ - buffer_.size(); }

  SequentialFile* const file_;
  const std::string fname_;
  std::unique_ptr<char[]> backing_store_;
  Slice buffer_;
  bool eof_ = false;
  uint64_t end_of_buffer_offset_ = 0;
  uint64_t last_record_offset_ = 0;
  uint64_t end_of_last_record_ = 0;
  bool torn_tail_ = false;
  bool have_bad_ = false;
  uint64_t bad_offset_ = 0;
  std::string bad_reason_;
  Status status_;
};

}  // namespace tinykv::storage::wal
