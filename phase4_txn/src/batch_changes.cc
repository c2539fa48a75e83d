// DecodeBatchChanges: see batch_changes.h.
#include "tinykv/txn/batch_changes.h"

#include "tinykv/txn/mvcc_key.h"
#include "tinykv/txn/mvcc_record.h"

namespace tinykv::txn {
namespace {

class Decoder : public storage::WriteBatch::Handler {
 public:
  Decoder(bool want_versions, BatchChanges* out) : want_versions_(want_versions), out_(out) {}

  void Put(Slice key, Slice value) override {
    if (key.empty() || !status_.ok()) return;
    if (key[0] == kLockPrefix) {
      std::optional<std::string> user_key = DecodeLockKey(key);
      std::optional<Lock> lock = DecodeLock(value);
      if (!user_key || !lock) return Bad("lock", key);
      out_->locks.push_back(LockChange{std::move(*user_key), lock->start_ts});
    } else if (key[0] == kWritePrefix && want_versions_) {
      std::optional<VersionedKey> vk = DecodeVersionedKey(key, kWritePrefix);
      std::optional<Write> w = DecodeWrite(value);
      if (!vk || !w) return Bad("write", key);
      if (w->kind != WriteKind::kPut && w->kind != WriteKind::kDelete) return;
      out_->versions.push_back(
          CommittedVersion{std::move(vk->user_key), CommitRecord{vk->ts, std::move(*w)}});
    }
  }
  void Delete(Slice key) override {
    if (key.empty() || key[0] != kLockPrefix || !status_.ok()) return;
    std::optional<std::string> user_key = DecodeLockKey(key);
    if (!user_key) return Bad("lock key", key);
    out_->locks.push_back(LockChange{std::move(*user_key), std::nullopt});
  }
  const Status& status() const { return status_; }

 private:
  void Bad(const char* what, Slice key) {
    status_ = Status::Corruption(std::string("mvcc batch: bad ") + what + " at key " + key.ToHex());
  }

  const bool want_versions_;
  BatchChanges* const out_;
  Status status_;
};

}  // namespace

Result<BatchChanges> DecodeBatchChanges(const storage::WriteBatch& batch, bool want_versions) {
  BatchChanges out;
  Decoder d(want_versions, &out);
  TINYKV_RETURN_IF_ERROR(batch.Iterate(&d));
  TINYKV_RETURN_IF_ERROR(d.status());
  return out;
}

}  // namespace tinykv::txn
