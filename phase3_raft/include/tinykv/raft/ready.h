// raft::Ready: one batch of work the core hands to the application.
//
// THE CONTRACT (as etcd-io/raft's Ready). For each Ready `rd`, in order:
//   1. Persist: if !rd.snapshot.empty(), store the snapshot; append
//      rd.entries (truncating any conflicting suffix); if rd.hard_state is set,
//      store it. All of it must be durable (fsynced) before step 2 when
//      rd.must_sync is true.
//   2. Send rd.messages. Messages may depend on the persisted state (a vote
//      response depends on the persisted vote; an AppendEntries response on
//      the persisted entries), which is why they come after step 1 -- except
//      when rd.messages_before_persist is set: then they may be sent first,
//      in parallel with step 1 (a leader's append, Config::parallel_leader_append).
//   3. Apply: install rd.snapshot into the state machine, then apply
//      rd.committed_entries in order (for kConfChangeV2 entries call
//      RawNode::ApplyConfChange). Committed entries are always already
//      persisted by step 1 of this or an earlier Ready.
//   4. Serve rd.read_states (read at index once applied up to it) and fail
//      rd.failed_reads.
//   5. Call RawNode::Advance(rd).
// Between RawNode::GetReady() and Advance() the application must not call
// GetReady() again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/raft/message.h"

namespace tinykv::raft {

enum class StateRole : uint8_t { kFollower = 0, kCandidate = 1, kLeader = 2, kPreCandidate = 3 };

// "follower", "candidate", "leader", "pre_candidate".
const char* StateRoleName(StateRole r);

// Volatile state that is useful to observe but need not be persisted.
struct SoftState {
  uint64_t lead = kNone;
  StateRole role = StateRole::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// A confirmed linearizable read point: once the state machine has applied
// `index`, a read with request_ctx may be served.
struct ReadState {
  uint64_t index = 0;
  std::string request_ctx;
};

struct Ready {
  std::optional<SoftState> soft_state;   // set when changed
  std::optional<HardState> hard_state;   // set when changed: persist
  std::vector<Entry> entries;            // persist (append) before sending
  Snapshot snapshot;                     // persist and apply if !empty()
  std::vector<Entry> committed_entries;  // apply
  std::vector<Message> messages;         // send after persisting
  std::vector<ReadState> read_states;
  // Request contexts of ReadIndex requests made on this node that will never
  // be answered (leader lost, no leader known): fail them to the client.
  std::vector<std::string> failed_reads;
  bool must_sync = false;  // hard state vote/term or entries changed
  // The messages do not depend on this Ready's persistence and may be sent
  // before step 1 (thesis §10.2.1). Set only with parallel_leader_append, on
  // a leader, when this Ready changes neither term nor vote and carries no
  // snapshot: then every message is the leader's own (appends, heartbeats,
  // read-index answers, timeout-now), and the leader's vote for itself is
  // already durable. The commit index they carry counts the leader only for
  // entries Advance has reported durable, so a leader that crashes before
  // its write completes has vouched for nothing it may lose.
  bool messages_before_persist = false;

  bool empty() const {
    return !soft_state && !hard_state && entries.empty() && snapshot.empty() &&
           committed_entries.empty() && messages.empty() && read_states.empty() &&
           failed_reads.empty();
  }
};

}  // namespace tinykv::raft
