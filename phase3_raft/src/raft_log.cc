// RaftLog and Unstable; see raft_log.h.
#include "raft_log.h"

#include <algorithm>

#include "tinykv/common/check.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft {

// ---- Unstable ---------------------------------------------------------------

std::optional<uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot) return snapshot->metadata.index + 1;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries.empty()) return offset + entries.size() - 1;
  if (snapshot) return snapshot->metadata.index;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeTerm(uint64_t i) const {
  if (i < offset) {
    if (snapshot && snapshot->metadata.index == i) return snapshot->metadata.term;
    return std::nullopt;
  }
  auto last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  if (entries.empty()) return std::nullopt;  // i == snapshot index handled above
  return entries[i - offset].term;
}

void Unstable::StableTo(uint64_t i, uint64_t t) {
  auto gt = MaybeTerm(i);
  if (!gt) return;
  // Only if the entry at i is still the one that was persisted (a newer
  // leader may have replaced it meanwhile).
  if (*gt == t && i >= offset) {
    entries.erase(entries.begin(), entries.begin() + static_cast<ptrdiff_t>(i + 1 - offset));
    offset = i + 1;
  }
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot && snapshot->metadata.index == i) snapshot.reset();
}

void Unstable::Restore(const Snapshot& s) {
  offset = s.metadata.index + 1;
  entries.clear();
  snapshot = s;
}

void Unstable::TruncateAndAppend(const std::vector<Entry>& ents) {
  const uint64_t after = ents.front().index;
  if (after == offset + entries.size()) {
    entries.insert(entries.end(), ents.begin(), ents.end());
  } else if (after <= offset) {
    // Replace the unstable entries entirely (the stable part is truncated by
    // the application when it persists these, MemoryStorage::Append).
    offset = after;
    entries = ents;
  } else {
    entries.resize(after - offset);
    entries.insert(entries.end(), ents.begin(), ents.end());
  }
}

std::vector<Entry> Unstable::Slice(uint64_t lo, uint64_t hi) const {
  TINYKV_CHECK(offset <= lo && lo <= hi && hi <= offset + entries.size())
      << "unstable.slice[" << lo << "," << hi << ") out of bound [" << offset << ","
      << offset + entries.size() << "]";
  return std::vector<Entry>(entries.begin() + static_cast<ptrdiff_t>(lo - offset),
                            entries.begin() + static_cast<ptrdiff_t>(hi - offset));
}

// ---- RaftLog ----------------------------------------------------------------

RaftLog::RaftLog(Storage* storage, uint64_t max_committed_bytes)
    : storage_(storage), max_committed_bytes_(max_committed_bytes) {
  const uint64_t first = storage_->FirstIndex();
  const uint64_t last = storage_->LastIndex();
  unstable_.offset = last + 1;
  // Everything up to the snapshot is committed and applied.
  committed_ = first - 1;
  applied_ = first - 1;
}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                             const std::vector<Entry>& ents) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const uint64_t lastnewi = index + ents.size();
  const uint64_t ci = FindConflict(ents);
  if (ci != 0) {
    // §5.4 / Figure 2 receiver rule 3: delete the conflicting entry and all
    // that follow; a committed entry can never conflict (Log Matching).
    TINYKV_CHECK(ci > committed_) << "entry " << ci << " conflict with committed entry [committed("
                                  << committed_ << ")]";
    const uint64_t offset = index + 1;
    Append(std::vector<Entry>(ents.begin() + static_cast<ptrdiff_t>(ci - offset), ents.end()));
  }
  CommitTo(std::min(committed, lastnewi));
  return lastnewi;
}

uint64_t RaftLog::Append(const std::vector<Entry>& ents) {
  if (ents.empty()) return LastIndex();
  const uint64_t after = ents.front().index - 1;
  TINYKV_CHECK(after >= committed_)
      << "after(" << after << ") is out of range [committed(" << committed_ << ")]";
  ++generation_;
  unstable_.TruncateAndAppend(ents);
  return LastIndex();
}

uint64_t RaftLog::FindConflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return 0;
}

std::pair<uint64_t, uint64_t> RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  for (; index > 0; --index) {
    auto t = Term(index);
    // Unknown (compacted): assume a possible match, with term 0 meaning "unknown".
    if (!t.ok()) return {index, 0};
    if (*t <= term) return {index, *t};
  }
  return {0, 0};
}

std::vector<Entry> RaftLog::NextCommittedEntries() const {
  const uint64_t off = std::max(applied_ + 1, FirstIndex());
  if (committed_ + 1 > off) {
    auto ents =
        Slice(off, committed_ + 1, max_committed_bytes_ == 0 ? kNoLimit : max_committed_bytes_);
    TINYKV_CHECK(ents.ok()) << "unexpected error when getting committed entries: "
                            << ents.status().ToString();
    return std::move(ents).value();
  }
  return {};
}

bool RaftLog::HasNextCommittedEntries() const {
  return committed_ + 1 > std::max(applied_ + 1, FirstIndex());
}

Result<Snapshot> RaftLog::GetSnapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->GetSnapshot();
}

uint64_t RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

uint64_t RaftLog::LastStableIndex() const {
  if (unstable_.snapshot) return 0;
  const uint64_t stored = storage_->LastIndex();
  if (unstable_.entries.empty()) return stored;
  // A pending truncation: stored entries from offset on are being replaced.
  return std::min(stored, unstable_.offset - 1);
}

uint64_t RaftLog::LastTerm() const {
  auto t = Term(LastIndex());
  TINYKV_CHECK(t.ok()) << "unexpected error when getting the last term: " << t.status().ToString();
  return *t;
}

Result<uint64_t> RaftLog::Term(uint64_t i) const {
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  // The valid term range is [FirstIndex()-1, LastIndex()].
  const uint64_t dummy = FirstIndex() - 1;
  if (i < dummy) return Status::NotFound(kCompactedMessage);
  if (i > LastIndex()) return Status::Unavailable("raft: index beyond last");
  auto t = storage_->Term(i);
  if (t.ok()) return t;
  TINYKV_CHECK(t.status().IsNotFound() || t.status().IsUnavailable())
      << "storage term error: " << t.status().ToString();
  return t;
}

uint64_t RaftLog::ZeroTermOnErr(uint64_t i) const {
  auto t = Term(i);
  return t.ok() ? *t : 0;
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t t) const {
  auto term = Term(i);
  return term.ok() && *term == t;
}

bool RaftLog::IsUpToDate(uint64_t last_index, uint64_t last_term) const {
  const uint64_t our_term = LastTerm();
  return last_term > our_term || (last_term == our_term && last_index >= LastIndex());
}

void RaftLog::CommitTo(uint64_t tocommit) {
  if (committed_ < tocommit) {
    TINYKV_CHECK(LastIndex() >= tocommit)
        << "tocommit(" << tocommit << ") is out of range [lastIndex(" << LastIndex()
        << ")]. Was the raft log corrupted, truncated, or lost?";
    committed_ = tocommit;
  }
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
  // Raft §5.4.2 (Figure 8): a leader never commits an entry from an earlier
  // term by counting replicas; it only advances commit_index past entries of
  // its current term, which commits the earlier ones indirectly.
  if (max_index > committed_ && ZeroTermOnErr(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::AppliedTo(uint64_t i) {
  if (i == 0) return;
  // Invariant: last_applied <= commit_index (Figure 2, "Rules for Servers").
  TINYKV_CHECK(committed_ >= i && i >= applied_)
      << "applied(" << i << ") is out of range [prevApplied(" << applied_ << "), committed("
      << committed_ << ")]";
  applied_ = i;
}

void RaftLog::Restore(const Snapshot& s) {
  ++generation_;
  committed_ = s.metadata.index;
  unstable_.Restore(s);
}

Status RaftLog::CheckOutOfBounds(uint64_t lo, uint64_t hi) const {
  TINYKV_CHECK(lo <= hi) << "invalid slice " << lo << " > " << hi;
  const uint64_t fi = FirstIndex();
  if (lo < fi) return Status::NotFound(kCompactedMessage);
  const uint64_t length = LastIndex() + 1 - fi;
  TINYKV_CHECK(hi <= fi + length) << "slice[" << lo << "," << hi << ") out of bound [" << fi << ","
                                  << LastIndex() << "]";
  return Status::OK();
}

Result<std::vector<Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi, uint64_t max_size) const {
  TINYKV_RETURN_IF_ERROR(CheckOutOfBounds(lo, hi));
  std::vector<Entry> ents;
  if (lo == hi) return ents;
  if (lo < unstable_.offset) {
    auto stored = storage_->Entries(lo, std::min(hi, unstable_.offset), max_size);
    if (!stored.ok()) {
      if (IsCompacted(stored.status())) return stored.status();
      TINYKV_CHECK(false) << "entries[" << lo << ":" << std::min(hi, unstable_.offset)
                          << ") is unavailable from storage: " << stored.status().ToString();
    }
    ents = std::move(stored).value();
    // Storage stopped early because of the size limit: done.
    if (ents.size() < std::min(hi, unstable_.offset) - lo) return ents;
  }
  if (hi > unstable_.offset) {
    auto un = unstable_.Slice(std::max(lo, unstable_.offset), hi);
    ents.insert(ents.end(), std::make_move_iterator(un.begin()), std::make_move_iterator(un.end()));
  }
  LimitSize(&ents, max_size);
  return ents;
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(uint64_t i, uint64_t max_size) const {
  if (i > LastIndex()) return std::vector<Entry>{};
  return Slice(i, LastIndex() + 1, max_size);
}

}  // namespace tinykv::raft
