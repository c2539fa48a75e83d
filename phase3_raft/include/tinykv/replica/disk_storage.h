// DiskStorage: a durable raft::Storage — a segmented, checksummed log of
// entries, hard states and snapshot metadata (format: doc/log_format.md).
//
// What it is: every mutation is appended as a record to the active segment
// file "<seq>.log" in `dir`; Save() writes one Ready's worth of records with
// one write() and (when sync) one fdatasync, so concurrent proposals batched
// into one Ready share one fsync. A conflicting suffix is truncated
// logically: an entry record with index i supersedes every entry >= i seen
// before it (as etcd's WAL). The whole live log is also kept in memory (a
// raft::MemoryStorage) for reads; the log is bounded by snapshots + Compact().
//
// Segments: when the active segment exceeds segment_bytes a new one is
// started; it begins with the current snapshot metadata and hard state, so a
// segment whose entries are all at or below the snapshot index can be deleted
// (oldest first) without losing anything.
//
// Recovery (Open): segments are replayed in order. Only a physically
// truncated record at the tail of the LAST segment -- its header or payload
// cut off by the end of the file, or zero bytes from a record boundary to the
// end (a preallocated or half-persisted tail) -- is a write that was never
// acknowledged (acknowledged writes were fsynced whole): the file is cut
// there, and the state before it is complete. Anything else that does not
// verify -- a checksum mismatch, also on the last record, an undecodable
// record, a torn record in an older segment, a gap -- is
// Corruption("<file> offset <n>: ..."), never a silently shorter log.
//
// Write failures (EIO, a full disk): Save returns the error and cuts the
// segment back to its size before the failed write, so the log stays
// appendable and a later Save (after space was freed) writes a clean record.
// If even that repair fails, every later write fails with the same error.
//
// Thread safety: all methods may be called from any thread (one mutex);
// the raft core reads from the driver thread while status calls read from others.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/common/clock.h"
#include "tinykv/common/env.h"
#include "tinykv/common/latency_histogram.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/raft/storage.h"
#include "tinykv/replica/slow_warnings.h"

namespace tinykv::replica {

struct DiskStorageOptions {
  uint64_t segment_bytes = 64u << 20;  // roll to a new segment above this size
  bool sync = true;                    // false: never fsync (tests only)
  Env* env = nullptr;                  // every file goes through it; nullptr: Env::Default()
  // Timing of the log's fdatasyncs: each is observed in fsync_histogram (if
  // set; it must outlive the storage), and one longer than
  // warn_sync_duration logs "slow fdatasync" (slow_warnings.h) with `node`
  // and `group` as its context fields.
  Clock* clock = nullptr;  // nullptr: Clock::Real()
  LatencyHistogram* fsync_histogram = nullptr;
  std::chrono::microseconds warn_sync_duration = kWarnSyncDuration;
  uint64_t node = 0;
  uint64_t group = 0;
};

struct DiskStorageStats {
  uint64_t fsyncs = 0;          // fdatasync calls on segments
  uint64_t entries_written = 0;
  uint64_t bytes_written = 0;
  uint64_t segments = 0;        // live segment files
  uint64_t segments_removed = 0;
};

class DiskStorage final : public raft::Storage {
 public:
  // Opens or creates the log in `dir`. A brand-new log has no snapshot and an
  // empty conf state (call Bootstrap). Corruption names file and offset.
  [[nodiscard]] static Result<std::unique_ptr<DiskStorage>> Open(
      const std::filesystem::path& dir, DiskStorageOptions options = {});
  ~DiskStorage() override;

  Result<raft::InitialState> GetInitialState() const override;
  Result<std::vector<raft::Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  Result<raft::Snapshot> GetSnapshot() const override;

  // True when the log holds nothing (never bootstrapped).
  bool IsEmpty() const;
  // Durably records the initial configuration of a new cluster (snapshot
  // metadata at index 0). REQUIRES: IsEmpty().
  Status Bootstrap(const raft::ConfState& cs);

  // Persists one Ready: the hard state (if any) and the entries (truncating a
  // conflicting suffix), in one write; fdatasync once if `sync`.
  Status Save(const std::optional<raft::HardState>& hs, const std::vector<raft::Entry>& entries, bool sync);
  // Persists a snapshot received from the leader (replaces the whole log, or
  // keeps the suffix after it if it matches) and fsyncs. Older: InvalidArgument.
  Status ApplySnapshot(const raft::Snapshot& snap);
  // Records a locally made snapshot at index i (<= LastIndex) with conf cs and
  // data, then discards entries up to compact_index (<= i) in memory and
  // deletes whole segments that are no longer needed.
  Status CreateSnapshot(uint64_t i, const raft::ConfState& cs, std::string data, uint64_t compact_index);
  // The in-memory hard state (what was last saved).
  raft::HardState hard_state() const;
  DiskStorageStats stats() const;

 private:
  struct Segment {
    uint64_t seq = 0;
    std::filesystem::path path;
    uint64_t max_index = 0;  // highest entry index written into it (0: none)
  };

  DiskStorage(std::filesystem::path dir, DiskStorageOptions options);
  // Undoes a failed append: closes the active file, cuts it back to
  // active_size_ and reopens it. Sets broken_ if that fails too.
  Status RepairAfterFailedWriteLocked(const Status& why);
  Status Recover();
  Status OpenSegmentForAppend(uint64_t seq, bool fresh);
  // Appends records to the active segment; fsyncs if sync.
  Status WriteLocked(const std::string& records, bool sync, uint64_t max_index);
  // file_->Sync(), timed (DiskStorageOptions: histogram, slow warning).
  Status TimedSyncLocked();
  Status MaybeRollLocked();
  void RemoveObsoleteSegmentsLocked();
  std::string StateRecordsLocked() const;

  const std::filesystem::path dir_;
  const DiskStorageOptions options_;
  mutable std::mutex mu_;
  raft::MemoryStorage mem_;
  raft::HardState hs_;
  raft::Snapshot snap_;  // latest snapshot (metadata + data)
  bool bootstrapped_ = false;
  std::vector<Segment> segments_;  // oldest first; back() is active
  Env* const env_;
  std::unique_ptr<WritableFile> file_;  // the active segment, opened for append
  uint64_t active_size_ = 0;            // its size: every byte a whole record
  bool active_v2_ = true;               // the active segment's record format
  Status broken_;                       // non-OK: a failed write could not be undone
  DiskStorageStats stats_;
};

}  // namespace tinykv::replica
