// RocksDB adapter for tinykv_db_bench.
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "bench_engine.h"

namespace tinykv::bench {
namespace {

rocksdb::Slice S(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

class RocksDBIterator final : public BenchIterator {
 public:
  explicit RocksDBIterator(rocksdb::Iterator* it) : it_(it) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view key) override { it_->Seek(S(key)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksDBEngine final : public BenchEngine {
 public:
  ~RocksDBEngine() override { Close(); }
  std::string name() const override { return "RocksDB"; }

  std::string Open(const std::string& dir, const BenchSettings& s) override {
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(s.block_cache_bytes);
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(s.bloom_bits_per_key));
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = s.write_buffer_size;
    o.compression = rocksdb::kNoCompression;
    o.bottommost_compression = rocksdb::kNoCompression;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    rocksdb::DB* db = nullptr;
    rocksdb::Status st = rocksdb::DB::Open(o, dir, &db);
    if (!st.ok()) return st.ToString();
    db_.reset(db);
    return "";
  }
  void Close() override { db_.reset(); }
  void Put(std::string_view key, std::string_view value, bool sync) override {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status st = db_->Put(wo, S(key), S(value));
    if (!st.ok()) Die(name(), "put", st.ToString());
  }
  bool Get(std::string_view key, std::string* value) override {
    rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), S(key), value);
    if (st.IsNotFound()) return false;
    if (!st.ok()) Die(name(), "get", st.ToString());
    return true;
  }
  std::unique_ptr<BenchIterator> NewIterator() override {
    return std::make_unique<RocksDBIterator>(db_->NewIterator(rocksdb::ReadOptions()));
  }
  void Destroy(const std::string& dir) override {
    Close();
    rocksdb::Status st = rocksdb::DestroyDB(dir, rocksdb::Options());
    if (!st.ok()) Die(name(), "destroy", st.ToString());
  }
  std::string Shape() override {
    return FormatShape(7, [&](int level) -> uint64_t {
      std::string v;
      if (!db_->GetProperty("rocksdb.num-files-at-level" + std::to_string(level), &v)) return 0;
      return std::stoull(v);
    });
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<BenchEngine> NewRocksDBEngine() { return std::make_unique<RocksDBEngine>(); }

}  // namespace tinykv::bench
