// Leader message handling (Figure 2 "Rules for Servers: Leaders").
#include "confchange.h"

#include "tinykv/common/routing_error.h"
#include "raft.h"
#include "tinykv/common/check.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft {

Status Raft::StepLeader(Message& m) {
  switch (m.type) {
    case MessageType::kMsgBeat:
      BcastHeartbeat();
      return Status::OK();
    case MessageType::kMsgCheckQuorum:
      // Check-quorum (dissertation §6.2): a leader that did not hear from a
      // quorum during the last election timeout steps down, so clients stop
      // talking to a leader that cannot commit.
      if (!prs_.QuorumActive()) {
        Logf("stepped down: quorum not active (check-quorum)");
        BecomeFollower(current_term_, kNone);
      }
      for (auto& [id, pr] : prs_.progress) {
        if (id != id_) pr.recent_active = false;
      }
      return Status::OK();
    case MessageType::kMsgProp: {
      TINYKV_CHECK(!m.entries.empty()) << "stepped empty MsgProp";
      if (prs_.progress.count(id_) == 0) {
        // Removed from the configuration but not stepped down yet.
        return NotLeaderError(RoutingError{},
                              "raft: proposal dropped: leader removed from configuration");
      }
      if (lead_transferee_ != kNone) {
        return Status::Aborted("raft: proposal dropped: leadership transfer in progress");
      }
      for (size_t i = 0; i < m.entries.size(); ++i) {
        Entry& e = m.entries[i];
        if (e.type != EntryType::kConfChangeV2) continue;
        auto cc = DecodeConfChange(e.data);
        if (!cc.ok()) return cc.status();
        const bool already_pending = pending_conf_index_ > log_.applied();
        const bool already_joint = prs_.config.joint();
        const bool wants_leave = cc->changes.empty();
        if (already_pending) {
          return Status::Busy("raft: possible unapplied conf change at index " +
                              std::to_string(pending_conf_index_) + " (applied " +
                              std::to_string(log_.applied()) + ")");
        }
        if (already_joint && !wants_leave) {
          return Status::InvalidArgument("raft: must transition out of joint config first");
        }
        if (!already_joint && wants_leave) {
          return Status::InvalidArgument("raft: not in joint state; refusing empty conf change");
        }
        // Validate against the current configuration now, so a change that
        // could not be applied never enters the log.
        Changer changer(prs_, log_.LastIndex());
        bool auto_leave = false;
        Status st = cc->LeaveJoint() ? changer.LeaveJoint().status()
                    : cc->EnterJoint(&auto_leave)
                        ? changer.EnterJoint(auto_leave, cc->changes).status()
                        : changer.Simple(cc->changes).status();
        TINYKV_RETURN_IF_ERROR(st);
        pending_conf_index_ = log_.LastIndex() + i + 1;
      }
      if (!AppendEntry(std::move(m.entries))) {
        return Status::ResourceExhausted("raft: proposal dropped: uncommitted tail exceeds " +
                                         std::to_string(max_uncommitted_bytes_) + " bytes");
      }
      BcastAppend();
      return Status::OK();
    }
    case MessageType::kMsgReadIndex:
      if (prs_.IsSingleton()) {
        RespondToReadIndexReq(m, log_.committed());
        return Status::OK();
      }
      // Dissertation §6.4 step 1: a new leader does not know the commit index
      // of earlier terms until an entry of its own term commits; hold reads
      // until then (they are failed explicitly if we lose leadership).
      if (!CommittedEntryInCurrentTerm()) {
        pending_read_index_messages_.push_back(m);
        return Status::OK();
      }
      SendReadIndexResponse(m);
      return Status::OK();
    default:
      break;
  }

  auto it = prs_.progress.find(m.from);
  if (it == prs_.progress.end()) return Status::OK();  // not a member
  Progress& pr = it->second;
  switch (m.type) {
    case MessageType::kMsgAppResp: {
      pr.recent_active = true;
      if (m.reject) {
        // Fast backtracking: use the follower's hint (index, term) to find the
        // last index where our logs may agree.
        uint64_t next_probe = m.reject_hint;
        if (m.log_term > 0) next_probe = log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
        if (pr.MaybeDecrTo(m.index, next_probe)) {
          if (pr.state == ProgressStateType::kReplicate) pr.BecomeProbe();
          SendAppend(m.from);
        }
        return Status::OK();
      }
      lease_.OnAppendAck(m.from, m.index);
      const bool old_paused = pr.IsPaused();
      if (pr.MaybeUpdate(m.index) ||
          (pr.match == m.index && pr.state == ProgressStateType::kProbe)) {
        if (pr.state == ProgressStateType::kProbe) {
          pr.BecomeReplicate();
        } else if (pr.state == ProgressStateType::kSnapshot && pr.match + 1 >= log_.FirstIndex()) {
          // The follower caught up through the snapshot (or otherwise):
          // resume normal replication.
          pr.BecomeProbe();
          pr.BecomeReplicate();
        } else if (pr.state == ProgressStateType::kReplicate) {
          pr.inflights.FreeLE(m.index);
        }
        if (MaybeCommit()) {
          ReleasePendingReadIndexMessages();
          BcastAppend();
        } else if (old_paused) {
          SendAppend(m.from);
        }
        // Pipelining: keep sending while the window has room.
        while (MaybeSendAppend(m.from, false)) {
        }
        // Leadership transfer: the target caught up, tell it to campaign.
        if (m.from == lead_transferee_ && pr.match == log_.LastIndex()) {
          SendTimeoutNow(m.from);
        }
      }
      return Status::OK();
    }
    case MessageType::kMsgHeartbeatResp: {
      pr.recent_active = true;
      pr.msg_app_flow_paused = false;
      // A lost MsgApp would block a full window forever; free one slot per
      // heartbeat round so the follower is probed again.
      if (pr.state == ProgressStateType::kReplicate && pr.inflights.Full()) {
        pr.inflights.FreeFirstOne();
      }
      if (pr.match < log_.LastIndex()) SendAppend(m.from);
      if (m.context.empty()) return Status::OK();
      if (const ReadIndexStatus* st = read_only_.Find(m.context)) lease_.OnAck(m.from, st->tick);
      const auto* acks = read_only_.RecvAck(m.from, m.context);
      if (acks == nullptr || prs_.config.voters.Vote(*acks) != VoteResult::kWon) {
        return Status::OK();
      }
      for (const auto& rs : read_only_.Advance(m.context)) RespondToReadIndexReq(rs.req, rs.index);
      return Status::OK();
    }
    case MessageType::kMsgSnapStatus:
      if (pr.state != ProgressStateType::kSnapshot) return Status::OK();
      if (m.reject) pr.pending_snapshot = 0;
      pr.BecomeProbe();
      // Wait for a heartbeat response before probing (the follower may still
      // be applying the snapshot); this avoids a resend loop.
      pr.msg_app_flow_paused = true;
      return Status::OK();
    case MessageType::kMsgUnreachable:
      if (pr.state == ProgressStateType::kReplicate) pr.BecomeProbe();
      return Status::OK();
    case MessageType::kMsgTransferLeader: {
      if (pr.is_learner) return Status::OK();  // learners cannot lead
      const uint64_t transferee = m.from;
      if (lead_transferee_ != kNone) {
        if (lead_transferee_ == transferee) return Status::OK();  // already in progress
        AbortLeaderTransfer();
      }
      if (transferee == id_) return Status::OK();
      // The transfer must finish within an election timeout (TickHeartbeat aborts it).
      election_elapsed_ = 0;
      lead_transferee_ = transferee;
      Logf("transferring leadership");
      if (pr.match == log_.LastIndex()) {
        SendTimeoutNow(transferee);
      } else {
        SendAppend(transferee);
      }
      return Status::OK();
    }
    default:
      return Status::OK();
  }
}

}  // namespace tinykv::raft
