#include "table_builder.h"

#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"

namespace tinykv::storage {

// Metaindex key of the whole-table bloom filter block.
extern const char kFilterBlockName[];
const char kFilterBlockName[] = "filter.tinykv.bloom";

TableBuilder::TableBuilder(const TableBuildOptions& options, WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.block_restart_interval),
      index_block_(1),
      filter_(options.bloom_bits_per_key > 0 ? options.bloom_bits_per_key : 1) {}

void TableBuilder::Add(Slice key, Slice value) {
  TINYKV_CHECK(!closed_);
  if (!status_.ok()) return;
  const InternalKeyComparator* icmp = DefaultInternalComparator();
  if (num_entries_ > 0) {
    TINYKV_CHECK(icmp->Compare(key, Slice(last_key_)) > 0) << "keys added out of order";
  }
  if (pending_index_entry_) {
    icmp->FindShortestSeparator(&last_key_, key);
    std::string handle_encoding;
    pending_handle_.EncodeTo(&handle_encoding);
    index_block_.Add(Slice(last_key_), Slice(handle_encoding));
    pending_index_entry_ = false;
  }
  if (options_.bloom_bits_per_key > 0) {
    Slice user_key = ExtractUserKey(key);
    if (filter_.num_keys() == 0 || user_key != Slice(last_user_key_)) {
      filter_.AddKey(user_key);
      last_user_key_.assign(user_key.data(), user_key.size());
    }
  }
  last_key_.assign(key.data(), key.size());
  ++num_entries_;
  data_block_.Add(key, value);
  if (data_block_.CurrentSizeEstimate() >= options_.block_size) Flush();
}

void TableBuilder::Flush() {
  if (!status_.ok() || data_block_.empty()) return;
  TINYKV_CHECK(!pending_index_entry_);
  WriteBlock(&data_block_, &pending_handle_);
  if (status_.ok()) pending_index_entry_ = true;
}

void TableBuilder::WriteBlock(BlockBuilder* block, BlockHandle* handle) {
  WriteRawBlock(block->Finish(), handle);
  block->Reset();
}

void TableBuilder::WriteRawBlock(Slice contents, BlockHandle* handle) {
  handle->offset = offset_;
  handle->size = contents.size();
  status_ = file_->Append(contents);
  if (!status_.ok()) return;
  char trailer[kBlockTrailerSize];
  trailer[0] = kNoCompression;
  uint32_t crc = crc32c::Value(contents.data(), contents.size());
  crc = crc32c::Extend(crc, trailer, 1);
  EncodeFixed32(trailer + 1, crc32c::Mask(crc));
  status_ = file_->Append(Slice(trailer, kBlockTrailerSize));
  if (status_.ok()) offset_ += contents.size() + kBlockTrailerSize;
}

Status TableBuilder::Finish() {
  Flush();
  TINYKV_CHECK(!closed_);
  closed_ = true;
  BlockHandle filter_handle;
  BlockHandle metaindex_handle;
  BlockHandle index_handle;
  bool have_filter = false;
  if (status_.ok() && options_.bloom_bits_per_key > 0) {
    std::string filter;
    filter_.Finish(&filter);
    WriteRawBlock(Slice(filter), &filter_handle);
    have_filter = true;
  }
  if (status_.ok()) {
    BlockBuilder meta_index_block(1);
    if (have_filter) {
      std::string handle_encoding;
      filter_handle.EncodeTo(&handle_encoding);
      meta_index_block.Add(kFilterBlockName, Slice(handle_encoding));
    }
    WriteBlock(&meta_index_block, &metaindex_handle);
  }
  if (status_.ok()) {
    if (pending_index_entry_) {
      DefaultInternalComparator()->FindShortSuccessor(&last_key_);
      std::string handle_encoding;
      pending_handle_.EncodeTo(&handle_encoding);
      index_block_.Add(Slice(last_key_), Slice(handle_encoding));
      pending_index_entry_ = false;
    }
    WriteBlock(&index_block_, &index_handle);
  }
  if (status_.ok()) {
    Footer footer;
    footer.metaindex_handle = metaindex_handle;
    footer.index_handle = index_handle;
    std::string footer_encoding;
    footer.EncodeTo(&footer_encoding);
    status_ = file_->Append(Slice(footer_encoding));
    if (status_.ok()) offset_ += footer_encoding.size();
  }
  return status_;
}

}  // namespace tinykv::storage
