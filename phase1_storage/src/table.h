// Table: an open, immutable SSTable (doc/sstable_format.md).
//
// Open reads and verifies the footer, the index block and the bloom filter
// and keeps them in memory; data blocks are read on demand with pread,
// verified, and kept in the shared block cache. Every corruption is reported
// as Corruption naming the file (and block offset).
//
// Memory-mapped tables bypass the block cache (the page cache holds the
// bytes). Their data blocks are checksum-verified the first time they are
// read and remembered in a bitmap, so a later fetch costs no CRC pass. That
// relies on the engine's own rule that a live SSTable is never modified in
// place (files are written once, then only read; a byte flipped on disk
// while the DB is closed is caught at the next open's first read).
// ReadOptions::verify_checksums or Options::paranoid_checks re-verify on
// every fetch. LevelDB, by comparison, verifies mapped blocks never by
// default.
//
// Thread safety: a Table is immutable; Get and iterators may run concurrently.
// Iterators hold a shared_ptr to the table, so it outlives them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block.h"
#include "lru_cache.h"
#include "sstable_format.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"

namespace tinykv::storage {

using BlockCache = ShardedLRUCache<const Block>;

struct TableReadOptions {
  BlockCache* block_cache = nullptr;  // may be null
  bool paranoid_checks = false;
  // Counter bumped when the bloom filter rules out a key (may be null).
  std::atomic<uint64_t>* bloom_useful = nullptr;
  std::atomic<uint64_t>* bytes_read = nullptr;
};

class Table : public std::enable_shared_from_this<Table> {
 public:
  // `cache_id` distinguishes this table's blocks in the cache (file number).
  static Result<std::shared_ptr<Table>> Open(const TableReadOptions& options,
                                             std::unique_ptr<RandomAccessFile> file,
                                             uint64_t file_size, std::string fname,
                                             uint64_t cache_id);

  // An iterator over the table's internal keys.
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) const;

  struct GetResult {
    bool filtered = false;  // the bloom filter ruled the key out
    bool block_read = false;  // a data block was read (a miss decided by the index is not)
    bool found = false;     // an entry for the user key was found
    ValueType type = kTypeValue;
    std::string value;
  };
  // Looks up the first entry >= internal_key; reports it if it has the same
  // user key.
  Status Get(const ReadOptions& options, Slice internal_key, GetResult* result) const;

  const std::string& fname() const { return fname_; }
  uint64_t file_size() const { return file_size_; }
  // Approximate file offset of the data for key (for size estimates).
  uint64_t ApproximateOffsetOf(Slice internal_key) const;

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  Table(const TableReadOptions& options, std::shared_ptr<RandomAccessFile> file,
        uint64_t file_size, std::string fname, uint64_t cache_id);

 private:
  Status ReadMeta(const Footer& footer);
  // Decodes a block handle from the index and checks it lies in the file.
  Status DecodeHandle(Slice handle_value, BlockHandle* handle) const;
  // Reads a data block: for a mapped table, contents point into the mapping
  // (and pin the file) and the checksum is verified on the first read only;
  // otherwise they are a verified heap copy.
  Status ReadDataBlock(const ReadOptions& options, const BlockHandle& handle,
                       BlockContents* contents) const;
  // A data block of a pread table, through the block cache.
  Result<std::shared_ptr<const Block>> CachedBlock(const ReadOptions& options,
                                                   const BlockHandle& handle) const;
  std::unique_ptr<Iterator> BlockReader(const ReadOptions& options, Slice handle_value) const;
  // Builds data_blocks_ and verified_ from the index block (mapped files).
  void IndexMappedBlocks();
  // Position of `handle` in data_blocks_, or -1 if it is not exactly one of
  // them (then it is verified on every fetch).
  int64_t MappedBlockIndex(const BlockHandle& handle) const;

  TableReadOptions options_;
  std::shared_ptr<RandomAccessFile> file_;
  uint64_t file_size_;
  std::string fname_;
  uint64_t cache_id_;
  std::unique_ptr<Block> index_block_;
  std::unique_ptr<char[]> filter_data_;
  Slice filter_;
  uint64_t metaindex_offset_ = 0;
  // Mapped tables: every data block's handle in file order, and one bit per
  // block, set once its checksum has been verified (never cleared).
  std::vector<BlockHandle> data_blocks_;
  std::unique_ptr<std::atomic<uint64_t>[]> verified_;
};

}  // namespace tinykv::storage
