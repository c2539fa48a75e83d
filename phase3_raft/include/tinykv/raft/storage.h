// raft::Storage: how the core reads the stable (persisted) part of the log,
// as etcd-io/raft's Storage interface. The application owns writes: it
// persists what Ready hands it (entries, hard state, snapshot) and only then
// calls Advance(); the core only reads through this interface.
//
// Error contract (the core relies on it):
//   - an index below FirstIndex()-1 was compacted: Status::NotFound with
//     kCompactedMessage (IsCompacted() below);
//   - an index above LastIndex(): Status::Unavailable (IsUnavailable() below);
//   - Snapshot() may return Status::Busy when a snapshot is being produced
//     (the leader retries later).
// FirstIndex()-1 is the index of the last snapshot (its term is answered by
// Term()), so a Storage always knows one "dummy" entry below its first.
//
// Thread safety: the core calls Storage from the thread that drives it; an
// implementation that is also written by another thread must synchronise.
//
// The durable implementation (a segmented on-disk log) plugs in here later;
// MemoryStorage is used by tests and the simulator (its contents model what
// was synced to disk).
#pragma once

#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/raft/message.h"

namespace tinykv::raft {

inline constexpr std::string_view kCompactedMessage =
    "raft: requested index is unavailable due to compaction";
inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

inline bool IsCompacted(const Status& s) { return s.IsNotFound(); }

struct InitialState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The saved HardState and the ConfState of the latest snapshot (or boot).
  virtual Result<InitialState> GetInitialState() const = 0;
  // Entries in [lo, hi), at least one if any exist in range, and then as many
  // more as fit within max_size bytes of payload (PayloadSize + overhead).
  // REQUIRES: FirstIndex() <= lo <= hi <= LastIndex()+1.
  virtual Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const = 0;
  // Term of entry i, for FirstIndex()-1 <= i <= LastIndex().
  virtual Result<uint64_t> Term(uint64_t i) const = 0;
  virtual uint64_t FirstIndex() const = 0;
  virtual uint64_t LastIndex() const = 0;
  // The most recent snapshot.
  virtual Result<Snapshot> GetSnapshot() const = 0;
};

// An in-memory Storage. The application calls Append/SetHardState/
// ApplySnapshot with what Ready gives it (that is "persisting"), and
// CreateSnapshot+Compact to compact the log. Internally synchronised, so the
// driver may compact from another thread.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  Result<InitialState> GetInitialState() const override;
  Result<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi, uint64_t max_size) const override;
  Result<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  Result<Snapshot> GetSnapshot() const override;

  void SetHardState(const HardState& hs);
  // Bootstrapping a brand-new cluster (or a test): sets the ConfState of the
  // empty initial snapshot (index 0). REQUIRES: no snapshot applied yet.
  void SetBootstrapConfState(const ConfState& cs);
  HardState hard_state() const;
  // Replaces the whole log with the snapshot. Fails (InvalidArgument, "out of
  // date") if the snapshot is older than the current one.
  Status ApplySnapshot(const Snapshot& snap);
  // Makes a snapshot at index i (REQUIRES: i <= LastIndex()) with the given
  // configuration and state machine image; does not compact.
  Result<Snapshot> CreateSnapshot(uint64_t i, const ConfState& cs, std::string data);
  // Discards entries before compact_index (the entry at compact_index becomes
  // the dummy). NotFound if already compacted.
  Status Compact(uint64_t compact_index);
  // Appends entries, truncating any conflicting suffix. The entries must be
  // contiguous with (or overlap) the existing log.
  Status Append(const std::vector<Entry>& entries);

 private:
  uint64_t FirstIndexLocked() const { return ents_.front().index + 1; }
  uint64_t LastIndexLocked() const { return ents_.front().index + ents_.size() - 1; }

  mutable std::mutex mu_;
  HardState hard_state_;
  Snapshot snapshot_;
  // ents_[i] is the entry at index ents_[0].index + i; ents_[0] is a dummy
  // holding the snapshot's index and term.
  std::vector<Entry> ents_;
};

// Keeps the longest prefix of ents whose total size stays within max_size,
// but always at least one entry (so progress is possible).
void LimitSize(std::vector<Entry>* ents, uint64_t max_size);

}  // namespace tinykv::raft
