// FaultInjectionEnv: an Env wrapper for tests (docs/style.md, "Tests"). It can
//   * fail every write or every sync from now on (IOError), and
//   * simulate power loss: DropUnsyncedData() truncates every file written
//     through it back to the size it had at its last successful Sync.
// Directory-entry durability is not modelled (files created and never
// synced come back empty rather than missing).
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "env.h"

namespace tinykv::storage {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  void SetFailWrites(bool fail) { fail_writes_.store(fail); }
  // Fails appends only to files whose name ends with `suffix` (e.g. ".sst"),
  // so a background flush or compaction fails while the WAL keeps working.
  // Empty: off.
  void SetFailWritesToSuffix(const std::string& suffix) {
    std::lock_guard<std::mutex> l(mu_);
    fail_suffix_ = suffix;
  }
  bool ShouldFailWrite(const std::string& fname) {
    if (fail_writes_.load()) return true;
    std::lock_guard<std::mutex> l(mu_);
    return !fail_suffix_.empty() && fname.size() >= fail_suffix_.size() &&
           fname.compare(fname.size() - fail_suffix_.size(), fail_suffix_.size(), fail_suffix_) == 0;
  }
  void SetFailSyncs(bool fail) { fail_syncs_.store(fail); }
  bool fail_writes() const { return fail_writes_.load(); }
  bool fail_syncs() const { return fail_syncs_.load(); }
  // Truncates every tracked file to its last synced size. Call only when no
  // DB is open on these files.
  Status DropUnsyncedData();
  // Called by the wrapped files.
  void RecordSize(const std::string& fname, uint64_t synced_size);

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& f) override {
    return base_->NewSequentialFile(f);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& f) override {
    return base_->NewRandomAccessFile(f);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& fname) override;
  bool FileExists(const std::string& f) override { return base_->FileExists(f); }
  Status GetChildren(const std::string& d, std::vector<std::string>* r) override {
    return base_->GetChildren(d, r);
  }
  Status RemoveFile(const std::string& f) override;
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Result<uint64_t> GetFileSize(const std::string& f) override { return base_->GetFileSize(f); }
  Status RenameFile(const std::string& s, const std::string& t) override;
  Status LinkFile(const std::string& s, const std::string& t) override {
    return base_->LinkFile(s, t);
  }
  Status SyncDir(const std::string& d) override {
    if (fail_syncs_.load()) return Status::IOError(d + ": injected fsync failure");
    return base_->SyncDir(d);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& f) override {
    return base_->LockFile(f);
  }

 private:
  Env* base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::mutex mu_;
  std::map<std::string, uint64_t> synced_size_;
  std::string fail_suffix_;  // every file written through this Env
};

}  // namespace tinykv::storage
