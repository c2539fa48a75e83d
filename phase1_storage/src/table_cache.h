// TableCache: open SSTable readers keyed by file number, LRU-bounded by
// Options::max_open_files. Opening a table reads its footer, index and
// filter once; later lookups reuse them.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lru_cache.h"
#include "table.h"
#include "tinykv/common/env.h"

namespace tinykv::storage {

class TableCache {
 public:
  TableCache(std::string dbname, Env* env, const TableReadOptions& options, int entries);

  Result<std::shared_ptr<Table>> FindTable(uint64_t file_number, uint64_t file_size);
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options, uint64_t file_number,
                                        uint64_t file_size);
  Status Get(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
             Slice internal_key, Table::GetResult* result);
  // Drops the reader of a deleted file.
  void Evict(uint64_t file_number) { cache_.Erase(CacheKey{file_number, 0}); }

 private:
  const std::string dbname_;
  Env* const env_;
  const TableReadOptions options_;
  ShardedLRUCache<Table> cache_;
};

}  // namespace tinykv::storage
