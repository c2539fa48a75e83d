// Progress and Inflights; see progress.h.
#include "progress.h"

#include <algorithm>

#include "tinykv/common/check.h"

namespace tinykv::raft {

const char* ProgressStateName(ProgressStateType s) {
  switch (s) {
    case ProgressStateType::kProbe:
      return "StateProbe";
    case ProgressStateType::kReplicate:
      return "StateReplicate";
    case ProgressStateType::kSnapshot:
      return "StateSnapshot";
  }
  return "StateUnknown";
}

void Inflights::Add(uint64_t index, uint64_t bytes) {
  TINYKV_CHECK(!Full()) << "cannot add into a full inflights";
  TINYKV_CHECK(items_.empty() || items_.back().index < index) << "inflights out of order";
  items_.push_back({index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(uint64_t to) {
  while (!items_.empty() && items_.front().index <= to) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

void Inflights::FreeFirstOne() {
  if (items_.empty()) return;
  bytes_ -= items_.front().bytes;
  items_.pop_front();
}

bool Inflights::Full() const {
  return static_cast<int>(items_.size()) >= max_msgs_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

void Progress::ResetState(ProgressStateType s) {
  msg_app_flow_paused = false;
  pending_snapshot = 0;
  state = s;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  // After a snapshot, probe from the snapshot index: the follower either has
  // it applied or will reject and we back up.
  if (state == ProgressStateType::kSnapshot) {
    const uint64_t pending = pending_snapshot;
    ResetState(ProgressStateType::kProbe);
    next = std::max(match + 1, pending + 1);
  } else {
    ResetState(ProgressStateType::kProbe);
    next = match + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressStateType::kReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(ProgressStateType::kSnapshot);
  pending_snapshot = snapshot_index;
}

void Progress::UpdateOnEntriesSend(size_t entries, uint64_t bytes, uint64_t next_index) {
  switch (state) {
    case ProgressStateType::kReplicate:
      if (entries > 0) {
        // Pipelining: assume delivery and advance next optimistically.
        const uint64_t last = next_index + entries - 1;
        next = std::max(next, last + 1);
        inflights.Add(last, bytes);
      }
      msg_app_flow_paused = inflights.Full();
      break;
    case ProgressStateType::kProbe:
      if (entries > 0) msg_app_flow_paused = true;
      break;
    case ProgressStateType::kSnapshot:
      TINYKV_CHECK(false) << "sending append in unhandled state " << ProgressStateName(state);
  }
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    msg_app_flow_paused = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state == ProgressStateType::kReplicate) {
    // A stale rejection (for an index we already know matches) is ignored.
    if (rejected <= match) return false;
    // Pipelined messages were lost or rejected: restart from match+1.
    next = match + 1;
    return true;
  }
  // Probe: only the rejection of our latest probe counts.
  if (next - 1 != rejected) return false;
  next = std::max<uint64_t>(std::min(rejected, match_hint + 1), 1);
  msg_app_flow_paused = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressStateType::kProbe:
      return msg_app_flow_paused;
    case ProgressStateType::kReplicate:
      return msg_app_flow_paused || inflights.Full();
    case ProgressStateType::kSnapshot:
      return true;
  }
  return true;
}

std::string Progress::ToString() const {
  std::string s = std::string(ProgressStateName(state)) + " match=" + std::to_string(match) +
                  " next=" + std::to_string(next);
  if (is_learner) s += " learner";
  if (state == ProgressStateType::kSnapshot)
    s += " pendingSnap=" + std::to_string(pending_snapshot);
  return s;
}

}  // namespace tinykv::raft
