// TinyKV adapter for tinykv_db_bench.
#include <filesystem>

#include "bench_engine.h"
#include "tinykv/storage/db.h"

namespace tinykv::bench {
namespace {

class TinyKVIterator final : public BenchIterator {
 public:
  explicit TinyKVIterator(std::unique_ptr<storage::Iterator> it) : it_(std::move(it)) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view key) override { it_->Seek(Slice(key)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }

 private:
  std::unique_ptr<storage::Iterator> it_;
};

class TinyKVEngine final : public BenchEngine {
 public:
  ~TinyKVEngine() override { Close(); }
  std::string name() const override { return "TinyKV"; }

  std::string Open(const std::string& dir, const BenchSettings& s) override {
    storage::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = s.write_buffer_size;
    o.block_cache_bytes = s.block_cache_bytes;
    o.bloom_bits_per_key = s.bloom_bits_per_key;
    // TinyKV has no compression; nothing to turn off.
    auto r = storage::DB::Open(o, dir);
    if (!r.ok()) return r.status().ToString();
    db_ = std::move(r).value();
    return "";
  }
  void Close() override { db_.reset(); }
  void Put(std::string_view key, std::string_view value, bool sync) override {
    storage::WriteOptions wo;
    wo.sync = sync;
    Status st = db_->Put(wo, Slice(key), Slice(value));
    if (!st.ok()) Die(name(), "put", st.ToString());
  }
  bool Get(std::string_view key, std::string* value) override {
    Result<std::string> r = db_->Get(storage::ReadOptions(), Slice(key));
    if (r.status().IsNotFound()) return false;
    if (!r.ok()) Die(name(), "get", r.status().ToString());
    *value = std::move(r).value();
    return true;
  }
  std::unique_ptr<BenchIterator> NewIterator() override {
    return std::make_unique<TinyKVIterator>(db_->NewIterator(storage::ReadOptions()));
  }
  void Destroy(const std::string& dir) override {
    Close();
    Status st = storage::DestroyDB(dir);
    if (!st.ok()) Die(name(), "destroy", st.ToString());
  }
  std::string Shape() override {
    auto stats = db_->Stats();
    return FormatShape(7, [&](int level) {
      auto it = stats.find("num-files-at-level" + std::to_string(level));
      return it == stats.end() ? uint64_t{0} : it->second;
    }) + " mem=" + std::to_string(stats["memtable-bytes"] >> 10) + "KiB";
  }

 private:
  std::unique_ptr<storage::DB> db_;
};

}  // namespace

std::unique_ptr<BenchEngine> NewTinyKVEngine() { return std::make_unique<TinyKVEngine>(); }

}  // namespace tinykv::bench
