// The half of the validation of network messages that needs the node's state
// (the stateless half is CheckMessageShape, message_check.cc): the message is
// addressed to us, its sender belongs to the group, and what it claims about
// our log is possible. Nothing here changes protocol state.
#include <algorithm>

#include "raft.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft {
namespace {

Status Refuse(RejectReason r, RejectReason* out, const Message& m, const std::string& why) {
  *out = r;
  std::string msg = "raft: rejected " + std::string(MessageTypeName(m.type)) + " from " +
                    std::to_string(m.from) + " (" + std::string(RejectReasonName(r)) + "): " + why;
  // etcd's ErrStepPeerNotFound is "not found"; keep the code for callers that test it.
  return r == RejectReason::kNotMember ? Status::NotFound(msg) : Status::InvalidArgument(msg);
}

}  // namespace

Status Raft::CheckMessage(const Message& m, RejectReason* reason) {
  TINYKV_RETURN_IF_ERROR(CheckMessageShape(m, reason));
  if (m.to != id_) {
    return Refuse(RejectReason::kBadAddress, reason, m,
                  "addressed to " + std::to_string(m.to) + ", this is node " + std::to_string(id_));
  }
  if (!IsKnownSender(m.from)) {
    return Refuse(RejectReason::kNotMember, reason, m, "sender is not a member");
  }
  // A leader's heartbeat carries min(match, committed), and match is an
  // index the leader saw this log acknowledge, which it still holds. More is
  // impossible; committing up to our last index instead could commit entries
  // the leader never said match, so the heartbeat is refused, not clamped.
  if (m.type == MessageType::kMsgHeartbeat && m.commit > log_.LastIndex()) {
    return Refuse(RejectReason::kBadIndex, reason, m,
                  "commit " + std::to_string(m.commit) + " beyond the last index " +
                      std::to_string(log_.LastIndex()));
  }
  // In its own term a leader's log only grows, and a follower only ever
  // acknowledges what this leader sent it (or its commit index, which the
  // leader holds by leader completeness, §5.4).
  if (m.type == MessageType::kMsgAppResp && state_ == StateRole::kLeader &&
      m.term == current_term_ && m.index > log_.LastIndex()) {
    return Refuse(RejectReason::kBadIndex, reason, m,
                  "acknowledges index " + std::to_string(m.index) + " beyond the last index " +
                      std::to_string(log_.LastIndex()));
  }
  return Status::OK();
}

// The membership rule. A message counts only if its sender is
//   * this node itself, or
//   * in the current configuration (voters, learners, outgoing voters,
//     learners_next: exactly the ids with a Progress), or
//   * added by a conf change entry in this node's log after the applied
//     index (committed or not): a node that has appended the change knows
//     the member before it applies it, e.g. a new voter's first MsgVote.
// Exception: a node that is not a member of its own configuration (a joining
// node before it applies the change that adds it, including one with no
// configuration at all; or a node that was removed) accepts every sender.
// It has no configuration to check against: a joiner learns the group from
// whichever leader contacts it first, and replaying a long log it may apply
// the first members' entries before it sees the change that added today's
// leader. Such a node is in no quorum and cannot campaign (Promotable), so
// what it accepts cannot affect the group.
//
// Liveness cost: a lagging member F that has not yet appended the conf
// change adding X ignores X. If X becomes leader, F hears no leader it
// knows: it cannot catch up from X (no MsgApp, no MsgSnap), and its
// pre-votes are ignored by the members X's lease holds, so F would stay
// behind for as long as X leads. Bounded by vouching: a member that rejects
// a (pre-)vote of a member whose log is behind its own names its leader in
// reject_hint, answering even inside the lease, where etcd stays silent
// (TellLaggingCandidateTheLeader); F accepts a leader named by a member of
// its configuration until that configuration changes (NoteVouchedLeader).
// A learner never campaigns, so one that hears no leader for an election
// timeout sends the voters a pre-vote as a probe (AskVotersForTheLeader).
// What remains: F stays behind while no member it knows is reachable and in
// the group. Accepted because the alternative — any id may steer the term,
// the commit index or the log of a member — let a single forged packet stall
// or corrupt the whole cluster.
bool Raft::IsKnownSender(uint64_t id) {
  if (id == id_ || prs_.progress.count(id) > 0 || id == vouched_leader_) return true;
  if (prs_.progress.count(id_) == 0) return true;
  return PendingMembers().count(id) > 0;
}

uint64_t Raft::LeaderToVouchFor(const Message& vote) const {
  // Only a member of its own configuration vouches, and only for the leader
  // it follows (accepted under this same rule), to a member of it.
  if (prs_.progress.count(id_) == 0 || prs_.progress.count(vote.from) == 0) return kNone;
  if (lead_ == kNone || lead_ == id_ || lead_ == vote.from) return kNone;
  // A candidate whose log is at least as up to date as ours is not behind
  // (it may just be cut off from the leader).
  if (log_.IsUpToDate(vote.index, vote.log_term)) return kNone;
  return lead_;
}

void Raft::TellLaggingCandidateTheLeader(const Message& vote) {
  // In the lease etcd ignores a vote silently; a lagging member needs the
  // answer to find the leader.
  const uint64_t leader = LeaderToVouchFor(vote);
  if (leader == kNone) return;
  Message resp;
  resp.to = vote.from;
  resp.type =
      vote.type == MessageType::kMsgVote ? MessageType::kMsgVoteResp : MessageType::kMsgPreVoteResp;
  resp.term = current_term_;
  resp.reject = true;
  resp.reject_hint = leader;
  Send(std::move(resp));
}

void Raft::AskVotersForTheLeader() {
  if (current_term_ >= kMaxTerm) return;
  for (uint64_t id : prs_.VoterIds()) {
    if (id == id_) continue;
    Message m;
    m.to = id;
    m.type = MessageType::kMsgPreVote;
    m.term = current_term_ + 1;  // as a pre-candidate would; changes no one's term
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    Send(std::move(m));
  }
}

void Raft::NoteVouchedLeader(const Message& m) {
  if (m.type != MessageType::kMsgPreVoteResp && m.type != MessageType::kMsgVoteResp) return;
  if (!m.reject || m.reject_hint == kNone || m.reject_hint == id_) return;
  // Vouched for by a member of our configuration (not a pending or vouched one).
  if (prs_.progress.count(id_) == 0 || prs_.progress.count(m.from) == 0) return;
  if (prs_.progress.count(m.reject_hint) > 0) return;  // known anyway
  vouched_leader_ = m.reject_hint;
}

const std::set<uint64_t>& Raft::PendingMembers() {
  // Only senders outside the configuration get here, so this runs rarely; the
  // cache makes a burst of them cost one scan per change of the log.
  const uint64_t lo = std::max(log_.applied() + 1, log_.FirstIndex());
  const std::pair<uint64_t, uint64_t> key{log_.generation(), lo};
  if (key == pending_members_key_) return pending_members_;
  pending_members_key_ = key;
  pending_members_.clear();
  const uint64_t last = log_.LastIndex();
  if (lo > last) return pending_members_;
  auto ents = log_.Slice(lo, last + 1, kNoLimit);
  if (!ents.ok()) return pending_members_;  // compacted meanwhile: the tracker covers it
  for (const Entry& e : *ents) {
    if (e.type != EntryType::kConfChangeV2) continue;
    auto cc = DecodeConfChange(e.data);
    if (!cc.ok()) continue;
    for (const ConfChangeSingle& c : cc->changes) {
      if (c.type != ConfChangeType::kRemoveNode && c.node_id != kNone) {
        pending_members_.insert(c.node_id);
      }
    }
  }
  return pending_members_;
}

}  // namespace tinykv::raft
