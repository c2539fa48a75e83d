// Follower message handling (Figure 2 "Followers").
#include "raft.h"

#include "tinykv/common/routing_error.h"

namespace tinykv::raft {

Status Raft::StepFollower(Message& m) {
  switch (m.type) {
    case MessageType::kMsgProp:
      // No forwarding: the caller learns who the leader is and retries there.
      {
        RoutingError hint;
        hint.leader_id = lead_;
        return NotLeaderError(hint, lead_ == kNone ? "raft: no leader" : "raft: not leader");
      }
    case MessageType::kMsgApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppendEntries(m);
      return Status::OK();
    case MessageType::kMsgHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      return Status::OK();
    case MessageType::kMsgSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      return Status::OK();
    case MessageType::kMsgTransferLeader:
      if (lead_ == kNone) return Status::OK();
      m.to = lead_;
      m.term = 0;
      msgs.push_back(m);  // forwarded as is (from = the transferee)
      return Status::OK();
    case MessageType::kMsgTimeoutNow:
      // Leadership transfer: campaign at once, bypassing pre-vote and leases.
      Logf("received MsgTimeoutNow, campaigning");
      Hup(CampaignType::kTransfer);
      return Status::OK();
    case MessageType::kMsgReadIndex:
      if (lead_ == kNone) {
        FailRead(m);
        return Status::OK();
      }
      if (m.from != id_ && m.from != kNone) {
        // Forwarded reads are only served by the leader.
        FailRead(m);
        return Status::OK();
      }
      m.to = lead_;
      m.from = id_;
      m.term = 0;
      forwarded_reads_.insert(m.context);
      msgs.push_back(m);
      return Status::OK();
    case MessageType::kMsgReadIndexResp:
      CompleteForwardedRead(m);
      return Status::OK();
    default:
      return Status::OK();
  }
}

}  // namespace tinykv::raft
