// The data Raft exchanges and persists: log entries, hard state, membership
// configuration (ConfState), snapshots and messages. Plain value types; the
// binary encoding lives in codec.h (grammar in doc/message_format.md).
//
// Vocabulary follows the Raft paper (Figure 2) and etcd-io/raft's raftpb:
//   Entry{term, index, type, data}            one log entry
//   HardState{term, vote, commit}             currentTerm, votedFor, commitIndex
//   ConfState                                 voters/learners, incl. joint config
//   Snapshot{metadata{index, term, conf_state}, data}
//   Message{type, to, from, term, log_term, index, entries, commit, ...}
//
// Thread safety: value types; no internal synchronisation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tinykv::raft {

// 0 is never a valid node id; it means "none" (no vote, no leader).
inline constexpr uint64_t kNone = 0;

// Ceilings on terms and log indexes (2^62). Unreachable in practice: a term
// or an index that grows by a million a second reaches 2^62 after ~146,000
// years. A message above them is refused (message_check.h), a stored hard
// state above them does not load, and a node whose term reached kMaxTerm
// refuses to campaign, so `term + 1` and `index + n` can never wrap.
inline constexpr uint64_t kMaxTerm = uint64_t{1} << 62;
inline constexpr uint64_t kMaxIndex = uint64_t{1} << 62;

enum class EntryType : uint8_t {
  kNormal = 0,        // application payload (empty data: the leader's no-op, §8)
  kConfChangeV2 = 1,  // data is an encoded ConfChangeV2 (codec.h)
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Raft Figure 2 "persistent state on all servers" (minus the log).
struct HardState {
  uint64_t term = 0;    // currentTerm
  uint64_t vote = 0;    // votedFor (kNone if none)
  uint64_t commit = 0;  // commitIndex (persisted so restarts can re-apply quickly)

  bool empty() const { return term == 0 && vote == 0 && commit == 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

// The membership configuration (§6), possibly joint (C_old,new): while
// voters_outgoing is non-empty, decisions need a majority of BOTH voters
// (incoming) and voters_outgoing. learners_next are nodes that become
// learners when the joint configuration is left (they are still voters in
// the outgoing half). Ids are kept sorted.
struct ConfState {
  std::vector<uint64_t> voters;
  std::vector<uint64_t> learners;
  std::vector<uint64_t> voters_outgoing;
  std::vector<uint64_t> learners_next;
  bool auto_leave = false;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

struct SnapshotMetadata {
  ConfState conf_state;  // the configuration as of `index` (§7: snapshots carry membership)
  uint64_t index = 0;    // last included index
  uint64_t term = 0;     // last included term
  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Snapshot {
  std::string data;  // opaque state machine image
  SnapshotMetadata metadata;

  bool empty() const { return metadata.index == 0; }
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

// One membership operation of a ConfChangeV2.
enum class ConfChangeType : uint8_t {
  kAddNode = 0,         // add a voter, or promote a learner to voter
  kRemoveNode = 1,      // remove a voter or learner
  kAddLearnerNode = 2,  // add a learner, or demote a voter to learner
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddNode;
  uint64_t node_id = 0;
  friend bool operator==(const ConfChangeSingle&, const ConfChangeSingle&) = default;
};

// How a multi-change ConfChangeV2 is carried out (etcd's ConfChangeTransition).
enum class ConfChangeTransition : uint8_t {
  // One voter change is applied directly ("one at a time", §4.1 of the
  // dissertation); several use joint consensus, left automatically.
  kAuto = 0,
  kJointImplicit = 1,  // always joint; the leader proposes the leave automatically
  kJointExplicit = 2,  // always joint; the application proposes an empty ConfChangeV2 to leave
};

// A membership change. An empty `changes` list means "leave the joint config".
struct ConfChangeV2 {
  ConfChangeTransition transition = ConfChangeTransition::kAuto;
  std::vector<ConfChangeSingle> changes;
  std::string context;

  // True for the empty change that leaves a joint configuration.
  bool LeaveJoint() const { return changes.empty() && transition == ConfChangeTransition::kAuto; }
  // Whether this change enters a joint configuration; *auto_leave says whether
  // it will be left automatically.
  bool EnterJoint(bool* auto_leave) const;
  friend bool operator==(const ConfChangeV2&, const ConfChangeV2&) = default;
};

// Message types, named as in etcd-io/raft (raftpb.MessageType).
// "Local" messages never cross the network (term 0): kHup, kBeat, kProp (no
// proposal forwarding here), kSnapStatus, kUnreachable, kCheckQuorum.
// kReadIndex and kTransferLeader are forwarded by followers with term 0.
// RawNode::Step refuses local types from the network (message_check.h).
enum class MessageType : uint8_t {
  kMsgHup = 0,      // local: start an election
  kMsgBeat = 1,     // local: leader sends heartbeats
  kMsgProp = 2,     // propose entries
  kMsgApp = 3,      // AppendEntries RPC (§5.3)
  kMsgAppResp = 4,  // AppendEntries response (reject carries a conflict hint)
  kMsgVote = 5,     // RequestVote RPC (§5.2)
  kMsgVoteResp = 6,
  kMsgSnap = 7,       // InstallSnapshot RPC (§7), the whole snapshot in one message
  kMsgHeartbeat = 8,  // empty AppendEntries (commit = min(match, commit))
  kMsgHeartbeatResp = 9,
  kMsgUnreachable = 10,     // local: transport reports a peer unreachable
  kMsgSnapStatus = 11,      // local: transport reports snapshot delivery result
  kMsgCheckQuorum = 12,     // local: leader checks it heard from a quorum (§6.2 diss.)
  kMsgTransferLeader = 13,  // leadership transfer request (§3.10 diss.)
  kMsgTimeoutNow = 14,      // transfer target: campaign now, ignoring leases
  kMsgReadIndex = 15,       // ReadIndex request (§6.4 diss.)
  kMsgReadIndexResp = 16,
  kMsgPreVote = 17,  // Pre-vote (§9.6 diss.)
  kMsgPreVoteResp = 18,
};
inline constexpr int kNumMessageTypes = 19;

// "MsgApp", "MsgVote", ... (etcd's names; used by SimCluster.stats()).
std::string_view MessageTypeName(MessageType t);
bool IsLocalMessage(MessageType t);
bool IsResponseMessage(MessageType t);

struct Message {
  MessageType type = MessageType::kMsgHup;
  uint64_t to = 0;
  uint64_t from = 0;
  uint64_t term = 0;
  // MsgApp: term of the entry at `index` (prevLogTerm). MsgVote: last log
  // term. Rejected MsgAppResp: the hint term (term of reject_hint on the follower).
  uint64_t log_term = 0;
  // MsgApp: prevLogIndex. MsgVote: last log index. MsgAppResp: the follower's
  // last matching index (or the rejected prevLogIndex). MsgReadIndexResp: the read index.
  uint64_t index = 0;
  std::vector<Entry> entries;
  uint64_t commit = 0;
  Snapshot snapshot;  // MsgSnap only
  bool reject = false;
  // Rejected MsgAppResp: the follower's hint index. Rejected MsgPreVoteResp /
  // MsgVoteResp to a lagging member: the responder's leader (step_check.cc).
  uint64_t reject_hint = 0;
  std::string context;  // heartbeat / ReadIndex request context, campaign type

  friend bool operator==(const Message&, const Message&) = default;
};

// Bytes of payload an entry contributes to flow-control and uncommitted limits
// (the data size; etcd counts the same).
inline uint64_t PayloadSize(const Entry& e) { return e.data.size(); }

}  // namespace tinykv::raft
