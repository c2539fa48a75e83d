// FaultInjectionEnv: an Env wrapper that injects the failures a disk and a
// power supply can produce (STYLE 20), for the tests of every layer.
//
// Faults, each switchable at any time from any thread:
//   * SetFailWrites: every Append, Flush, file creation and TruncateFile
//     fails with IOError("<file>: write: Input/output error (injected)"),
//     what a dying disk returns (EIO).
//   * SetFailWritesToSuffix: the same, but only Append/Flush of files whose
//     name ends with the suffix (".sst": a flush fails, the WAL works).
//   * SetFailSyncs: every WritableFile::Sync fails with IOError("<file>:
//     fdatasync: Input/output error (injected)"), and SyncDir and
//     TruncateFile (which syncs) with "<name>: fsync: ..."; nothing more
//     becomes durable.
//   * SetSyncDelay(clock, micros): every WritableFile::Sync first sleeps
//     `micros` on `clock` (a ManualClock: time jumps, no real wait), a slow
//     disk for the tests of latency warnings and histograms.
//   * SetDiskFull / SetDiskFullAfterBytes: appends fail with
//     ResourceExhausted("<file>: No space left on device"), exactly what
//     Env::Default reports for ENOSPC.
//
// Power cut: the Env remembers, for every file created, opened for append,
// renamed or linked through it, how many bytes were durable (the size at its
// last successful Sync; for a file opened for append, its size when opened;
// TruncateFile's size, which is synced) and whether its directory entry is
// durable (the file existed before, or SyncDir of its directory succeeded
// since it was created, renamed or linked).
//   * DropUnsyncedData() cuts every such file back to its durable size. A
//     file whose directory entry is not durable VANISHES (it is removed),
//     synced or not; a file whose entry is durable but that was never synced
//     comes back EMPTY.
//   * DropUnsyncedData(rnd) is a torn power cut: each file keeps its durable
//     bytes plus a random prefix (0 .. all) of its unsynced tail, and that
//     kept tail reads back as zeros one time in four (the size reached the
//     disk, the data did not); a file whose entry is not durable vanishes one
//     time in two (else it is treated as durable). Same seed, same outcome.
// Files the Env never saw (created by another Env) are left alone.
// Not modelled: a remove or a rename over an existing file that was not
// followed by SyncDir is not undone.
//
// Counters: sync_count() and dir_sync_count() count successful
// WritableFile::Sync and SyncDir calls, so a test can assert that an
// operation synced (or did not).
//
// Speed: SetSkipRealSyncs(true) makes Sync and SyncDir succeed (counted and
// tracked as durable, as above) without fsyncing the real disk. Durability
// is then only simulated -- DropUnsyncedData still keeps exactly what was
// synced -- which is all most tests need, at a fraction of the time.
//
// Thread safety: all methods are thread-safe, but DropUnsyncedData requires
// that no thread is using a file of this Env meanwhile. Files still open then
// are flushed and then dead: later Append/Flush/Sync on them fail with
// IOError and write nothing, Close succeeds. (So a test may cut the power
// under an open component and destroy it afterwards.)
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tinykv/common/clock.h"
#include "tinykv/common/env.h"
#include "tinykv/common/random.h"

namespace tinykv {

class FaultInjectionEnv final : public Env {
 public:
  // `base` does the real I/O and must outlive this Env. REQUIRES: every
  // WritableFile opened through this Env is destroyed before it (checked).
  explicit FaultInjectionEnv(Env* base) : base_(base) {}
  ~FaultInjectionEnv() override;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  Env* base() const { return base_; }

  // --- faults
  void SetFailWrites(bool fail) { fail_writes_.store(fail); }
  bool fail_writes() const { return fail_writes_.load(); }
  // Empty: off.
  void SetFailWritesToSuffix(const std::string& suffix);
  void SetFailSyncs(bool fail) { fail_syncs_.store(fail); }
  bool fail_syncs() const { return fail_syncs_.load(); }
  void SetSkipRealSyncs(bool skip) { skip_real_syncs_.store(skip); }
  // nullptr or 0: off. `clock` must outlive the Env's files.
  void SetSyncDelay(Clock* clock, uint64_t micros) {
    sync_delay_clock_.store(clock);
    sync_delay_micros_.store(micros);
  }
  void DelaySync() const {
    Clock* c = sync_delay_clock_.load();
    const uint64_t us = sync_delay_micros_.load();
    if (c != nullptr && us > 0) c->SleepForMicros(us);
  }
  bool skip_real_syncs() const { return skip_real_syncs_.load(); }
  // true: every Append fails from now on; false: lifts any disk-full state.
  void SetDiskFull(bool full);
  // Appends succeed until they have added `budget` more bytes in total
  // (over all files); the Append that crosses the limit writes the bytes
  // that still fit -- a partial write, as write(2) makes -- and fails, and
  // so does every later Append until SetDiskFull(false).
  void SetDiskFullAfterBytes(uint64_t budget);
  bool disk_full() const;

  // --- power cut (see the file comment)
  [[nodiscard]] Status DropUnsyncedData();
  [[nodiscard]] Status DropUnsyncedData(Random* rnd);

  // --- counters
  uint64_t sync_count() const { return sync_count_.load(); }
  uint64_t dir_sync_count() const { return dir_sync_count_.load(); }

  // --- Env
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& f) override {
    return base_->NewSequentialFile(f);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& f) override {
    return base_->NewRandomAccessFile(f);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& fname) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& fname) override;
  bool FileExists(const std::string& f) override { return base_->FileExists(f); }
  Status GetChildren(const std::string& d, std::vector<std::string>* r) override {
    return base_->GetChildren(d, r);
  }
  Status RemoveFile(const std::string& fname) override;
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  Status RemoveDir(const std::string& dirname) override;
  Status RemoveDirRecursively(const std::string& dirname) override;
  Result<uint64_t> GetFileSize(const std::string& f) override { return base_->GetFileSize(f); }
  Status TruncateFile(const std::string& fname, uint64_t size) override;
  Status RenameFile(const std::string& src, const std::string& target) override;
  Status LinkFile(const std::string& src, const std::string& target) override;
  Status SyncDir(const std::string& dirname) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& f) override {
    return base_->LockFile(f);
  }

 private:
  class File;
  friend class File;

  struct FileState {
    uint64_t synced_size = 0;
    bool entry_durable = false;
  };

  // Called by File.
  Status CheckAppend(const std::string& fname, Slice* data);
  bool ShouldFailWrite(const std::string& fname);
  void RecordSync(const std::string& fname);
  void Register(File* f);
  void Unregister(File* f);

  Result<std::unique_ptr<WritableFile>> Wrap(const std::string& fname,
                                             std::unique_ptr<WritableFile> base);
  Status DropLocked(Random* rnd);

  Env* const base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> skip_real_syncs_{false};
  std::atomic<Clock*> sync_delay_clock_{nullptr};
  std::atomic<uint64_t> sync_delay_micros_{0};
  std::atomic<uint64_t> sync_count_{0};
  std::atomic<uint64_t> dir_sync_count_{0};

  mutable std::mutex mu_;
  std::string fail_suffix_;                  // guarded by mu_
  uint64_t space_left_ = UINT64_MAX;          // guarded by mu_; 0: disk full
  std::map<std::string, FileState> files_;    // guarded by mu_; by file name
  std::set<File*> open_;                      // guarded by mu_
};

}  // namespace tinykv
