// In-memory SequentialFile / RandomAccessFile over a byte buffer, and a
// WritableFile into a string, for fuzz targets and tests that read or write
// many variants of a file (no file system access per input).
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "tinykv/common/env.h"

namespace tinykv::testing {

// Reads `data`, which must outlive it.
class MemorySequentialFile final : public SequentialFile {
 public:
  explicit MemorySequentialFile(Slice data) : data_(data) {}
  Status Read(size_t n, Slice* result, char* scratch) override {
    const size_t k = std::min(n, data_.size());
    if (k > 0) std::memcpy(scratch, data_.data(), k);
    *result = Slice(scratch, k);
    data_.remove_prefix(k);
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    data_.remove_prefix(std::min<uint64_t>(n, data_.size()));
    return Status::OK();
  }

 private:
  Slice data_;
};

// `mapped` = true behaves like a memory-mapped file (zero_copy(): results
// point into the buffer, scratch unused), taking the Table's mapped-file
// paths (verify-once bitmap, blocks iterated in place).
class MemoryRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemoryRandomAccessFile(std::string data, bool mapped = false)
      : data_(std::move(data)), mapped_(mapped) {}
  Status Read(uint64_t offset, size_t n, Slice* result, char* scratch) const override {
    if (offset >= data_.size()) {
      *result = Slice(mapped_ ? data_.data() : scratch, 0);
      return Status::OK();
    }
    const size_t k = std::min<uint64_t>(n, data_.size() - offset);
    if (mapped_) {
      *result = Slice(data_.data() + offset, k);
    } else {
      std::memcpy(scratch, data_.data() + offset, k);
      *result = Slice(scratch, k);
    }
    return Status::OK();
  }
  bool zero_copy() const override { return mapped_; }

 private:
  std::string data_;
  bool mapped_;
};

// Appends to contents(); Flush, Sync and Close do nothing.
class StringWritableFile final : public WritableFile {
 public:
  Status Append(Slice data) override {
    contents_.append(data.data(), data.size());
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};

}  // namespace tinykv::testing
