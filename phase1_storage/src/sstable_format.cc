#include "sstable_format.h"

#include <cstring>

#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::storage {

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

Status BlockHandle::DecodeFrom(Slice* input) {
  if (GetVarint64(input, &offset) && GetVarint64(input, &size)) return Status::OK();
  return Status::Corruption("bad block handle");
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t original = dst->size();
  metaindex_handle.EncodeTo(dst);
  index_handle.EncodeTo(dst);
  dst->resize(original + 2 * BlockHandle::kMaxEncodedLength);
  PutFixed64(dst, kTableMagicNumber);
}

Status Footer::DecodeFrom(Slice* input) {
  if (input->size() < kEncodedLength) return Status::Corruption("footer too short");
  const char* magic_ptr = input->data() + kEncodedLength - 8;
  if (DecodeFixed64(magic_ptr) != kTableMagicNumber) {
    return Status::Corruption("not an sstable (bad magic number)");
  }
  TINYKV_RETURN_IF_ERROR(metaindex_handle.DecodeFrom(input));
  TINYKV_RETURN_IF_ERROR(index_handle.DecodeFrom(input));
  return Status::OK();
}

Status ReadBlock(const RandomAccessFile* file, const std::string& fname,
                 const BlockHandle& handle, BlockContents* result,
                 const std::shared_ptr<const void>& owner, bool verify_checksum) {
  const auto where = [&] {
    return fname + ": block at offset " + std::to_string(handle.offset) + " size " +
           std::to_string(handle.size);
  };
  if (handle.size > (uint64_t{1} << 31)) return Status::Corruption(where() + ": absurd size");
  const size_t n = static_cast<size_t>(handle.size);
  const bool zero_copy = file->zero_copy() && owner != nullptr;
  std::unique_ptr<char[]> buf;
  if (!zero_copy) buf.reset(new char[n + kBlockTrailerSize]);
  Slice contents;
  TINYKV_RETURN_IF_ERROR(file->Read(handle.offset, n + kBlockTrailerSize, &contents, buf.get()));
  if (contents.size() != n + kBlockTrailerSize) {
    return Status::Corruption(where() + ": truncated block read");
  }
  const char* data = contents.data();
  if (verify_checksum) {
    const uint32_t expected = crc32c::Unmask(DecodeFixed32(data + n + 1));
    const uint32_t actual = crc32c::Value(data, n + 1);
    if (expected != actual) return Status::Corruption(where() + ": block checksum mismatch");
  }
  if (data[n] != kNoCompression) return Status::Corruption(where() + ": unknown block type");
  if (zero_copy) {
    result->data = Slice(data, n);
    result->heap.reset();
    result->pinned = owner;
    return Status::OK();
  }
  if (buf == nullptr || data != buf.get()) {
    // A mapped file without an owner to pin it: copy.
    std::unique_ptr<char[]> copy(new char[n > 0 ? n : 1]);
    std::memcpy(copy.get(), data, n);
    buf = std::move(copy);
  }
  result->data = Slice(buf.get(), n);
  result->heap = std::move(buf);
  result->pinned.reset();
  return Status::OK();
}

}  // namespace tinykv::storage
