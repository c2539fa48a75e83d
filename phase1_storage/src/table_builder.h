// TableBuilder: writes an SSTable (doc/sstable_format.md) from internal keys
// added in increasing order.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "block_builder.h"
#include "bloom.h"
#include "dbformat.h"
#include "sstable_format.h"
#include "tinykv/common/env.h"

namespace tinykv::storage {

struct TableBuildOptions {
  size_t block_size = 4096;
  int block_restart_interval = 16;
  int bloom_bits_per_key = 10;  // 0: no filter
};

class TableBuilder {
 public:
  // `file` must outlive the builder; the caller Syncs and Closes it after
  // Finish.
  TableBuilder(const TableBuildOptions& options, WritableFile* file);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // REQUIRES: key (an internal key) > every key added before; !Finish()ed.
  void Add(Slice key, Slice value);
  // Writes filter, metaindex, index and footer.
  Status Finish();
  // Stops building; the caller deletes the file.
  void Abandon() { closed_ = true; }

  Status status() const { return status_; }
  uint64_t NumEntries() const { return num_entries_; }
  // Bytes written so far (the final file size after Finish).
  uint64_t FileSize() const { return offset_; }

 private:
  void Flush();
  void WriteBlock(BlockBuilder* block, BlockHandle* handle);
  void WriteRawBlock(Slice contents, BlockHandle* handle);

  const TableBuildOptions options_;
  WritableFile* const file_;
  uint64_t offset_ = 0;
  Status status_;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  std::string last_key_;
  std::string last_user_key_;
  uint64_t num_entries_ = 0;
  bool closed_ = false;
  BloomFilterBuilder filter_;
  // Index entries are added after the next block's first key is known, so
  // the separator can be short (FindShortestSeparator).
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;
  std::string compressed_output_;
};

}  // namespace tinykv::storage
