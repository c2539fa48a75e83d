// WatchEvent: one change of one key, as a watch stream reports it (etcd's
// mvccpb.Event): a put with the new value, or a delete, at a revision -- the
// commit timestamp of the write (timestamp.h), the same number a write
// answers with. Several keys written by one transaction (or one
// delete-range) share their revision.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tinykv::txn {

struct WatchEvent {
  enum class Type : uint8_t { kPut = 1, kDelete = 2 };
  Type type = Type::kPut;
  std::string key;
  std::string value;  // kPut: the new value; kDelete: empty
  // The value the key had just before this revision, when the watch asked
  // for it (prev_kv); nullopt when it had none (or it was not asked for).
  std::optional<std::string> prev_value;
  uint64_t revision = 0;
  friend bool operator==(const WatchEvent&, const WatchEvent&) = default;
};

// The bytes an event holds (key and values), for buffer accounting.
inline size_t WatchEventBytes(const WatchEvent& e) {
  return e.key.size() + e.value.size() + (e.prev_value ? e.prev_value->size() : 0) + 16;
}

}  // namespace tinykv::txn
