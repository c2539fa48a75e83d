#include "wal_reader.h"

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::storage::wal {

Reader::Reader(SequentialFile* file, std::string fname)
    : file_(file), fname_(std::move(fname)), backing_store_(new char[kBlockSize]) {}

const char* Reader::FindValidRecord(const char* begin, const char* end) const {
  // buffer_ starts at file offset CurrentOffset().
  const uint64_t base = CurrentOffset() + static_cast<uint64_t>(begin - buffer_.data());
  for (const char* p = begin; p + kHeaderSize <= end; ++p) {
    const unsigned type = static_cast<unsigned char>(p[6]);
    if (type == kZeroType || type > kMaxRecordType) continue;
    const uint32_t length = static_cast<uint32_t>(static_cast<unsigned char>(p[4])) |
                            (static_cast<uint32_t>(static_cast<unsigned char>(p[5])) << 8);
    if (static_cast<size_t>(end - p) < kHeaderSize + length) continue;
    const uint64_t offset_in_block = (base + static_cast<uint64_t>(p - begin)) % kBlockSize;
    if (offset_in_block + kHeaderSize + length > kBlockSize) continue;  // would straddle
    if (crc32c::Unmask(DecodeFixed32(p)) == crc32c::Value(p + 6, 1 + length)) return p;
  }
  return nullptr;
}

void Reader::MarkBad(uint64_t offset, const char* reason) {
  if (have_bad_) return;  // report the first bad spot
  have_bad_ = true;
  bad_offset_ = offset;
  bad_reason_ = reason;
}

unsigned Reader::ReadPhysicalRecord(Slice* result, uint64_t* offset, const char** reason) {
  while (true) {
    if (buffer_.size() < kHeaderSize) {
      if (!eof_) {
        // The remainder is a block trailer (zero padding): skip it.
        buffer_ = Slice();
        Status s = file_->Read(kBlockSize, &buffer_, backing_store_.get());
        end_of_buffer_offset_ += buffer_.size();
        if (!s.ok()) {
          buffer_ = Slice();
          status_ = s;
          eof_ = true;
          return kEof;
        }
        if (buffer_.size() < kBlockSize) eof_ = true;
        continue;
      }
      if (!buffer_.empty()) {
        // A header cut short by the end of the file.
        *offset = CurrentOffset();
        *reason = "truncated record header";
        buffer_ = Slice();
        MarkBad(*offset, *reason);
      }
      return kEof;
    }
    const char* header = buffer_.data();
    const uint32_t length = static_cast<uint32_t>(static_cast<unsigned char>(header[4])) |
                            (static_cast<uint32_t>(static_cast<unsigned char>(header[5])) << 8);
    const unsigned type = static_cast<unsigned char>(header[6]);
    *offset = CurrentOffset();
    const bool too_long = kHeaderSize + length > buffer_.size();
    const bool zero_filled = type == kZeroType && length == 0;
    if (too_long || zero_filled) {
      *reason = too_long ? "record length runs past its block" : "zero-filled record";
      if (!eof_) {
        // Nothing after this in the block can be trusted; every block starts
        // with a fresh record header, so resume at the next block.
        buffer_ = Slice();
        return kBadRecord;
      }
      // In the last block of the file this is either a torn write (nothing
      // valid follows) or a damaged length/type: look for a valid record
      // anywhere after it before calling it a torn tail.
      const char* next = FindValidRecord(buffer_.data() + 1, buffer_.data() + buffer_.size());
      if (next == nullptr) {
        buffer_ = Slice();
        MarkBad(*offset, too_long ? "truncated record payload" : "zero-filled tail");
        return kEof;
      }
      buffer_.remove_prefix(static_cast<size_t>(next - buffer_.data()));
      return kBadRecord;
    }
    const uint32_t expected = crc32c::Unmask(DecodeFixed32(header));
    const uint32_t actual = crc32c::Value(header + 6, 1 + length);
    if (expected != actual) {
      // Skip just this record: if only payload bytes were damaged, the records
      // after it in the block are still checked (and prove corruption).
      buffer_.remove_prefix(kHeaderSize + length);
      *reason = "checksum mismatch";
      return kBadRecord;
    }
    buffer_.remove_prefix(kHeaderSize + length);
    *result = Slice(header + kHeaderSize, length);
    return type;
  }
}

bool Reader::ReadRecord(Slice* record, std::string* scratch) {
  if (!status_.ok()) return false;
  scratch->clear();
  *record = Slice();
  bool in_fragmented_record = false;
  uint64_t prospective_offset = 0;
  while (true) {
    Slice fragment;
    uint64_t offset = 0;
    const char* reason = "";
    const unsigned type = ReadPhysicalRecord(&fragment, &offset, &reason);
    switch (type) {
      case kFullType:
      case kLastType: {
        if (type == kFullType && in_fragmented_record) {
          MarkBad(prospective_offset, "fragmented record without its last fragment");
        }
        if (type == kLastType && !in_fragmented_record) {
          MarkBad(offset, "last fragment without a first fragment");
          break;
        }
        if (have_bad_) {
          // A valid record after a bad one: real corruption, not a torn tail.
          status_ = Status::Corruption(fname_ + ": offset " + std::to_string(bad_offset_) + ": " +
                                       bad_reason_ + " (followed by valid records)");
          return false;
        }
        if (type == kFullType) {
          scratch->clear();
          *record = fragment;
          last_record_offset_ = offset;
        } else {
          scratch->append(fragment.data(), fragment.size());
          *record = Slice(*scratch);
          last_record_offset_ = prospective_offset;
        }
        end_of_last_record_ = offset + kHeaderSize + fragment.size();
        return true;
      }
      case kFirstType:
        if (in_fragmented_record) {
          MarkBad(prospective_offset, "fragmented record without its last fragment");
        }
        prospective_offset = offset;
        scratch->assign(fragment.data(), fragment.size());
        in_fragmented_record = true;
        break;
      case kMiddleType:
        if (!in_fragmented_record) {
          MarkBad(offset, "middle fragment without a first fragment");
        } else {
          scratch->append(fragment.data(), fragment.size());
        }
        break;
      case kEof:
        if (!status_.ok()) return false;  // I/O error
        if (in_fragmented_record) MarkBad(prospective_offset, "incomplete fragmented record");
        if (have_bad_) torn_tail_ = true;
        scratch->clear();
        return false;
      case kBadRecord:
        MarkBad(offset, reason);
        in_fragmented_record = false;
        scratch->clear();
        break;
      default:
        MarkBad(offset, "unknown record type");
        in_fragmented_record = false;
        scratch->clear();
        break;
    }
  }
}

}  // namespace tinykv::storage::wal
