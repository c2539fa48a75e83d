// KvBackend: what the demo service stores data in.
//
// MemoryBackend is a std::map behind a mutex (always available).
// The DB-backed implementation (storage_backend.cc) wraps
// tinykv::storage::DB from phase 1 and is compiled only when the phase 1
// engine has sources (TINYKV_DEMO_HAS_STORAGE).
//
// Thread safety: implementations are thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kv_protocol.h"
#include "tinykv/common/result.h"

namespace tinykv::net::demo {

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // nullopt when the key is absent.
  virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
  virtual Status Put(const std::string& key, const std::string& value, bool sync) = 0;
  virtual Status Delete(const std::string& key, bool sync) = 0;
  // Up to max_items pairs with start <= key < end (end nullopt = unbounded),
  // in key order. The server streams a scan page by page, so a scan is not a
  // point-in-time snapshot across pages (documented in the README).
  virtual Result<std::vector<KeyValue>> ScanPage(const std::string& start,
                                                 const std::optional<std::string>& end,
                                                 size_t max_items) = 0;
  virtual std::string name() const = 0;
};

class MemoryBackend final : public KvBackend {
 public:
  Result<std::optional<std::string>> Get(const std::string& key) override;
  Status Put(const std::string& key, const std::string& value, bool sync) override;
  Status Delete(const std::string& key, bool sync) override;
  Result<std::vector<KeyValue>> ScanPage(const std::string& start,
                                         const std::optional<std::string>& end,
                                         size_t max_items) override;
  std::string name() const override { return "memory"; }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> map_;
};

// True when this build links the phase 1 engine.
bool StorageBackendAvailable();
// Opens (creating if missing) a phase 1 DB in `dir`. NotSupported when
// StorageBackendAvailable() is false.
Result<std::unique_ptr<KvBackend>> OpenStorageBackend(const std::filesystem::path& dir);

}  // namespace tinykv::net::demo
