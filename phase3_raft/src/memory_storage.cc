// MemoryStorage: etcd-io/raft's storage.go in C++.
#include "tinykv/common/check.h"
#include "tinykv/raft/codec.h"
#include "tinykv/raft/storage.h"

namespace tinykv::raft {

void LimitSize(std::vector<Entry>* ents, uint64_t max_size) {
  if (ents->empty()) return;
  uint64_t size = EncodedEntrySize((*ents)[0]);
  size_t limit = 1;
  for (; limit < ents->size(); ++limit) {
    size += EncodedEntrySize((*ents)[limit]);
    if (size > max_size) break;
  }
  ents->resize(limit);
}

MemoryStorage::MemoryStorage() { ents_.push_back(Entry{}); }

Result<InitialState> MemoryStorage::GetInitialState() const {
  std::lock_guard<std::mutex> l(mu_);
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

Result<std::vector<Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                  uint64_t max_size) const {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t offset = ents_.front().index;
  if (lo <= offset) return Status::NotFound(kCompactedMessage);
  TINYKV_CHECK(hi <= LastIndexLocked() + 1)
      << "entries' hi(" << hi << ") is out of bound lastindex(" << LastIndexLocked() << ")";
  if (ents_.size() == 1) return Status::Unavailable("raft: no entries in storage");
  std::vector<Entry> out(ents_.begin() + static_cast<ptrdiff_t>(lo - offset),
                         ents_.begin() + static_cast<ptrdiff_t>(hi - offset));
  LimitSize(&out, max_size);
  return out;
}

Result<uint64_t> MemoryStorage::Term(uint64_t i) const {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t offset = ents_.front().index;
  if (i < offset) return Status::NotFound(kCompactedMessage);
  if (i - offset >= ents_.size()) return Status::Unavailable("raft: index beyond last");
  return ents_[i - offset].term;
}

uint64_t MemoryStorage::FirstIndex() const {
  std::lock_guard<std::mutex> l(mu_);
  return FirstIndexLocked();
}

uint64_t MemoryStorage::LastIndex() const {
  std::lock_guard<std::mutex> l(mu_);
  return LastIndexLocked();
}

Result<Snapshot> MemoryStorage::GetSnapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return snapshot_;
}

void MemoryStorage::SetHardState(const HardState& hs) {
  std::lock_guard<std::mutex> l(mu_);
  hard_state_ = hs;
}

void MemoryStorage::SetBootstrapConfState(const ConfState& cs) {
  std::lock_guard<std::mutex> l(mu_);
  TINYKV_CHECK(snapshot_.metadata.index == 0) << "bootstrap after a snapshot";
  snapshot_.metadata.conf_state = cs;
}

HardState MemoryStorage::hard_state() const {
  std::lock_guard<std::mutex> l(mu_);
  return hard_state_;
}

Status MemoryStorage::ApplySnapshot(const Snapshot& snap) {
  std::lock_guard<std::mutex> l(mu_);
  if (snapshot_.metadata.index >= snap.metadata.index) {
    return Status::InvalidArgument("raft: requested snapshot is out of date");
  }
  snapshot_ = snap;
  ents_.assign(1, Entry{snap.metadata.term, snap.metadata.index, EntryType::kNormal, {}});
  return Status::OK();
}

Result<Snapshot> MemoryStorage::CreateSnapshot(uint64_t i, const ConfState& cs, std::string data) {
  std::lock_guard<std::mutex> l(mu_);
  if (i <= snapshot_.metadata.index) {
    return Status::InvalidArgument("raft: requested snapshot is out of date");
  }
  const uint64_t offset = ents_.front().index;
  TINYKV_CHECK(i <= LastIndexLocked())
      << "snapshot " << i << " is out of bound lastindex(" << LastIndexLocked() << ")";
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = ents_[i - offset].term;
  snapshot_.metadata.conf_state = cs;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(uint64_t compact_index) {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t offset = ents_.front().index;
  if (compact_index <= offset) return Status::NotFound(kCompactedMessage);
  TINYKV_CHECK(compact_index <= LastIndexLocked())
      << "compact " << compact_index << " is out of bound lastindex(" << LastIndexLocked() << ")";
  const size_t i = compact_index - offset;
  std::vector<Entry> ents;
  ents.reserve(ents_.size() - i);
  ents.push_back(Entry{ents_[i].term, ents_[i].index, EntryType::kNormal, {}});
  for (size_t k = i + 1; k < ents_.size(); ++k) ents.push_back(std::move(ents_[k]));
  ents_ = std::move(ents);
  return Status::OK();
}

Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t first = FirstIndexLocked();
  const uint64_t last = entries.front().index + entries.size() - 1;
  if (last < first) return Status::OK();  // all already compacted
  size_t skip = 0;
  if (first > entries.front().index) skip = first - entries.front().index;
  const uint64_t start = entries[skip].index;
  const uint64_t offset = start - ents_.front().index;
  if (ents_.size() > offset) {
    ents_.resize(offset);  // truncate the conflicting suffix
  } else if (ents_.size() < offset) {
    return Status::InvalidArgument(
        "raft: missing log entry [last: " + std::to_string(LastIndexLocked()) +
        ", append at: " + std::to_string(start) + "]");
  }
  ents_.insert(ents_.end(), entries.begin() + static_cast<ptrdiff_t>(skip), entries.end());
  return Status::OK();
}

}  // namespace tinykv::raft
