// MvccReader: see mvcc_reader.h.
#include "tinykv/txn/mvcc_reader.h"

#include "tinykv/storage/iterator.h"
#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/timestamp.h"

namespace tinykv::txn {
namespace {

Status BadRecord(std::string_view what, Slice engine_key) {
  return Status::Corruption(std::string("mvcc: bad ") + std::string(what) + " at key " +
                            engine_key.ToHex());
}

}  // namespace

MvccReader::MvccReader(storage::DB* db, uint64_t write_ts_bound)
    : db_(db), write_ts_bound_(write_ts_bound), snapshot_(db->GetSnapshot()) {
  ro_.snapshot = snapshot_;
}

MvccReader::~MvccReader() {
  writes_.reset();  // before the snapshot it reads goes
  db_->ReleaseSnapshot(snapshot_);
}

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

Status MvccReader::ForEachWrite(Slice key, uint64_t from_ts,
                                const std::function<bool(const CommitRecord&)>& visit) {
  // One iterator for every lookup of this reader: a run of commands applied
  // through one reader (MvccStateMachine::ApplyBatch) creates it once.
  if (!writes_) writes_ = db_->NewIterator(ro_);
  storage::Iterator* it = writes_.get();
  for (it->Seek(Slice(WriteKey(key, from_ts))); it->Valid(); it->Next()) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) {
      if (it->key()[0] == kWritePrefix) return BadRecord("write key", it->key());
      break;  // past the write family
    }
    if (Slice(vk->user_key) != key) break;  // past the key's versions
    auto w = DecodeWrite(it->value());
    if (!w) return BadRecord("write", it->key());
    if (!visit(CommitRecord{vk->ts, *w})) return Status::OK();
  }
  return it->status();
}

Result<std::optional<CommitRecord>> MvccReader::SeekWrite(Slice key, uint64_t ts) {
  std::optional<CommitRecord> out;
  TINYKV_RETURN_IF_ERROR(ForEachWrite(key, ts, [&](const CommitRecord& r) {
    out = r;
    return false;
  }));
  return out;
}

Result<std::optional<CommitRecord>> MvccReader::NewestWriteAtOrAbove(Slice key, uint64_t ts) {
  if (ts > write_ts_bound_) return std::optional<CommitRecord>();
  TINYKV_ASSIGN_OR_RETURN(auto newest, SeekWrite(key, kMaxTs));
  if (newest && newest->commit_ts < ts) newest.reset();
  return newest;
}

Result<std::optional<CommitRecord>> MvccReader::GetTxnRecord(Slice key, uint64_t start_ts) {
  std::optional<CommitRecord> out;
  // Its records sit at start_ts (a rollback) or above (a commit).
  if (start_ts > write_ts_bound_) return out;
  TINYKV_RETURN_IF_ERROR(ForEachWrite(key, kMaxTs, [&](const CommitRecord& r) {
    if (r.commit_ts < start_ts) return false;  // older than the transaction: none of its records
    if (r.write.start_ts == start_ts) out = r;
    return !out;
  }));
  return out;
}

Result<std::optional<std::string>> MvccReader::GetValue(Slice key, uint64_t start_ts) {
  auto r = db_->Get(ro_, Slice(DataKey(key, start_ts)));
  if (r.status().IsNotFound()) return std::optional<std::string>();
  if (!r.ok()) return r.status();
  return std::optional<std::string>(std::move(r).value());
}

Result<std::optional<std::string>> MvccReader::GetMeta(Slice engine_key) {
  auto r = db_->Get(ro_, engine_key);
  if (r.status().IsNotFound()) return std::optional<std::string>();
  if (!r.ok()) return r.status();
  return std::optional<std::string>(std::move(r).value());
}

Result<std::vector<std::pair<std::string, std::string>>> MvccReader::ScanMeta(Slice prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = db_->NewIterator(ro_);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    out.emplace_back(it->key().ToString(), it->value().ToString());
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::optional<CommitRecord>> MvccReader::VersionAt(Slice key, uint64_t ts) {
  // Rollback and lock records carry no value and are looked through.
  std::optional<CommitRecord> version;
  TINYKV_RETURN_IF_ERROR(ForEachWrite(key, ts, [&](const CommitRecord& r) {
    if (r.write.kind == WriteKind::kPut || r.write.kind == WriteKind::kDelete) version = r;
    return !version;
  }));
  return version;
}

Result<std::optional<std::string>> MvccReader::ValueAt(Slice key, uint64_t ts, KeyMeta* meta) {
  TINYKV_ASSIGN_OR_RETURN(std::optional<CommitRecord> version, VersionAt(key, ts));
  if (!version || version->write.kind == WriteKind::kDelete) return std::optional<std::string>();
  if (meta != nullptr) *meta = KeyMetaOf(version->commit_ts, version->write);
  if (version->write.value) return std::move(version->write.value);
  TINYKV_ASSIGN_OR_RETURN(auto v, GetValue(key, version->write.start_ts));
  if (!v) return BadRecord("missing value for write", Slice(WriteKey(key, version->commit_ts)));
  return v;
}

Result<std::optional<std::string>> MvccReader::CommittedValue(Slice key, uint64_t ts) {
  return ValueAt(key, ts);
}

Result<std::string> MvccReader::ValueOf(Slice key, const CommitRecord& record) {
  if (record.write.value) return *record.write.value;
  TINYKV_ASSIGN_OR_RETURN(auto v, GetValue(key, record.write.start_ts));
  if (!v) return BadRecord("missing value for write", Slice(WriteKey(key, record.commit_ts)));
  return std::move(*v);
}

Status MvccReader::ForEachWriteKey(storage::Iterator* it, Slice start, Slice end,
                                   const std::function<Status(const std::string& key)>& visit) {
  it->Seek(Slice(FamilyStart(kWritePrefix, start)));
  while (it->Valid() && it->key()[0] == kWritePrefix) {
    auto vk = DecodeVersionedKey(it->key(), kWritePrefix);
    if (!vk) return BadRecord("write key", it->key());
    if (!end.empty() && !(Slice(vk->user_key) < end)) break;
    const std::string key = std::move(vk->user_key);
    TINYKV_RETURN_IF_ERROR(visit(key));
    // On to the next key: past this key's oldest possible record (~0).
    const std::string last = WriteKey(Slice(key), 0);
    it->Seek(Slice(last));
    if (it->Valid() && it->key() == Slice(last)) it->Next();
  }
  return it->status();
}

Status MvccReader::ForEachVersion(
    Slice start, Slice end, uint64_t after_ts, uint64_t upto_ts,
    const std::function<Status(Slice key, const CommitRecord& version,
                               const std::optional<CommitRecord>& older)>& visit) {
  if (upto_ts <= after_ts) return Status::OK();
  auto it = db_->NewIterator(ro_);
  return ForEachWriteKey(it.get(), start, end, [&](const std::string& key) -> Status {
    // This key's versions newest first, from the newest at or below upto_ts;
    // one older version than the range is read, for the prev of its oldest.
    it->Seek(Slice(WriteKey(Slice(key), upto_ts)));
    // A version in range, waiting for its older one (a flag, not an
    // optional: GCC 12 misjudges an optional's lifetime across the loop).
    bool has_pending = false;
    CommitRecord pending;
    for (; it->Valid(); it->Next()) {
      auto v = DecodeVersionedKey(it->key(), kWritePrefix);
      if (!v || Slice(v->user_key) != Slice(key)) break;
      auto w = DecodeWrite(it->value());
      if (!w) return BadRecord("write", it->key());
      if (w->kind != WriteKind::kPut && w->kind != WriteKind::kDelete) continue;
      CommitRecord r{v->ts, std::move(*w)};
      if (has_pending) TINYKV_RETURN_IF_ERROR(visit(Slice(key), pending, r));
      has_pending = false;
      if (r.commit_ts <= after_ts) break;
      pending = std::move(r);
      has_pending = true;
    }
    TINYKV_RETURN_IF_ERROR(it->status());
    if (has_pending) TINYKV_RETURN_IF_ERROR(visit(Slice(key), pending, std::nullopt));
    return Status::OK();
  });
}

Result<ReadResult> MvccReader::Get(Slice key, uint64_t ts) {
  ReadResult out;
  TINYKV_ASSIGN_OR_RETURN(auto lock, GetLock(key));
  if (lock && Blocks(*lock, ts)) {
    out.error = KeyError{KeyError::Kind::kLocked, key.ToString(), LockInfo{key.ToString(), *lock}};
    return out;
  }
  TINYKV_ASSIGN_OR_RETURN(out.value, ValueAt(key, ts, &out.meta));
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
    const std::string key = !lock_key    ? *write_key
                            : !write_key ? *lock_key
                                         : std::min(*lock_key, *write_key);
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
      KeyMeta meta;
      TINYKV_ASSIGN_OR_RETURN(auto v, ValueAt(Slice(key), ts, &meta));
      if (v) {
        out.pairs.emplace_back(key, std::move(*v));
        out.metas.push_back(meta);
      }
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
  TINYKV_RETURN_IF_ERROR(ForEachWrite(key, kMaxTs, [&](const CommitRecord& r) {
    out.push_back(r);
    return true;
  }));
  return out;
}

Result<std::vector<LockInfo>> MvccReader::AllLocks() {
  std::vector<LockInfo> out;
  auto it = db_->NewIterator(ro_);
  for (it->Seek(Slice(std::string(1, kLockPrefix))); it->Valid() && it->key()[0] == kLockPrefix;
       it->Next()) {
    auto key = DecodeLockKey(it->key());
    auto lock = DecodeLock(it->value());
    if (!key || !lock) return BadRecord("lock", it->key());
    out.push_back(LockInfo{std::move(*key), std::move(*lock)});
  }
  TINYKV_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::optional<LockInfo>> MvccReader::FirstLock(Slice start, Slice end) {
  auto it = db_->NewIterator(ro_);
  it->Seek(Slice(FamilyStart(kLockPrefix, start)));
  if (!it->Valid() || it->key()[0] != kLockPrefix) {
    TINYKV_RETURN_IF_ERROR(it->status());
    return std::optional<LockInfo>();
  }
  auto key = DecodeLockKey(it->key());
  auto lock = DecodeLock(it->value());
  if (!key || !lock) return BadRecord("lock", it->key());
  if (!end.empty() && !(Slice(*key) < end)) return std::optional<LockInfo>();
  return std::optional<LockInfo>(LockInfo{std::move(*key), std::move(*lock)});
}

Result<std::vector<std::string>> MvccReader::KeysWithWrites(Slice start, Slice end) {
  std::vector<std::string> out;
  auto it = db_->NewIterator(ro_);
  TINYKV_RETURN_IF_ERROR(ForEachWriteKey(it.get(), start, end, [&](const std::string& key) {
    out.push_back(key);
    return Status::OK();
  }));
  return out;
}

}  // namespace tinykv::txn
