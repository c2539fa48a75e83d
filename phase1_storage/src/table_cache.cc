#include "table_cache.h"

#include "filename.h"
#include "iterators.h"

namespace tinykv::storage {

TableCache::TableCache(std::string dbname, Env* env, const TableReadOptions& options, int entries)
    : dbname_(std::move(dbname)),
      env_(env),
      options_(options),
      cache_(static_cast<size_t>(entries > 16 ? entries : 16)) {}

Result<std::shared_ptr<Table>> TableCache::FindTable(uint64_t file_number, uint64_t file_size) {
  const CacheKey key{file_number, 0};
  if (auto table = cache_.Lookup(key)) return table;
  const std::string fname = TableFileName(dbname_, file_number);
  TINYKV_ASSIGN_OR_RETURN(auto file, env_->NewRandomAccessFile(fname));
  TINYKV_ASSIGN_OR_RETURN(auto table,
                          Table::Open(options_, std::move(file), file_size, fname, file_number));
  cache_.Insert(key, table, 1);
  return table;
}

std::unique_ptr<Iterator> TableCache::NewIterator(const ReadOptions& options,
                                                  uint64_t file_number, uint64_t file_size) {
  auto table = FindTable(file_number, file_size);
  if (!table.ok()) return NewErrorIterator(table.status());
  return (*table)->NewIterator(options);
}

Status TableCache::Get(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                       Slice internal_key, Table::GetResult* result) {
  TINYKV_ASSIGN_OR_RETURN(auto table, FindTable(file_number, file_size));
  return table->Get(options, internal_key, result);
}

}  // namespace tinykv::storage
