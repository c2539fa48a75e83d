#include "table.h"

#include <algorithm>

#include "bloom.h"
#include "iterators.h"
#include "tinykv/common/coding.h"
#include "two_level_iterator.h"

namespace tinykv::storage {

extern const char kFilterBlockName[];

Table::Table(const TableReadOptions& options, std::shared_ptr<RandomAccessFile> file,
             uint64_t file_size, std::string fname, uint64_t cache_id)
    : options_(options),
      file_(std::move(file)),
      file_size_(file_size),
      fname_(std::move(fname)),
      cache_id_(cache_id) {}

Result<std::shared_ptr<Table>> Table::Open(const TableReadOptions& options,
                                           std::unique_ptr<RandomAccessFile> file,
                                           uint64_t file_size, std::string fname,
                                           uint64_t cache_id) {
  if (file_size < Footer::kEncodedLength) {
    return Status::Corruption(fname + ": file too short to be an sstable");
  }
  char footer_space[Footer::kEncodedLength];
  Slice footer_input;
  TINYKV_RETURN_IF_ERROR(file->Read(file_size - Footer::kEncodedLength, Footer::kEncodedLength,
                                    &footer_input, footer_space));
  if (footer_input.size() != Footer::kEncodedLength) {
    return Status::Corruption(fname + ": truncated (shorter than the size the MANIFEST records)");
  }
  Footer footer;
  Status s = footer.DecodeFrom(&footer_input);
  if (!s.ok()) return Status::Corruption(fname + ": " + std::string(s.message()));
  auto table = std::make_shared<Table>(options, std::shared_ptr<RandomAccessFile>(std::move(file)),
                                       file_size, fname, cache_id);
  TINYKV_RETURN_IF_ERROR(table->ReadMeta(footer));
  return table;
}

Status Table::ReadMeta(const Footer& footer) {
  const uint64_t data_end = file_size_ - Footer::kEncodedLength;
  auto check_handle = [&](const BlockHandle& h) -> Status {
    if (h.offset > data_end || h.size + kBlockTrailerSize > data_end - h.offset) {
      return Status::Corruption(fname_ + ": block handle beyond end of file");
    }
    return Status::OK();
  };
  TINYKV_RETURN_IF_ERROR(check_handle(footer.index_handle));
  TINYKV_RETURN_IF_ERROR(check_handle(footer.metaindex_handle));
  BlockContents index_contents;
  TINYKV_RETURN_IF_ERROR(ReadBlock(file_.get(), fname_, footer.index_handle, &index_contents));
  index_block_ = std::make_unique<Block>(std::move(index_contents));
  metaindex_offset_ = footer.metaindex_handle.offset;
  if (file_->zero_copy()) IndexMappedBlocks();

  BlockContents meta_contents;
  TINYKV_RETURN_IF_ERROR(
      ReadBlock(file_.get(), fname_, footer.metaindex_handle, &meta_contents));
  Block meta(std::move(meta_contents));
  auto it = meta.NewIterator(BytewiseComparator());
  it->Seek(kFilterBlockName);
  if (it->Valid() && it->key() == Slice(kFilterBlockName)) {
    Slice v = it->value();
    BlockHandle filter_handle;
    Status s = filter_handle.DecodeFrom(&v);
    if (!s.ok()) return Status::Corruption(fname_ + ": bad filter handle");
    TINYKV_RETURN_IF_ERROR(check_handle(filter_handle));
    BlockContents filter_contents;
    TINYKV_RETURN_IF_ERROR(ReadBlock(file_.get(), fname_, filter_handle, &filter_contents));
    filter_ = filter_contents.data;
    filter_data_ = std::move(filter_contents.heap);
  }
  if (!it->status().ok()) {
    return Status::Corruption(fname_ + ": bad metaindex block: " +
                              std::string(it->status().message()));
  }
  return Status::OK();
}

void Table::IndexMappedBlocks() {
  // A malformed index is not an error here: reads through it report the
  // corruption. The table then just verifies every fetch.
  std::vector<BlockHandle> blocks;
  auto it = index_block_->NewIterator(DefaultInternalComparator());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    BlockHandle h;
    Slice v = it->value();
    if (!h.DecodeFrom(&v).ok()) return;
    if (!blocks.empty() && h.offset <= blocks.back().offset) return;  // not sorted
    blocks.push_back(h);
  }
  if (!it->status().ok()) return;
  data_blocks_ = std::move(blocks);
  const size_t words = (data_blocks_.size() + 63) / 64;
  verified_ = std::make_unique<std::atomic<uint64_t>[]>(words);  // value-initialized: all 0
}

int64_t Table::MappedBlockIndex(const BlockHandle& handle) const {
  auto it = std::lower_bound(
      data_blocks_.begin(), data_blocks_.end(), handle.offset,
      [](const BlockHandle& h, uint64_t offset) { return h.offset < offset; });
  if (it == data_blocks_.end() || it->offset != handle.offset || it->size != handle.size) {
    return -1;
  }
  return it - data_blocks_.begin();
}

Status Table::DecodeHandle(Slice handle_value, BlockHandle* handle) const {
  if (!handle->DecodeFrom(&handle_value).ok()) {
    return Status::Corruption(fname_ + ": bad block handle in index");
  }
  if (handle->offset >= file_size_ ||
      handle->size + kBlockTrailerSize > file_size_ - handle->offset) {
    return Status::Corruption(fname_ + ": block handle beyond end of file");
  }
  return Status::OK();
}

Status Table::ReadDataBlock(const ReadOptions& options, const BlockHandle& handle,
                            BlockContents* contents) const {
  const bool verify = options.verify_checksums || options_.paranoid_checks;
  // Mapped tables: the bit for this block, if it has one.
  int64_t mapped_index = -1;
  uint64_t mapped_bit = 0;
  bool already_verified = false;
  if (file_->zero_copy()) {
    // The OS page cache already holds the bytes, so (as LevelDB does for
    // mapped files) the block is not cached. Counted as a cache miss.
    if (options_.block_cache != nullptr) options_.block_cache->RecordMiss();
    mapped_index = MappedBlockIndex(handle);
    if (mapped_index >= 0) {
      mapped_bit = uint64_t{1} << (mapped_index % 64);
      already_verified =
          !verify && (verified_[mapped_index / 64].load(std::memory_order_acquire) & mapped_bit);
    }
  }
  TINYKV_RETURN_IF_ERROR(
      ReadBlock(file_.get(), fname_, handle, contents, file_, !already_verified));
  if (mapped_index >= 0 && !already_verified) {
    verified_[mapped_index / 64].fetch_or(mapped_bit, std::memory_order_release);
  }
  if (options_.bytes_read != nullptr) {
    options_.bytes_read->fetch_add(handle.size + kBlockTrailerSize, std::memory_order_relaxed);
  }
  return Status::OK();
}

Result<std::shared_ptr<const Block>> Table::CachedBlock(const ReadOptions& options,
                                                        const BlockHandle& handle) const {
  const CacheKey key{cache_id_, handle.offset};
  BlockCache* cache = options_.block_cache;
  const bool verify = options.verify_checksums || options_.paranoid_checks;
  if (cache != nullptr && !verify) {
    if (auto block = cache->Lookup(key)) return block;
  }
  BlockContents contents;
  TINYKV_RETURN_IF_ERROR(ReadDataBlock(options, handle, &contents));
  auto block = std::make_shared<const Block>(std::move(contents));
  if (cache != nullptr && options.fill_cache) cache->Insert(key, block, block->size());
  return block;
}

std::unique_ptr<Iterator> Table::BlockReader(const ReadOptions& options, Slice handle_value) const {
  BlockHandle handle;
  Status s = DecodeHandle(handle_value, &handle);
  if (!s.ok()) return NewErrorIterator(std::move(s));
  if (file_->zero_copy()) {
    // A mapped block is iterated in place: the iterator pins the file, and
    // the Block (a few fields describing the bytes) need not outlive this
    // call, so nothing is allocated for it.
    BlockContents contents;
    s = ReadDataBlock(options, handle, &contents);
    if (!s.ok()) return NewErrorIterator(std::move(s));
    std::shared_ptr<const void> pin = std::move(contents.pinned);
    const Block block(std::move(contents));
    return block.NewIterator(DefaultInternalComparator(), std::move(pin), &fname_);
  }
  auto block = CachedBlock(options, handle);
  if (!block.ok()) return NewErrorIterator(block.status());
  const Block* raw = block->get();
  return raw->NewIterator(DefaultInternalComparator(), std::move(block).value(), &fname_);
}

std::unique_ptr<Iterator> Table::NewIterator(const ReadOptions& options) const {
  auto self = shared_from_this();
  return NewTwoLevelIterator(
      index_block_->NewIterator(DefaultInternalComparator(), self, &fname_),
      [self, options](Slice handle) { return self->BlockReader(options, handle); });
}

Status Table::Get(const ReadOptions& options, Slice internal_key, GetResult* result) const {
  const Slice user_key = ExtractUserKey(internal_key);
  if (!filter_.empty() && !BloomKeyMayMatch(user_key, filter_)) {
    result->filtered = true;
    if (options_.bloom_useful != nullptr) {
      options_.bloom_useful->fetch_add(1, std::memory_order_relaxed);
    }
    return Status::OK();
  }
  const Comparator* icmp = DefaultInternalComparator();
  bool found = false;
  std::string key;
  Slice handle_value;
  TINYKV_RETURN_IF_ERROR(
      index_block_->SeekFirstAtLeast(icmp, internal_key, &found, &key, &handle_value, &fname_));
  if (!found) return Status::OK();
  BlockHandle handle;
  TINYKV_RETURN_IF_ERROR(DecodeHandle(handle_value, &handle));
  // value points into the block's bytes: for a mapped table into the mapping,
  // which this Table (held by our caller's TableCache lookup) keeps alive
  // after the stack Block below is gone; otherwise into `cached`.
  Slice value;
  std::shared_ptr<const Block> cached;
  result->block_read = true;
  if (file_->zero_copy()) {
    BlockContents contents;
    TINYKV_RETURN_IF_ERROR(ReadDataBlock(options, handle, &contents));
    const Block block(std::move(contents));
    TINYKV_RETURN_IF_ERROR(
        block.SeekFirstAtLeast(icmp, internal_key, &found, &key, &value, &fname_));
  } else {
    TINYKV_ASSIGN_OR_RETURN(cached, CachedBlock(options, handle));
    TINYKV_RETURN_IF_ERROR(
        cached->SeekFirstAtLeast(icmp, internal_key, &found, &key, &value, &fname_));
  }
  if (found) {
    ParsedInternalKey parsed;
    if (!ParseInternalKey(key, &parsed)) {
      return Status::Corruption(fname_ + ": malformed internal key");
    }
    if (parsed.user_key == user_key) {
      result->found = true;
      result->type = parsed.type;
      if (parsed.type == kTypeValue) result->value.assign(value.data(), value.size());
    }
  }
  // Note: if the key is past the end of this block it is the first key of the
  // next block only if the separator was shortened; FindShortestSeparator
  // keeps separators >= the block's last key, so the key is not in the table.
  return Status::OK();
}

uint64_t Table::ApproximateOffsetOf(Slice internal_key) const {
  auto index_iter = index_block_->NewIterator(DefaultInternalComparator());
  index_iter->Seek(internal_key);
  if (index_iter->Valid()) {
    BlockHandle handle;
    Slice input = index_iter->value();
    if (handle.DecodeFrom(&input).ok()) return handle.offset;
  }
  return metaindex_offset_;
}

}  // namespace tinykv::storage
