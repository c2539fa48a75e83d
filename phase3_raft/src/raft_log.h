// RaftLog: the log as the core sees it — the stable part in Storage plus an
// unstable tail (entries and maybe a snapshot) not yet persisted
// (etcd-io/raft's log.go and log_unstable.go).
//
// Invariants (Raft Figure 2):
//   applied <= committed <= LastIndex()       (§5.3: only committed entries apply)
//   committed never decreases, and a committed entry is never truncated (§5.4).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/raft/storage.h"

namespace tinykv::raft {

// Entries and a snapshot that were not yet handed to the application to persist.
class Unstable {
 public:
  std::optional<uint64_t> MaybeFirstIndex() const;
  std::optional<uint64_t> MaybeLastIndex() const;
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;
  // The application persisted entries up to (i, t); forget them.
  void StableTo(uint64_t i, uint64_t t);
  void StableSnapTo(uint64_t i);
  void Restore(const Snapshot& s);
  void TruncateAndAppend(const std::vector<Entry>& ents);
  // REQUIRES: offset <= lo <= hi <= offset + entries.size().
  std::vector<Entry> Slice(uint64_t lo, uint64_t hi) const;

  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  uint64_t offset = 0;  // index of entries[0]
};

class RaftLog {
 public:
  explicit RaftLog(Storage* storage, uint64_t max_committed_bytes);

  // The follower side of AppendEntries (§5.3): if our entry at `index` has
  // term `log_term`, appends ents (truncating a conflicting suffix) and
  // advances commit to min(committed, last new index). Returns the last new
  // index, or nullopt on a mismatch.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                      const std::vector<Entry>& ents);
  // Appends at the tail (truncating after ents[0].index-1). Returns LastIndex().
  uint64_t Append(const std::vector<Entry>& ents);
  // First index in ents whose term conflicts with ours (or is new); 0 if none.
  uint64_t FindConflict(const std::vector<Entry>& ents) const;
  // Fast backtracking (§5.3, "the leader can decrement nextIndex to bypass all
  // conflicting entries in that term"): the largest index <= `index` whose term
  // is <= `term`, with that term (0 if unknown).
  std::pair<uint64_t, uint64_t> FindConflictByTerm(uint64_t index, uint64_t term) const;

  std::vector<Entry> UnstableEntries() const { return unstable_.entries; }
  bool HasUnstableEntries() const { return !unstable_.entries.empty(); }
  // Committed but not yet applied entries, bounded by max_committed_bytes.
  std::vector<Entry> NextCommittedEntries() const;
  bool HasNextCommittedEntries() const;
  Result<Snapshot> GetSnapshot() const;
  bool HasPendingSnapshot() const { return unstable_.snapshot.has_value(); }
  const std::optional<Snapshot>& PendingSnapshot() const { return unstable_.snapshot; }

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  // The last index of the log that is durable and will stay part of it: the
  // entries before the unstable tail (0 while a snapshot is pending).
  uint64_t LastStableIndex() const;
  uint64_t LastTerm() const;
  // Term of entry i; NotFound (compacted) or Unavailable (beyond last).
  Result<uint64_t> Term(uint64_t i) const;
  uint64_t ZeroTermOnErr(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t t) const;
  // §5.4.1: a candidate's log (last_term, last_index) is at least as up to date as ours.
  bool IsUpToDate(uint64_t last_index, uint64_t last_term) const;

  void CommitTo(uint64_t tocommit);
  // §5.4.2: commit max_index only if its entry is from `term` (the leader's
  // current term); earlier-term entries commit indirectly.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  void AppliedTo(uint64_t i);
  void StableTo(uint64_t i, uint64_t t) { unstable_.StableTo(i, t); }
  void StableSnapTo(uint64_t i) { unstable_.StableSnapTo(i); }
  // Replaces the log with a snapshot (follower InstallSnapshot, §7).
  void Restore(const Snapshot& s);

  // Entries [lo, hi), at most max_size bytes (at least one).
  Result<std::vector<Entry>> Slice(uint64_t lo, uint64_t hi, uint64_t max_size) const;
  // Entries from i to the end, at most max_size bytes.
  Result<std::vector<Entry>> EntriesFrom(uint64_t i, uint64_t max_size) const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  Storage* storage() const { return storage_; }
  // Changes whenever entries are appended or the log is replaced by a
  // snapshot (callers cache facts derived from the log's contents).
  uint64_t generation() const { return generation_; }

 private:
  Status CheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  Storage* storage_;
  Unstable unstable_;
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
  uint64_t max_committed_bytes_;
  uint64_t generation_ = 0;
};

}  // namespace tinykv::raft
