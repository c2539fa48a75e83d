#include "kv_backend.h"

namespace tinykv::net::demo {

Result<std::optional<std::string>> MemoryBackend::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryBackend::Put(const std::string& key, const std::string& value, bool /*sync*/) {
  std::lock_guard<std::mutex> lock(mu_);
  map_[key] = value;
  return Status::OK();
}

Status MemoryBackend::Delete(const std::string& key, bool /*sync*/) {
  std::lock_guard<std::mutex> lock(mu_);
  map_.erase(key);
  return Status::OK();
}

Result<std::vector<KeyValue>> MemoryBackend::ScanPage(const std::string& start,
                                                      const std::optional<std::string>& end,
                                                      size_t max_items) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<KeyValue> out;
  for (auto it = map_.lower_bound(start); it != map_.end() && out.size() < max_items; ++it) {
    if (end.has_value() && it->first >= *end) break;
    out.push_back(KeyValue{it->first, it->second});
  }
  return out;
}

}  // namespace tinykv::net::demo
