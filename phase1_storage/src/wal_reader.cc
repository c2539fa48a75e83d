#include "wal_reader.h"

#include <algorithm>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::storage::wal {

namespace {

uint32_t HeaderLength(const char* header) {
  return static_cast<uint32_t>(static_cast<unsigned char>(header[4])) |
         (static_cast<uint32_t>(static_cast<unsigned char>(header[5])) << 8);
}

bool AllZero(Slice s) {
  return std::all_of(s.data(), s.data() + s.size(), [](char c) { return c == 0; });
}

}  // namespace

Reader::Reader(SequentialFile* file, std::string fname)
    : file_(file), fname_(std::move(fname)), backing_store_(new char[kBlockSize]) {}

unsigned Reader::Corrupt(uint64_t offset, const std::string& reason) {
  status_ = Status::Corruption(fname_ + ": offset " + std::to_string(offset) + ": " + reason);
  bad_offset_ = offset;
  done_ = true;
  buffer_ = Slice();
  return kBadRecord;
}

unsigned Reader::Torn(uint64_t offset) {
  torn_tail_ = true;
  bad_offset_ = offset;
  done_ = true;
  buffer_ = Slice();
  return kEof;
}

bool Reader::ReadBlock() {
  buffer_ = Slice();
  Status s = file_->Read(kBlockSize, &buffer_, backing_store_.get());
  end_of_buffer_offset_ += buffer_.size();
  if (!s.ok()) {
    buffer_ = Slice();
    status_ = s;
    eof_ = true;
    done_ = true;
    return false;
  }
  // Blocks are read whole, so a short read is the end of the file.
  if (buffer_.size() < kBlockSize) eof_ = true;
  return true;
}

bool Reader::RestIsZero() {
  while (true) {
    if (!AllZero(buffer_)) return false;
    if (eof_) return true;
    if (!ReadBlock()) return false;  // cannot tell: report what we saw
  }
}

bool Reader::LengthLooksDamaged() const {
  const char* header = buffer_.data();
  const char* payload = header + kHeaderSize;
  const size_t avail = buffer_.size() - kHeaderSize;
  // A torn write leaves a prefix of the true payload, whose checksum matches
  // no prefix of itself (but for a 2^-32 chance per length). A damaged length
  // leaves the whole payload, whose checksum does match.
  const uint32_t expected = crc32c::Unmask(DecodeFixed32(header));
  uint32_t crc = crc32c::Value(header + 6, 1);
  if (crc == expected) return true;
  for (size_t i = 0; i < avail; ++i) {
    crc = crc32c::Extend(crc, payload + i, 1);
    if (crc == expected) return true;
  }
  // With more than the length damaged: a valid record after the header
  // cannot be the remains of a torn append.
  const uint64_t base = CurrentOffset();
  for (size_t p = 1; p + kHeaderSize <= buffer_.size(); ++p) {
    const char* h = header + p;
    const unsigned type = static_cast<unsigned char>(h[6]);
    if (type == kZeroType || type > kMaxRecordType) continue;
    const uint32_t length = HeaderLength(h);
    if (buffer_.size() - p < kHeaderSize + length) continue;
    if ((base + p) % kBlockSize + kHeaderSize + length > kBlockSize) continue;  // would straddle
    if (crc32c::Unmask(DecodeFixed32(h)) == crc32c::Value(h + 6, 1 + length)) return true;
  }
  return false;
}

unsigned Reader::ReadPhysicalRecord(Slice* result, uint64_t* offset) {
  while (true) {
    if (buffer_.size() < kHeaderSize) {
      if (!buffer_.empty()) {
        // Blocks are read whole: short of a header before the end of a block
        // means a block trailer, which the writer fills with zeros; anywhere
        // else the file ends inside a header.
        const uint64_t pos = CurrentOffset();
        if (kBlockSize - pos % kBlockSize >= kHeaderSize) return Torn(pos);
        if (!AllZero(buffer_)) return Corrupt(pos, "non-zero bytes in a block trailer");
        buffer_ = Slice();
      }
      if (eof_) return kEof;
      if (!ReadBlock()) return kEof;
      continue;
    }
    const char* header = buffer_.data();
    const uint32_t length = HeaderLength(header);
    const unsigned type = static_cast<unsigned char>(header[6]);
    *offset = CurrentOffset();
    if (AllZero(Slice(header, kHeaderSize))) {
      // Space the file system allocated but never wrote reads as zeros;
      // only if nothing but zeros follows is it the end of an append.
      if (RestIsZero()) return Torn(*offset);
      if (!status_.ok()) return kEof;
      return Corrupt(*offset, "zero-filled record followed by data");
    }
    if (type == kZeroType || type > kMaxRecordType) {
      return Corrupt(*offset, "unknown record type " + std::to_string(type));
    }
    if (*offset % kBlockSize + kHeaderSize + length > kBlockSize) {
      return Corrupt(*offset, "record length " + std::to_string(length) + " runs past its block");
    }
    if (kHeaderSize + length > buffer_.size()) {
      // It fits its block but not the file, so this is the file's last
      // block: a torn append -- unless its length is what is damaged.
      if (LengthLooksDamaged()) return Corrupt(*offset, "damaged record length");
      return Torn(*offset);
    }
    const uint32_t expected = crc32c::Unmask(DecodeFixed32(header));
    const uint32_t actual = crc32c::Value(header + 6, 1 + length);
    if (expected != actual) return Corrupt(*offset, "checksum mismatch");
    buffer_.remove_prefix(kHeaderSize + length);
    *result = Slice(header + kHeaderSize, length);
    return type;
  }
}

bool Reader::ReadRecord(Slice* record, std::string* scratch) {
  if (done_) return false;
  scratch->clear();
  *record = Slice();
  bool in_fragmented_record = false;
  uint64_t prospective_offset = 0;
  while (true) {
    Slice fragment;
    uint64_t offset = 0;
    const unsigned type = ReadPhysicalRecord(&fragment, &offset);
    switch (type) {
      case kFullType:
        if (in_fragmented_record) {
          Corrupt(prospective_offset, "fragmented record without its last fragment");
          return false;
        }
        *record = fragment;
        last_record_offset_ = offset;
        end_of_last_record_ = offset + kHeaderSize + fragment.size();
        return true;
      case kFirstType:
        if (in_fragmented_record) {
          Corrupt(prospective_offset, "fragmented record without its last fragment");
          return false;
        }
        prospective_offset = offset;
        scratch->assign(fragment.data(), fragment.size());
        in_fragmented_record = true;
        break;
      case kMiddleType:
        if (!in_fragmented_record) {
          Corrupt(offset, "middle fragment without a first fragment");
          return false;
        }
        scratch->append(fragment.data(), fragment.size());
        break;
      case kLastType:
        if (!in_fragmented_record) {
          Corrupt(offset, "last fragment without a first fragment");
          return false;
        }
        scratch->append(fragment.data(), fragment.size());
        *record = Slice(*scratch);
        last_record_offset_ = prospective_offset;
        end_of_last_record_ = offset + kHeaderSize + fragment.size();
        return true;
      case kEof:
        // A logical record whose remaining fragments the file does not hold
        // (it ends after a FIRST or MIDDLE fragment, or inside the next
        // one) was torn too; the tail starts at its first fragment.
        if (in_fragmented_record && status_.ok()) Torn(prospective_offset);
        done_ = true;
        scratch->clear();
        return false;
      default:  // kBadRecord: status_ holds the corruption
        scratch->clear();
        return false;
    }
  }
}

}  // namespace tinykv::storage::wal
