// Candidate and pre-candidate message handling (Figure 2 "Candidates", §9.6).
#include "raft.h"

#include "tinykv/common/routing_error.h"

namespace tinykv::raft {

Status Raft::StepCandidate(Message& m) {
  // Only responses of our own kind count: a pre-candidate ignores MsgVoteResp
  // and a candidate MsgPreVoteResp (stale ones from an earlier phase).
  const MessageType my_resp =
      state_ == StateRole::kPreCandidate ? MessageType::kMsgPreVoteResp : MessageType::kMsgVoteResp;
  switch (m.type) {
    case MessageType::kMsgProp:
      return NotLeaderError(RoutingError{}, "raft: no leader (candidate)");
    case MessageType::kMsgApp:
      // §5.2: an AppendEntries from a leader of our term makes us a follower.
      BecomeFollower(m.term, m.from);
      HandleAppendEntries(m);
      return Status::OK();
    case MessageType::kMsgHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      return Status::OK();
    case MessageType::kMsgSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      return Status::OK();
    case MessageType::kMsgReadIndex:
      FailRead(m);
      return Status::OK();
    case MessageType::kMsgReadIndexResp:
      CompleteForwardedRead(m);
      return Status::OK();
    case MessageType::kMsgTimeoutNow:
      return Status::OK();  // already campaigning
    default:
      break;
  }
  if (m.type != my_resp) return Status::OK();
  const VoteResult res = Poll(m.from, m.type, !m.reject);
  if (res == VoteResult::kWon) {
    if (state_ == StateRole::kPreCandidate) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
      BcastAppend();
    }
  } else if (res == VoteResult::kLost) {
    // A pre-vote or vote rejected by a quorum: back to follower in our term.
    BecomeFollower(current_term_, kNone);
  }
  return Status::OK();
}

}  // namespace tinykv::raft
