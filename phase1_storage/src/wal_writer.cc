#include "wal_writer.h"

#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::storage::wal {

Writer::Writer(WritableFile* dest, uint64_t dest_length)
    : dest_(dest), block_offset_(dest_length % kBlockSize), file_size_(dest_length) {
  for (int i = 0; i <= kMaxRecordType; ++i) {
    const char t = static_cast<char>(i);
    type_crc_[i] = crc32c::Value(&t, 1);
  }
}

Status Writer::AddRecord(Slice slice) {
  const char* ptr = slice.data();
  size_t left = slice.size();
  // Emit at least one physical record, even for an empty payload.
  bool begin = true;
  do {
    const size_t leftover = kBlockSize - block_offset_;
    if (leftover < kHeaderSize) {
      // Too little room for a header: pad the block trailer with zeros.
      if (leftover > 0) {
        static constexpr char kZeros[kHeaderSize] = {};
        TINYKV_RETURN_IF_ERROR(dest_->Append(Slice(kZeros, leftover)));
        file_size_ += leftover;
      }
      block_offset_ = 0;
    }
    const size_t avail = kBlockSize - block_offset_ - kHeaderSize;
    const size_t fragment_length = left < avail ? left : avail;
    const bool end = left == fragment_length;
    RecordType type;
    if (begin && end) {
      type = kFullType;
    } else if (begin) {
      type = kFirstType;
    } else if (end) {
      type = kLastType;
    } else {
      type = kMiddleType;
    }
    TINYKV_RETURN_IF_ERROR(EmitPhysicalRecord(type, ptr, fragment_length));
    ptr += fragment_length;
    left -= fragment_length;
    begin = false;
  } while (left > 0);
  return dest_->Flush();
}

Status Writer::EmitPhysicalRecord(RecordType t, const char* ptr, size_t length) {
  TINYKV_CHECK(length <= 0xffff) << "fragment too long";
  TINYKV_CHECK(block_offset_ + kHeaderSize + length <= kBlockSize);
  char buf[kHeaderSize];
  buf[4] = static_cast<char>(length & 0xff);
  buf[5] = static_cast<char>(length >> 8);
  buf[6] = static_cast<char>(t);
  const uint32_t crc = crc32c::Mask(crc32c::Extend(type_crc_[t], ptr, length));
  EncodeFixed32(buf, crc);
  TINYKV_RETURN_IF_ERROR(dest_->Append(Slice(buf, kHeaderSize)));
  TINYKV_RETURN_IF_ERROR(dest_->Append(Slice(ptr, length)));
  block_offset_ += kHeaderSize + length;
  file_size_ += kHeaderSize + length;
  return Status::OK();
}

}  // namespace tinykv::storage::wal
