// MvccReader: see mvcc_reader.h.
#include "tinykv/txn/mvcc_reader.h"

#include "tinykv/storage/iterator.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {
namespace {

Status BadRecord(std::string_view what, Slice engine_key) {
  std::string hex;
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < engine_key.size(); ++i) {
    const auto c = static_cast<uint8_t>(engine_key[i]);
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return Status::Corruption(std::string("mvcc: bad ") + std::string(what) + " at key " + hex);
}

}  // namespace

MvccReader::MvccReader(storage::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {
  ro_.snapshot = snapshot_;
}

MvccReader::~MvccReader() { db_->ReleaseSnapshot(snapshot_); }

bool MvccReader::Blocks(const Lock& lock, uint64_t ts) {
  return lock.kind != MutationKind::kLock && lock.start_ts <= ts;
}

Result<std::optional<Lock>> MvccReader::GetLock(Slice key) {
  const std::string k = LockKey(key);
  auto r = db_->Get(ro_, Slice(k));
  if (r.status().IsNotFound()) return std::optional<Lock>();
  if (!r.ok()) return r.status();
  std::optional<Lock> lock = DecodeLock(Slice(*r));
  if (!lock) return BadRecord("lock", Slice(k));
  return lock;
}

Result<std::optional<CommitRecord>> MvccReader::SeekWrite(Slice key, uint64_t ts) {
  auto it = db_->NewIterator(ro_);
  it->Seek(Slice(WriteKey(key, ts)));
  if (!it->Valid()) {
    TINYKV_RETURN_IF_ERROR(it->status());
    return std::optional<CommitRecord>();
  }
  auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
  if (!vk || Slice(vk->user_key) != key) {
    // Past the key's versions (another key, or another family).
    if (!vk && !it->key().empty() && it->key()[0] == kWritePrefix)
      return BadRecord("write key", it->key());
    return std::optional<CommitRecord>();
  }
  auto w = DecodeWrite(it->value());
  if (!w) return BadRecord("write", it->key());
  return std::optional<CommitRecord>(CommitRecord{vk->ts, *w});
}

Result<std::optional<CommitRecord>> MvccReader::GetTxnRecord(Slice key, uint64_t start_ts) {
  auto it = db_->NewIterator(ro_);
  for (it->Seek(Slice(WriteKey(key, kMaxTs))); it->Valid(); it->Next()) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) {
      if (it->key()[0] == kWritePrefix) return BadRecord("write key", it->key());
      break;
    }
    if (Slice(vk->user_key) != key || vk->ts < start_ts) break;
    auto w = DecodeWrite(it->value());
    if (!w) return BadRecord("write", it->key());
    if (w->start_ts == start_ts) return std::optional<CommitRecord>(CommitRecord{vk->ts, *w});
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return std::optional<CommitRecord>();
}

Result<std::optional<std::string>> MvccReader::GetValue(Slice key, uint64_t start_ts) {
  auto r = db_->Get(ro_, Slice(DataKey(key, start_ts)));
  if (r.status().IsNotFound()) return std::optional<std::string>();
  if (!r.ok()) return r.status();
  return std::optional<std::string>(std::move(r).value());
}

Result<std::optional<std::string>> MvccReader::ValueAt(Slice key, uint64_t ts) {
  auto it = db_->NewIterator(ro_);
  for (it->Seek(Slice(WriteKey(key, ts))); it->Valid(); it->Next()) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) {
      if (it->key()[0] == kWritePrefix) return BadRecord("write key", it->key());
      break;
    }
    if (Slice(vk->user_key) != key) break;
    auto w = DecodeWrite(it->value());
    if (!w) return BadRecord("write", it->key());
    switch (w->kind) {
      case WriteKind::kPut: {
        TINYKV_ASSIGN_OR_RETURN(auto v, GetValue(key, w->start_ts));
        if (!v) return BadRecord("missing value for write", it->key());
        return v;
      }
      case WriteKind::kDelete:
        return std::optional<std::string>();
      case WriteKind::kRollback:
      case WriteKind::kLock:
        continue;  // no value here: look at the older versions
    }
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return std::optional<std::string>();
}

Result<ReadResult> MvccReader::Get(Slice key, uint64_t ts) {
  ReadResult out;
  TINYKV_ASSIGN_OR_RETURN(auto lock, GetLock(key));
  if (lock && Blocks(*lock, ts)) {
    out.error = KeyError{KeyError::Kind::kLocked, key.ToString(), LockInfo{key.ToString(), *lock}};
    return out;
  }
  TINYKV_ASSIGN_OR_RETURN(out.value, ValueAt(key, ts));
  return out;
}

Result<ScanResult> MvccReader::Scan(Slice start, Slice end, uint64_t ts, size_t limit) {
  ScanResult out;
  // Two cursors merged by user key: the lock family (a key may be locked
  // with no committed version yet) and the write family.
  auto locks = db_->NewIterator(ro_);
  auto writes = db_->NewIterator(ro_);
  locks->Seek(Slice(FamilyStart(kLockPrefix, start)));
  writes->Seek(Slice(FamilyStart(kWritePrefix, start)));
  std::optional<std::string> lock_key, write_key;
  auto load_lock = [&]() -> Status {
    lock_key.reset();
    if (!locks->Valid()) return locks->status();
    if (locks->key()[0] != kLockPrefix) return Status::OK();
    lock_key = DecodeLockKey(locks->key());
    if (!lock_key) return BadRecord("lock key", locks->key());
    return Status::OK();
  };
  auto load_write = [&]() -> Status {
    write_key.reset();
    if (!writes->Valid()) return writes->status();
    if (writes->key()[0] != kWritePrefix) return Status::OK();
    auto vk = DecodeVersionedKey(writes->key(), kWritePrefix);
    if (!vk) return BadRecord("write key", writes->key());
    write_key = std::move(vk->user_key);
    return Status::OK();
  };
  TINYKV_RETURN_IF_ERROR(load_lock());
  TINYKV_RETURN_IF_ERROR(load_write());
  while (out.pairs.size() < limit && (lock_key || write_key)) {
    const std::string key =
        !lock_key ? *write_key : !write_key ? *lock_key : std::min(*lock_key, *write_key);
    if (!end.empty() && !(Slice(key) < end)) break;
    if (lock_key && *lock_key == key) {
      auto lock = DecodeLock(locks->value());
      if (!lock) return BadRecord("lock", locks->key());
      if (Blocks(*lock, ts)) {
        out.error = KeyError{KeyError::Kind::kLocked, key, LockInfo{key, *lock}};
        return out;
      }
      locks->Next();
      TINYKV_RETURN_IF_ERROR(load_lock());
    }
    if (write_key && *write_key == key) {
      TINYKV_ASSIGN_OR_RETURN(auto v, ValueAt(Slice(key), ts));
      if (v) out.pairs.emplace_back(key, std::move(*v));
      // Past every version of this key: its oldest possible record is ~0.
      const std::string last = WriteKey(Slice(key), 0);
      writes->Seek(Slice(last));
      if (writes->Valid() && writes->key() == Slice(last)) writes->Next();
      TINYKV_RETURN_IF_ERROR(load_write());
    }
  }
  return out;
}

Result<std::vector<CommitRecord>> MvccReader::AllWrites(Slice key) {
  std::vector<CommitRecord> out;
  auto it = db_->NewIterator(ro_);
  for (it->Seek(Slice(WriteKey(key, kMaxTs))); it->Valid(); it->Next()) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) {
      if (it->key()[0] == kWritePrefix) return BadRecord("write key", it->key());
      break;
    }
    if (Slice(vk->user_key) != key) break;
    auto w = DecodeWrite(it->value());
    if (!w) return BadRecord("write", it->key());
    out.push_back(CommitRecord{vk->ts, *w});
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::vector<LockInfo>> MvccReader::AllLocks() {
  std::vector<LockInfo> out;
  auto it = db_->NewIterator(ro_);
  for (it->Seek(Slice(std::string(1, kLockPrefix)));
       it->Valid() && it->key()[0] == kLockPrefix; it->Next()) {
    auto key = DecodeLockKey(it->key());
    auto lock = DecodeLock(it->value());
    if (!key || !lock) return BadRecord("lock", it->key());
    out.push_back(LockInfo{std::move(*key), std::move(*lock)});
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::vector<std::string>> MvccReader::KeysWithWrites() {
  std::vector<std::string> out;
  auto it = db_->NewIterator(ro_);
  it->Seek(Slice(std::string(1, kWritePrefix)));
  while (it->Valid() && it->key()[0] == kWritePrefix) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) return BadRecord("write key", it->key());
    out.push_back(vk->user_key);
    const std::string last = WriteKey(Slice(vk->user_key), 0);
    it->Seek(Slice(last));
    if (it->Valid() && it->key() == Slice(last)) it->Next();
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace tinykv::txn
