// Raft: the consensus state machine behind RawNode (etcd-io/raft's raft.go).
// Paper vocabulary (docs/style.md, "Naming"): current_term_, voted_for_, lead_, and the
// ProgressTracker's next/match per peer; BecomeFollower/BecomeCandidate/
// BecomePreCandidate/BecomeLeader are the transitions of Figure 4.
//
// Not thread-safe; driven by RawNode.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "leader_lease.h"
#include "raft_log.h"
#include "read_only.h"
#include "tinykv/common/random.h"
#include "tinykv/raft/config.h"
#include "tinykv/raft/message_check.h"
#include "tinykv/raft/ready.h"
#include "tracker.h"

namespace tinykv::raft {

enum class CampaignType { kPreElection, kElection, kTransfer };

// The context a MsgVote carries when it comes from a leadership transfer:
// such votes bypass the check-quorum lease.
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

class Raft {
 public:
  // Builds from config and config.storage's initial state. REQUIRES: config validated.
  static Result<std::unique_ptr<Raft>> Create(const Config& config);

  // The entry point for every message, local or remote (term checks, votes,
  // then the role-specific Step*). Returns errors for refused proposals.
  // Messages from the network must pass CheckMessage first (RawNode::Step).
  Status Step(Message m);
  // Validates a message from the network before it may change any state:
  // CheckMessageShape, then the checks that need this node's state (step_check.cc).
  // OK, or the error with *reason set; the node is unchanged either way.
  Status CheckMessage(const Message& m, RejectReason* reason);
  void Tick();

  // ---- transitions (Figure 4) -----------------------------------------------
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();

  // Applies a committed configuration change; returns the new ConfState.
  ConfState ApplyConfChange(const ConfChangeV2& cc);
  // The application applied entries up to index (auto-leave of joint configs).
  void AppliedTo(uint64_t index);
  // Reduces the uncommitted tail by the payload of newly committed entries.
  void ReduceUncommittedSize(uint64_t bytes);
  // The application made the log durable up to the end of the last Ready
  // (RawNode::Advance). With parallel_leader_append, a leader now counts those
  // entries toward the commit quorum (it did not when it appended them).
  void OnPersisted();
  void SuspendLease() { lease_.Suspend(ticks_ + 1); }
  bool parallel_leader_append() const { return parallel_leader_append_; }

  SoftState GetSoftState() const { return SoftState{lead_, state_}; }
  HardState GetHardState() const { return HardState{current_term_, voted_for_, log_.committed()}; }

  uint64_t id() const { return id_; }
  uint64_t term() const { return current_term_; }
  uint64_t vote() const { return voted_for_; }
  uint64_t lead() const { return lead_; }
  uint64_t lead_transferee() const { return lead_transferee_; }
  StateRole state() const { return state_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return prs_; }
  // Elections not started because the term reached kMaxTerm.
  uint64_t campaigns_refused_at_max_term() const { return campaigns_refused_at_max_term_; }

  // Outputs drained by RawNode into Ready.
  std::vector<Message> msgs;
  std::vector<ReadState> read_states;
  std::vector<std::string> failed_reads;

 private:
  Raft(const Config& c);

  // ---- step functions (step_leader.cc, step_candidate.cc, step_follower.cc)
  Status StepLeader(Message& m);
  Status StepCandidate(Message& m);
  Status StepFollower(Message& m);

  // ---- elections ------------------------------------------------------------
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  VoteResult Poll(uint64_t id, MessageType t, bool granted);
  bool Promotable() const;
  bool HasUnappliedConfChanges() const;
  void TickElection();
  void TickHeartbeat();
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  void ResetRandomizedElectionTimeout();
  void Reset(uint64_t term);

  // ---- replication ------------------------------------------------------------
  void Send(Message m);
  void SendAppend(uint64_t to) { MaybeSendAppend(to, true); }
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  bool TryBatchAppend(Message& m);
  void SendHeartbeat(uint64_t to, const std::string& ctx);
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const std::string& ctx);
  bool AppendEntry(std::vector<Entry> es);
  bool MaybeCommit();
  void HandleAppendEntries(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  bool Restore(const Snapshot& s);
  bool IncreaseUncommittedSize(const std::vector<Entry>& es);
  void SendTimeoutNow(uint64_t to);
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }
  ConfState SwitchToConfig(TrackerConfig cfg, ProgressMap prs);
  Status LoadState(const HardState& hs);

  // ---- membership of senders (step_check.cc) --------------------------------
  bool IsKnownSender(uint64_t id);
  // A member answers a lagging member's (pre-)vote, also in a leader's
  // lease, with a rejection naming its leader (reject_hint); the lagging
  // member then accepts that leader as a sender (see step_check.cc).
  void TellLaggingCandidateTheLeader(const Message& vote);
  // The leader to name in a rejection of `vote` (kNone: none to name).
  uint64_t LeaderToVouchFor(const Message& vote) const;
  void NoteVouchedLeader(const Message& vote_resp);
  // A learner, which never campaigns, sends the voters a MsgPreVote as a
  // probe: the answers can only name a leader (it is no pre-candidate).
  void AskVotersForTheLeader();
  // Ids added by conf change entries in the log after the applied index.
  const std::set<uint64_t>& PendingMembers();

  // ---- reads ------------------------------------------------------------------
  bool CommittedEntryInCurrentTerm() const;
  void SendReadIndexResponse(const Message& m);
  void RespondToReadIndexReq(const Message& req, uint64_t read_index);
  void ReleasePendingReadIndexMessages();
  // Fails a read request we will never answer (explicitly, never silently).
  void FailRead(const Message& req);
  void FailAllPendingReads();
  // A MsgReadIndexResp for a read this node forwarded: reported exactly once.
  void CompleteForwardedRead(const Message& resp);

  void Logf(const char* what) const;

  uint64_t id_;
  uint64_t current_term_ = 0;
  uint64_t voted_for_ = kNone;
  RaftLog log_;
  ProgressTracker prs_;
  StateRole state_ = StateRole::kFollower;
  bool is_learner_ = false;
  uint64_t lead_ = kNone;
  uint64_t lead_transferee_ = kNone;
  // Only one conf change may be pending (in the log, unapplied) at a time:
  // proposals are refused while pending_conf_index_ > applied.
  uint64_t pending_conf_index_ = 0;
  uint64_t uncommitted_size_ = 0;
  ReadOnly read_only_;
  LeaderLease lease_;
  uint64_t ticks_ = 0;  // ticks since this node started (the lease's clock)
  // ReadIndex requests held by a new leader until an entry of its term commits.
  std::vector<Message> pending_read_index_messages_;
  // Contexts of local reads forwarded to the leader and not yet answered;
  // failed explicitly when the term or role changes.
  std::set<std::string> forwarded_reads_;
  // PendingMembers() cache, valid for (log generation, first unapplied index).
  std::set<uint64_t> pending_members_;
  std::pair<uint64_t, uint64_t> pending_members_key_{~uint64_t{0}, ~uint64_t{0}};
  uint64_t campaigns_refused_at_max_term_ = 0;
  // A leader a member of our configuration named (NoteVouchedLeader); kNone
  // if none. Forgotten when the configuration changes.
  uint64_t vouched_leader_ = kNone;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int election_timeout_;
  int heartbeat_timeout_;
  int randomized_election_timeout_ = 0;

  bool check_quorum_;
  bool parallel_leader_append_;
  bool pre_vote_;
  ReadOnlyOption read_only_option_;
  uint64_t max_msg_bytes_;
  uint64_t max_uncommitted_bytes_;
  bool log_transitions_;
  Random rand_;
};

}  // namespace tinykv::raft
