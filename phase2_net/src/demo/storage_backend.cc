// The phase 1 engine behind the demo service. Compiled with
// TINYKV_DEMO_HAS_STORAGE=1 only when tinykv::storage has sources; otherwise
// OpenStorageBackend reports NotSupported (see CMakeLists.txt).
#include "kv_backend.h"

#if TINYKV_DEMO_HAS_STORAGE
#include "tinykv/storage/db.h"
#endif

namespace tinykv::net::demo {

#if TINYKV_DEMO_HAS_STORAGE

namespace {

class StorageBackend final : public KvBackend {
 public:
  explicit StorageBackend(std::unique_ptr<storage::DB> db) : db_(std::move(db)) {}

  Result<std::optional<std::string>> Get(const std::string& key) override {
    Result<std::string> v = db_->Get(storage::ReadOptions(), key);
    if (v.ok()) return std::optional<std::string>(std::move(v).value());
    if (v.status().IsNotFound()) return std::optional<std::string>();
    return v.status();
  }
  Status Put(const std::string& key, const std::string& value, bool sync) override {
    storage::WriteOptions wo;
    wo.sync = sync;
    return db_->Put(wo, key, value);
  }
  Status Delete(const std::string& key, bool sync) override {
    storage::WriteOptions wo;
    wo.sync = sync;
    return db_->Delete(wo, key);
  }
  Result<std::vector<KeyValue>> ScanPage(const std::string& start,
                                         const std::optional<std::string>& end,
                                         size_t max_items) override {
    std::unique_ptr<storage::Iterator> it = db_->NewIterator(storage::ReadOptions());
    std::vector<KeyValue> out;
    for (it->Seek(start); it->Valid() && out.size() < max_items; it->Next()) {
      if (end.has_value() && it->key().compare(Slice(*end)) >= 0) break;
      out.push_back(KeyValue{it->key().ToString(), it->value().ToString()});
    }
    TINYKV_RETURN_IF_ERROR(it->status());
    return out;
  }
  std::string name() const override { return "tinykv-storage"; }

 private:
  std::unique_ptr<storage::DB> db_;
};

}  // namespace

bool StorageBackendAvailable() { return true; }

Result<std::unique_ptr<KvBackend>> OpenStorageBackend(const std::filesystem::path& dir) {
  storage::Options options;
  options.create_if_missing = true;
  TINYKV_ASSIGN_OR_RETURN(auto db, storage::DB::Open(options, dir));
  return std::unique_ptr<KvBackend>(std::make_unique<StorageBackend>(std::move(db)));
}

#else

bool StorageBackendAvailable() { return false; }

Result<std::unique_ptr<KvBackend>> OpenStorageBackend(const std::filesystem::path& dir) {
  return Status::NotSupported("this build has no phase 1 storage engine; cannot open " +
                              dir.string() + " (use the in-memory backend)");
}

#endif

}  // namespace tinykv::net::demo
