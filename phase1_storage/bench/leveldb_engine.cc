// LevelDB adapter for tinykv_db_bench.
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include "bench_engine.h"

namespace tinykv::bench {
namespace {

leveldb::Slice S(std::string_view v) { return leveldb::Slice(v.data(), v.size()); }

class LevelDBIterator final : public BenchIterator {
 public:
  explicit LevelDBIterator(leveldb::Iterator* it) : it_(it) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view key) override { it_->Seek(S(key)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override {
    leveldb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    leveldb::Slice v = it_->value();
    return {v.data(), v.size()};
  }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
};

class LevelDBEngine final : public BenchEngine {
 public:
  ~LevelDBEngine() override { Close(); }
  std::string name() const override { return "LevelDB"; }

  std::string Open(const std::string& dir, const BenchSettings& s) override {
    cache_.reset(leveldb::NewLRUCache(s.block_cache_bytes));
    filter_.reset(leveldb::NewBloomFilterPolicy(s.bloom_bits_per_key));
    leveldb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = s.write_buffer_size;
    o.block_cache = cache_.get();
    o.filter_policy = filter_.get();
    o.compression = leveldb::kNoCompression;
    leveldb::DB* db = nullptr;
    leveldb::Status st = leveldb::DB::Open(o, dir, &db);
    if (!st.ok()) return st.ToString();
    db_.reset(db);
    return "";
  }
  void Close() override { db_.reset(); }
  void Put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status st = db_->Put(wo, S(key), S(value));
    if (!st.ok()) Die(name(), "put", st.ToString());
  }
  bool Get(std::string_view key, std::string* value) override {
    leveldb::Status st = db_->Get(leveldb::ReadOptions(), S(key), value);
    if (st.IsNotFound()) return false;
    if (!st.ok()) Die(name(), "get", st.ToString());
    return true;
  }
  std::unique_ptr<BenchIterator> NewIterator() override {
    return std::make_unique<LevelDBIterator>(db_->NewIterator(leveldb::ReadOptions()));
  }
  void Destroy(const std::string& dir) override {
    Close();
    leveldb::Status st = leveldb::DestroyDB(dir, leveldb::Options());
    if (!st.ok()) Die(name(), "destroy", st.ToString());
  }
  std::string Shape() override {
    return FormatShape(7, [&](int level) -> uint64_t {
      std::string v;
      if (!db_->GetProperty("leveldb.num-files-at-level" + std::to_string(level), &v)) return 0;
      return std::stoull(v);
    }) + Memtable();
  }
  // LevelDB's approximate-memory-usage also counts the block cache; report
  // the memtables alone by subtracting the cache's charge.
  std::string Memtable() {
    std::string v;
    if (!db_->GetProperty("leveldb.approximate-memory-usage", &v)) return "";
    const uint64_t total = std::stoull(v);
    const uint64_t cache = cache_ != nullptr ? cache_->TotalCharge() : 0;
    return " mem=" + std::to_string((total > cache ? total - cache : 0) >> 10) + "KiB";
  }

 private:
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};

}  // namespace

std::unique_ptr<BenchEngine> NewLevelDBEngine() { return std::make_unique<LevelDBEngine>(); }

}  // namespace tinykv::bench
