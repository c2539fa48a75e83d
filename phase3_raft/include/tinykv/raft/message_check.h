// Validation of messages that arrive from the network, before any of them can
// change a node's state (the "validate at the boundary" rule: a peer's bytes
// are input, and input never reaches a TINYKV_CHECK).
//
// Two layers, both applied by RawNode::Step before Raft sees the message:
//   * CheckMessageShape (here): stateless. Types that may cross the network,
//     the term and index ceilings, an AppendEntries whose entries are
//     consecutive after `index` with sane terms, a snapshot with a valid
//     ConfState. Pure and thread-safe: a transport may call it before doing
//     any work for a message (e.g. before fetching a snapshot's files).
//   * The node's own checks (RawNode::Step): the message is addressed to this
//     node, the sender is a member (see phase3_raft/README.md, "Input
//     validation", for the rule and its liveness cost), a heartbeat never
//     asks to commit beyond the log, a response never acknowledges entries
//     the leader does not have.
// A refused message leaves the node unchanged; RawNode counts it by reason
// (NodeStatus::rejected) and returns InvalidArgument (NotFound for a sender
// that is not a member, as etcd's ErrStepPeerNotFound).
//
// Thread safety: pure functions and value types.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "tinykv/common/status.h"
#include "tinykv/raft/message.h"

namespace tinykv::raft {

// Why RawNode::Step refused a message. The numbering is stable (counters are
// indexed by it); RejectReasonName gives the stable snake_case name.
enum class RejectReason : uint8_t {
  kLocalType = 0,    // a type that never crosses the network (MsgHup, MsgBeat, MsgProp, ...)
  kUnknownType = 1,  // not a MessageType value
  kBadAddress = 2,   // from is kNone, or to is not this node
  kNotMember = 3,    // the sender is not a member of this node's group
  kBadTerm = 4,      // term or log_term above kMaxTerm; term 0 where one is needed, or vice versa
  kBadIndex = 5,     // index/commit/reject_hint above kMaxIndex; commit or ack beyond the log
  kBadEntries = 6,   // entries not consecutive after index, terms out of order, bad conf change
  kBadSnapshot = 7,  // snapshot missing or misplaced, above the ceilings, invalid ConfState
};
inline constexpr int kNumRejectReasons = 8;

// "local_type", "unknown_type", "bad_address", "not_member", "bad_term",
// "bad_index", "bad_entries", "bad_snapshot".
std::string_view RejectReasonName(RejectReason r);

// Messages refused by RawNode::Step since the node was created, by reason.
struct RejectedMessages {
  std::array<uint64_t, kNumRejectReasons> by_reason{};

  uint64_t operator[](RejectReason r) const { return by_reason[static_cast<size_t>(r)]; }
  uint64_t total() const {
    uint64_t t = 0;
    for (uint64_t n : by_reason) t += n;
    return t;
  }
};

// The stateless checks (see the file comment). OK, or InvalidArgument naming
// the problem with *reason set. Never aborts, whatever the message holds.
// REQUIRES: reason != nullptr.
Status CheckMessageShape(const Message& m, RejectReason* reason);

// A ConfState a node could switch to: no id 0, no id twice in one list, at
// least one voter, learners disjoint from both voter halves, learners_next a
// subset of the outgoing voters and disjoint from the learners, and
// learners_next / auto_leave only in a joint configuration. InvalidArgument
// naming the problem otherwise.
Status CheckConfState(const ConfState& cs);

}  // namespace tinykv::raft
