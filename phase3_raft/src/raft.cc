// The hub of the Raft core: construction, ticks, transitions, the common part
// of Step (term handling and votes), replication helpers and conf changes.
// Role-specific message handling is in step_leader.cc, step_candidate.cc and
// step_follower.cc.
#include "raft.h"

#include <algorithm>

#include "confchange.h"
#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft {
namespace {

// Equal as sets (stored ConfStates need not be sorted).
bool ConfStatesEquivalent(ConfState a, ConfState b) {
  for (ConfState* cs : {&a, &b}) {
    std::sort(cs->voters.begin(), cs->voters.end());
    std::sort(cs->learners.begin(), cs->learners.end());
    std::sort(cs->voters_outgoing.begin(), cs->voters_outgoing.end());
    std::sort(cs->learners_next.begin(), cs->learners_next.end());
  }
  return a == b;
}

}  // namespace

const char* StateRoleName(StateRole r) {
  switch (r) {
    case StateRole::kFollower:
      return "follower";
    case StateRole::kCandidate:
      return "candidate";
    case StateRole::kLeader:
      return "leader";
    case StateRole::kPreCandidate:
      return "pre_candidate";
  }
  return "unknown";
}

Status Config::Validate() const {
  if (id == kNone) return Status::InvalidArgument("cannot use none as id");
  if (heartbeat_tick <= 0) return Status::InvalidArgument("heartbeat tick must be greater than 0");
  if (election_tick <= heartbeat_tick) {
    return Status::InvalidArgument("election tick must be greater than heartbeat tick");
  }
  if (storage == nullptr) return Status::InvalidArgument("storage cannot be nil");
  if (max_inflight_msgs <= 0) return Status::InvalidArgument("max inflight messages must be > 0");
  if (max_msg_bytes == 0) return Status::InvalidArgument("max_msg_bytes must be > 0");
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return Status::InvalidArgument(
        "check_quorum must be enabled when read_only_option is kLeaseBased");
  }
  if (lease_ticks < 0) return Status::InvalidArgument("lease_ticks must be >= 0");
  return Status::OK();
}

Raft::Raft(const Config& c)
    : id_(c.id),
      log_(c.storage, c.max_committed_bytes_per_ready),
      prs_(c.max_inflight_msgs, c.max_inflight_bytes),
      lease_(c.read_only_option != ReadOnlyOption::kLeaseBased ? 0
             : c.lease_ticks > 0                               ? c.lease_ticks
                                                               : c.election_tick - 1),
      election_timeout_(c.election_tick),
      heartbeat_timeout_(c.heartbeat_tick),
      check_quorum_(c.check_quorum),
      parallel_leader_append_(c.parallel_leader_append),
      pre_vote_(c.pre_vote),
      read_only_option_(c.read_only_option),
      max_msg_bytes_(c.max_msg_bytes),
      max_uncommitted_bytes_(c.max_uncommitted_bytes),
      log_transitions_(c.log_transitions),
      rand_(c.random_seed ^ (c.id * 0x9E3779B97F4A7C15ULL)) {}

Result<std::unique_ptr<Raft>> Raft::Create(const Config& c) {
  TINYKV_RETURN_IF_ERROR(c.Validate());
  std::unique_ptr<Raft> r(new Raft(c));
  TINYKV_ASSIGN_OR_RETURN(InitialState is, c.storage->GetInitialState());
  // What storage returns is input too (see LoadState): a configuration no
  // node could have switched to is an error here, not the CHECK below. An
  // empty one is a node with no configuration yet (it joins later).
  const ConfState& stored = is.conf_state;
  if (!stored.voters.empty() || !stored.learners.empty() || !stored.voters_outgoing.empty() ||
      !stored.learners_next.empty() || stored.auto_leave) {
    if (Status s = CheckConfState(stored); !s.ok()) {
      return Status::Corruption("raft: node " + std::to_string(c.id) +
                                " stored configuration is invalid: " + std::string(s.message()));
    }
  }
  TINYKV_ASSIGN_OR_RETURN(ConfigAndProgress cp,
                          Changer::Restore(r->prs_, r->log_.LastIndex(), is.conf_state));
  ConfState cs = r->SwitchToConfig(std::move(cp.config), std::move(cp.progress));
  TINYKV_CHECK(ConfStatesEquivalent(cs, is.conf_state))
      << "restored ConfState differs from the stored one";
  if (!is.hard_state.empty()) TINYKV_RETURN_IF_ERROR(r->LoadState(is.hard_state));
  if (c.applied > 0) {
    if (c.applied < r->log_.applied() || c.applied > r->log_.committed()) {
      return Status::InvalidArgument("raft: config.applied " + std::to_string(c.applied) +
                                     " is out of range [" + std::to_string(r->log_.applied()) +
                                     ", " + std::to_string(r->log_.committed()) + "]");
    }
    r->log_.AppliedTo(c.applied);
  }
  r->BecomeFollower(r->current_term_, kNone);
  return r;
}

Status Raft::LoadState(const HardState& hs) {
  // What storage returns is input too: a bad hard state is an error, not an abort.
  if (hs.commit < log_.committed() || hs.commit > log_.LastIndex()) {
    return Status::Corruption("raft: node " + std::to_string(id_) + " stored commit " +
                              std::to_string(hs.commit) + " is out of range [" +
                              std::to_string(log_.committed()) + ", " +
                              std::to_string(log_.LastIndex()) + "]");
  }
  if (hs.term > kMaxTerm) {
    return Status::Corruption("raft: node " + std::to_string(id_) + " stored term " +
                              std::to_string(hs.term) + " is above the maximum term " +
                              std::to_string(kMaxTerm));
  }
  log_.CommitTo(hs.commit);
  current_term_ = hs.term;
  voted_for_ = hs.vote;
  return Status::OK();
}

void Raft::Logf(const char* what) const {
  if (!log_transitions_) return;
  // Stable, greppable form (docs/style.md, "Logs"): "node=2 term=5 became leader".
  logging::Log(logging::Get("raft"), spdlog::level::info, what,
               {{"node", id_}, {"term", current_term_}});
}

// ---- ticks --------------------------------------------------------------------

void Raft::Tick() {
  ++ticks_;
  if (state_ == StateRole::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (!PastElectionTimeout()) return;
  if (Promotable()) {
    election_elapsed_ = 0;
    Message m;
    m.type = MessageType::kMsgHup;
    m.from = id_;
    Step(std::move(m)).IgnoreError();
    return;
  }
  // A learner cannot campaign; one that has heard no leader it knows for an
  // election timeout asks the voters, once per timeout (step_check.cc).
  if (is_learner_ && (election_elapsed_ - randomized_election_timeout_) % election_timeout_ == 0) {
    AskVotersForTheLeader();
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.type = MessageType::kMsgCheckQuorum;
      m.from = id_;
      Step(std::move(m)).IgnoreError();
    }
    // A transfer that did not complete within an election timeout is aborted
    // so the leader accepts proposals again (dissertation §3.10).
    if (state_ == StateRole::kLeader && lead_transferee_ != kNone) {
      Logf("aborted leader transfer (timeout)");
      AbortLeaderTransfer();
    }
  }
  if (state_ != StateRole::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.type = MessageType::kMsgBeat;
    m.from = id_;
    Step(std::move(m)).IgnoreError();
  }
}

void Raft::ResetRandomizedElectionTimeout() {
  // §5.2: randomized in [T, 2T) so split votes are rare.
  randomized_election_timeout_ =
      election_timeout_ + static_cast<int>(rand_.Uniform(static_cast<uint64_t>(election_timeout_)));
}

// ---- transitions ----------------------------------------------------------------

void Raft::Reset(uint64_t term) {
  if (current_term_ != term) {
    current_term_ = term;
    voted_for_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  prs_.ResetVotes();
  const uint64_t last = log_.LastIndex();
  for (auto& [id, pr] : prs_.progress) {
    const bool learner = pr.is_learner;
    pr = prs_.NewProgress(last + 1, learner);
    // Parallel append: only what is durable counts (OnPersisted adds the rest).
    if (id == id_) pr.match = parallel_leader_append_ ? log_.LastStableIndex() : last;
  }
  pending_conf_index_ = 0;
  uncommitted_size_ = 0;
  lease_.Clear();
  FailAllPendingReads();
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  const bool changed = state_ != StateRole::kFollower || term != current_term_;
  Reset(term);
  lead_ = lead;
  state_ = StateRole::kFollower;
  if (changed) Logf("became follower");
}

void Raft::BecomeCandidate() {
  TINYKV_CHECK(state_ != StateRole::kLeader) << "invalid transition [leader -> candidate]";
  // Hup never campaigns at the ceiling, so the increment cannot wrap.
  TINYKV_CHECK(current_term_ < kMaxTerm) << "term " << current_term_ << " at the ceiling";
  Reset(current_term_ + 1);
  voted_for_ = id_;
  state_ = StateRole::kCandidate;
  Logf("became candidate");
}

void Raft::BecomePreCandidate() {
  TINYKV_CHECK(state_ != StateRole::kLeader) << "invalid transition [leader -> pre-candidate]";
  // A pre-candidate changes neither term nor vote (§9.6): it only asks
  // whether it could win, so a partitioned node cannot inflate terms.
  prs_.ResetVotes();
  FailAllPendingReads();
  lead_ = kNone;
  state_ = StateRole::kPreCandidate;
  Logf("became pre_candidate");
}

void Raft::BecomeLeader() {
  TINYKV_CHECK(state_ != StateRole::kFollower) << "invalid transition [follower -> leader]";
  Reset(current_term_);
  lead_ = id_;
  state_ = StateRole::kLeader;
  // The leader trivially replicates to itself; it is always "recently active".
  Progress& self = prs_.progress.at(id_);
  self.BecomeReplicate();
  self.recent_active = true;
  // Conservatively treat any unapplied conf change in the log as pending.
  pending_conf_index_ = log_.LastIndex();
  lease_.Reset(ticks_, log_.LastIndex() + 1);
  Logf("became leader");
  // §8 / §5.4.2: a new leader appends a no-op entry of its term; committing it
  // commits every earlier entry and lets ReadIndex proceed.
  std::vector<Entry> noop(1);
  TINYKV_CHECK(AppendEntry(std::move(noop))) << "empty entry was dropped";
}

// ---- elections ------------------------------------------------------------------

bool Raft::Promotable() const {
  auto it = prs_.progress.find(id_);
  return it != prs_.progress.end() && !it->second.is_learner && !log_.HasPendingSnapshot();
}

bool Raft::HasUnappliedConfChanges() const {
  if (log_.applied() >= log_.committed()) return false;
  auto ents = log_.Slice(log_.applied() + 1, log_.committed() + 1, kNoLimit);
  if (!ents.ok()) return false;
  for (const Entry& e : *ents) {
    if (e.type == EntryType::kConfChangeV2) return true;
  }
  return false;
}

void Raft::Hup(CampaignType t) {
  if (state_ == StateRole::kLeader) return;
  if (!Promotable()) return;
  // Campaigning with an unapplied conf change could elect us under the wrong
  // configuration; wait until it is applied.
  if (HasUnappliedConfChanges()) return;
  // Both a (pre-)election and a transfer use term + 1: at the ceiling the
  // node stays a follower forever rather than wrap the term to 0. Messages
  // above kMaxTerm are refused, so only members at kMaxTerm get here.
  if (current_term_ >= kMaxTerm) {
    if (campaigns_refused_at_max_term_++ == 0) Logf("refused to campaign: term at the maximum");
    return;
  }
  Campaign(t);
}

void Raft::Campaign(CampaignType t) {
  MessageType vote_msg;
  uint64_t term;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = MessageType::kMsgPreVote;
    // Pre-votes are sent for the term we would use, without incrementing ours.
    term = current_term_ + 1;
  } else {
    BecomeCandidate();
    vote_msg = MessageType::kMsgVote;
    term = current_term_;
  }
  const MessageType resp =
      vote_msg == MessageType::kMsgVote ? MessageType::kMsgVoteResp : MessageType::kMsgPreVoteResp;
  if (Poll(id_, resp, true) == VoteResult::kWon) {
    // A single-voter cluster wins at once.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (uint64_t id : prs_.VoterIds()) {
    if (id == id_) continue;
    Message m;
    m.to = id;
    m.term = term;
    m.type = vote_msg;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (t == CampaignType::kTransfer) m.context = std::string(kCampaignTransfer);
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(uint64_t id, MessageType, bool granted) {
  prs_.RecordVote(id, granted);
  int gr, rj;
  return prs_.TallyVotes(&gr, &rj);
}

// ---- Step ---------------------------------------------------------------------

Status Raft::Step(Message m) {
  NoteVouchedLeader(m);
  if (m.term == 0) {
    // local message
  } else if (m.term > current_term_) {
    if (m.type == MessageType::kMsgVote || m.type == MessageType::kMsgPreVote) {
      const bool force = m.context == kCampaignTransfer;
      // Check-quorum lease (dissertation §4.2.3): a node that heard from a
      // leader within the election timeout ignores votes, so a partitioned or
      // removed node cannot disrupt a healthy leader.
      const bool in_lease =
          check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        TellLaggingCandidateTheLeader(m);
        return Status::OK();
      }
    }
    if (m.type == MessageType::kMsgPreVote) {
      // Never change our term in response to a PreVote.
    } else if (m.type == MessageType::kMsgPreVoteResp && !m.reject) {
      // We sent pre-votes with term+1; a grant carries that future term.
      // The term only changes when the real election starts.
    } else {
      const bool from_leader = m.type == MessageType::kMsgApp ||
                               m.type == MessageType::kMsgHeartbeat ||
                               m.type == MessageType::kMsgSnap;
      BecomeFollower(m.term, from_leader ? m.from : kNone);
    }
  } else if (m.term < current_term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type == MessageType::kMsgHeartbeat || m.type == MessageType::kMsgApp)) {
      // A stale leader (e.g. one that was partitioned) learns the new term
      // from this reply and steps down; otherwise, with check-quorum, a
      // node with a higher term could be stuck ignoring it forever.
      Message resp;
      resp.to = m.from;
      resp.type = MessageType::kMsgAppResp;
      Send(std::move(resp));
    } else if (m.type == MessageType::kMsgPreVote) {
      Message resp;
      resp.to = m.from;
      resp.term = current_term_;
      resp.type = MessageType::kMsgPreVoteResp;
      resp.reject = true;
      resp.reject_hint = LeaderToVouchFor(m);
      Send(std::move(resp));
    } else if (m.type == MessageType::kMsgReadIndexResp || m.type == MessageType::kMsgReadIndex) {
      // A read answered in an older term was already failed when our term
      // changed; one asked by a stale node is failed explicitly.
      if (m.type == MessageType::kMsgReadIndex) FailRead(m);
    }
    return Status::OK();
  }

  switch (m.type) {
    case MessageType::kMsgHup:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return Status::OK();
    case MessageType::kMsgVote:
    case MessageType::kMsgPreVote: {
      // §5.2, §5.4.1: grant if we have not voted for another in this term and
      // the candidate's log is at least as up to date as ours.
      const bool can_vote = voted_for_ == m.from || (voted_for_ == kNone && lead_ == kNone) ||
                            (m.type == MessageType::kMsgPreVote && m.term > current_term_);
      const MessageType resp_type = m.type == MessageType::kMsgVote ? MessageType::kMsgVoteResp
                                                                    : MessageType::kMsgPreVoteResp;
      Message resp;
      resp.to = m.from;
      resp.type = resp_type;
      if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
        // The response carries the candidate's term (for pre-votes a future term).
        resp.term = m.term;
        Send(std::move(resp));
        if (m.type == MessageType::kMsgVote) {
          election_elapsed_ = 0;
          voted_for_ = m.from;
          if (log_transitions_) {
            logging::Get("raft")->info("node={} term={} voted for {}", id_, current_term_, m.from);
          }
        }
      } else {
        resp.term = current_term_;
        resp.reject = true;
        resp.reject_hint = LeaderToVouchFor(m);
        Send(std::move(resp));
      }
      return Status::OK();
    }
    default:
      break;
  }
  switch (state_) {
    case StateRole::kLeader:
      return StepLeader(m);
    case StateRole::kCandidate:
    case StateRole::kPreCandidate:
      return StepCandidate(m);
    case StateRole::kFollower:
      return StepFollower(m);
  }
  return Status::OK();
}

// ---- replication helpers ----------------------------------------------------------

void Raft::Send(Message m) {
  if (m.from == kNone) m.from = id_;
  if (m.type == MessageType::kMsgVote || m.type == MessageType::kMsgVoteResp ||
      m.type == MessageType::kMsgPreVote || m.type == MessageType::kMsgPreVoteResp) {
    // Vote traffic sets its own term (pre-votes use a future term).
    TINYKV_CHECK(m.term != 0) << "term should be set when sending " << MessageTypeName(m.type);
  } else {
    TINYKV_CHECK(m.term == 0) << "term should not be set when sending " << MessageTypeName(m.type);
    // Proposals and read requests forwarded to the leader are local-ish and
    // carry no term, so they are not rejected as stale by it.
    if (m.type != MessageType::kMsgProp && m.type != MessageType::kMsgReadIndex) {
      m.term = current_term_;
    }
  }
  msgs.push_back(std::move(m));
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  Progress& pr = prs_.progress.at(to);
  if (pr.IsPaused()) return false;
  Message m;
  m.to = to;
  auto term = log_.Term(pr.next - 1);
  auto ents = log_.EntriesFrom(pr.next, max_msg_bytes_);
  if (ents.ok() && ents->empty() && !send_if_empty) return false;
  if (!term.ok() || !ents.ok()) {
    // The entries the follower needs were compacted: send a snapshot (§7).
    if (!pr.recent_active) return false;  // don't ship snapshots to dead peers
    m.type = MessageType::kMsgSnap;
    auto snap = log_.GetSnapshot();
    if (!snap.ok()) {
      TINYKV_CHECK(snap.status().IsBusy()) << snap.status().ToString();
      return false;  // snapshot temporarily unavailable; retry later
    }
    TINYKV_CHECK(!snap->empty()) << "need non-empty snapshot";
    pr.BecomeSnapshot(snap->metadata.index);
    m.snapshot = std::move(snap).value();
    Send(std::move(m));
    return true;
  }
  m.type = MessageType::kMsgApp;
  m.index = pr.next - 1;
  m.log_term = *term;
  m.entries = std::move(ents).value();
  m.commit = log_.committed();
  uint64_t bytes = 0;
  for (const Entry& e : m.entries) bytes += PayloadSize(e);
  pr.UpdateOnEntriesSend(m.entries.size(), bytes, pr.next);
  if (!TryBatchAppend(m)) Send(std::move(m));
  return true;
}

bool Raft::TryBatchAppend(Message& m) {
  // Batching (as raft-rs's batch_append): if the last message queued for this
  // peer is a MsgApp that ends exactly where this one starts, extend it
  // instead of sending another message. Only the last message to the peer is
  // considered, so per-peer message order is unchanged.
  for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
    if (it->to != m.to) continue;
    if (it->type != MessageType::kMsgApp || it->term != current_term_) return false;
    if (it->index + it->entries.size() != m.index) return false;
    uint64_t size = 0;
    for (const Entry& e : it->entries) size += EncodedEntrySize(e);
    for (const Entry& e : m.entries) size += EncodedEntrySize(e);
    if (!it->entries.empty() && !m.entries.empty() && size > max_msg_bytes_) return false;
    for (Entry& e : m.entries) it->entries.push_back(std::move(e));
    it->commit = std::max(it->commit, m.commit);
    return true;
  }
  return false;
}

void Raft::SendHeartbeat(uint64_t to, const std::string& ctx) {
  // The follower may not have the leader's whole log: it must never be told
  // to commit beyond what it is known to match.
  const uint64_t commit = std::min(prs_.progress.at(to).match, log_.committed());
  Message m;
  m.to = to;
  m.type = MessageType::kMsgHeartbeat;
  m.commit = commit;
  m.context = ctx;
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (auto& [id, pr] : prs_.progress) {
    if (id == id_) continue;
    SendAppend(id);
  }
}

void Raft::BcastHeartbeat() { BcastHeartbeatWithCtx(read_only_.LastPendingRequestCtx()); }

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  for (auto& [id, pr] : prs_.progress) {
    if (id == id_) continue;
    SendHeartbeat(id, ctx);
  }
}

bool Raft::IncreaseUncommittedSize(const std::vector<Entry>& es) {
  uint64_t s = 0;
  for (const Entry& e : es) s += PayloadSize(e);
  // Always allow at least one proposal when the tail is empty, so a large
  // entry cannot wedge the leader; empty entries (no-ops, leave-joint) always pass.
  if (uncommitted_size_ > 0 && s > 0 && max_uncommitted_bytes_ > 0 &&
      uncommitted_size_ + s > max_uncommitted_bytes_) {
    return false;
  }
  uncommitted_size_ += s;
  return true;
}

void Raft::ReduceUncommittedSize(uint64_t bytes) {
  uncommitted_size_ = bytes > uncommitted_size_ ? 0 : uncommitted_size_ - bytes;
}

bool Raft::AppendEntry(std::vector<Entry> es) {
  uint64_t li = log_.LastIndex();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].term = current_term_;
    es[i].index = li + 1 + i;
  }
  if (!IncreaseUncommittedSize(es)) return false;
  if (!es.empty()) lease_.OnAppend(es.front().index, ticks_);
  li = log_.Append(es);
  // Parallel append: the leader counts these entries once they are durable
  // (OnPersisted). Otherwise it counts them now: the classic contract
  // persists them before any message that depends on them is sent.
  if (parallel_leader_append_) return true;
  prs_.progress.at(id_).MaybeUpdate(li);
  MaybeCommit();
  return true;
}

void Raft::OnPersisted() {
  if (!parallel_leader_append_ || state_ != StateRole::kLeader) return;
  auto self = prs_.progress.find(id_);
  if (self == prs_.progress.end()) return;  // removed from the configuration
  // Every durable entry of a leader's log stays in it (a leader never truncates).
  if (self->second.MaybeUpdate(log_.LastStableIndex()) && MaybeCommit()) BcastAppend();
}

bool Raft::MaybeCommit() { return log_.MaybeCommit(prs_.Committed(), current_term_); }

void Raft::HandleAppendEntries(const Message& m) {
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgAppResp;
  if (m.index < log_.committed()) {
    // Everything up to our commit index is known to match: say so.
    resp.index = log_.committed();
    Send(std::move(resp));
    return;
  }
  if (auto last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Figure 2 receiver rule 2 failed. Send a conflict hint (§5.3): the
  // largest index <= min(prevLogIndex, our last) whose term is <= the
  // leader's prevLogTerm, so the leader can skip a whole term at once.
  const uint64_t hint_index = std::min(m.index, log_.LastIndex());
  auto [idx, t] = log_.FindConflictByTerm(hint_index, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = idx;
  resp.log_term = t;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader sends min(match, committed), which this log holds; CheckMessage
  // refuses more, and the clamp keeps Raft::Step itself from aborting on it.
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgHeartbeatResp;
  resp.context = m.context;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::kMsgAppResp;
  if (Restore(m.snapshot)) {
    if (log_transitions_) {
      logging::Get("raft")->info("node={} term={} restored snapshot index={} term={}", id_,
                                 current_term_, m.snapshot.metadata.index,
                                 m.snapshot.metadata.term);
    }
    resp.index = log_.LastIndex();
  } else {
    // Already have it (or newer): answer with what we have so the leader
    // moves on instead of resending (no install/reject loop).
    resp.index = log_.committed();
  }
  Send(std::move(resp));
}

bool Raft::Restore(const Snapshot& s) {
  if (s.metadata.index <= log_.committed()) return false;
  if (state_ != StateRole::kFollower) {
    // Defensive (etcd): only followers restore. Become one (the next
    // snapshot from the leader will be accepted).
    BecomeFollower(current_term_ < kMaxTerm ? current_term_ + 1 : current_term_, kNone);
    return false;
  }
  // A snapshot that does not include us would make us a non-member; ignore it.
  const auto& cs = s.metadata.conf_state;
  auto has = [&](const std::vector<uint64_t>& v) {
    return std::find(v.begin(), v.end(), id_) != v.end();
  };
  if (!has(cs.voters) && !has(cs.learners) && !has(cs.voters_outgoing)) return false;
  // If our log already has the snapshot's last entry, just fast-forward the
  // commit index: the entries after it may still be valid (§7).
  if (log_.MatchTerm(s.metadata.index, s.metadata.term)) {
    log_.CommitTo(s.metadata.index);
    return false;
  }
  // §7: discard the entire log; it is superseded by the snapshot.
  log_.Restore(s);
  auto cp = Changer::Restore(prs_, log_.LastIndex(), cs);
  TINYKV_CHECK(cp.ok()) << "unable to restore config from snapshot: " << cp.status().ToString();
  ConfState got = SwitchToConfig(std::move(cp->config), std::move(cp->progress));
  TINYKV_CHECK(ConfStatesEquivalent(got, cs)) << "restored ConfState differs from the snapshot's";
  return true;
}

void Raft::SendTimeoutNow(uint64_t to) {
  // The target campaigns at once, and voters grant it their vote despite
  // their lease: no acknowledgement of what this leader sent until the
  // transfer has surely ended (it aborts after an election timeout) proves
  // anything about other leaders.
  lease_.Suspend(ticks_ + static_cast<uint64_t>(election_timeout_) + 1);
  Message m;
  m.to = to;
  m.type = MessageType::kMsgTimeoutNow;
  Send(std::move(m));
}

// ---- configuration ----------------------------------------------------------------

void Raft::AppliedTo(uint64_t index) {
  const uint64_t old = log_.applied();
  if (index > old) log_.AppliedTo(index);
  // Automatic leave of an auto_leave joint configuration (dissertation §4.3:
  // C_new is proposed once C_old,new is committed — here: applied).
  if (prs_.config.auto_leave && index >= pending_conf_index_ && state_ == StateRole::kLeader) {
    Entry e;
    e.type = EntryType::kConfChangeV2;
    EncodeConfChange(ConfChangeV2{}, &e.data);
    std::vector<Entry> es{std::move(e)};
    if (AppendEntry(std::move(es))) {
      pending_conf_index_ = log_.LastIndex();
      BcastAppend();
      Logf("initiated automatic leave of joint config");
    }
  }
}

ConfState Raft::ApplyConfChange(const ConfChangeV2& cc) {
  Changer changer(prs_, log_.LastIndex());
  Result<ConfigAndProgress> r = Status::InvalidArgument("unset");
  bool auto_leave = false;
  if (cc.LeaveJoint()) {
    r = changer.LeaveJoint();
  } else if (cc.EnterJoint(&auto_leave)) {
    r = changer.EnterJoint(auto_leave, cc.changes);
  } else {
    r = changer.Simple(cc.changes);
  }
  // A committed conf change that cannot be applied means the proposal checks
  // failed: a bug (etcd panics here too).
  TINYKV_CHECK(r.ok()) << "node=" << id_ << " cannot apply conf change: " << r.status().ToString();
  return SwitchToConfig(std::move(r->config), std::move(r->progress));
}

ConfState Raft::SwitchToConfig(TrackerConfig cfg, ProgressMap prs) {
  prs_.config = std::move(cfg);
  prs_.progress = std::move(prs);
  vouched_leader_ = kNone;  // vouched for under the old configuration
  ConfState cs = prs_.GetConfState();
  auto it = prs_.progress.find(id_);
  is_learner_ = it != prs_.progress.end() && it->second.is_learner;
  if ((it == prs_.progress.end() || is_learner_) && state_ == StateRole::kLeader) {
    // A leader removed from (or demoted in) the configuration steps down
    // (dissertation §4.2.2); the remaining voters elect a new leader.
    Logf("removed from configuration, stepping down");
    BecomeFollower(current_term_, kNone);
    return cs;
  }
  if (state_ != StateRole::kLeader || cs.voters.empty()) return cs;
  // The quorum changed: the commit index may move.
  if (MaybeCommit()) {
    BcastAppend();
  } else {
    for (auto& [id, pr] : prs_.progress) {
      if (id == id_) continue;
      MaybeSendAppend(id, false);
    }
  }
  if (lead_transferee_ != kNone && !prs_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  return cs;
}

// ---- reads ------------------------------------------------------------------------

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.ZeroTermOnErr(log_.committed()) == current_term_;
}

void Raft::RespondToReadIndexReq(const Message& req, uint64_t read_index) {
  if (req.from == kNone || req.from == id_) {
    read_states.push_back(ReadState{read_index, req.context});
    return;
  }
  Message resp;
  resp.to = req.from;
  resp.type = MessageType::kMsgReadIndexResp;
  resp.index = read_index;
  resp.context = req.context;
  Send(std::move(resp));
}

void Raft::SendReadIndexResponse(const Message& m) {
  if (read_only_option_ == ReadOnlyOption::kLeaseBased && lead_transferee_ == kNone &&
      lease_.Valid(prs_.config.voters, id_, ticks_)) {
    // Lease read: no other leader can exist yet (leader_lease.h).
    RespondToReadIndexReq(m, log_.committed());
    return;
  }
  // A heartbeat round (which, in lease mode, also renews the lease).
  read_only_.AddRequest(log_.committed(), m, ticks_);
  const auto* acks = read_only_.RecvAck(id_, m.context);
  (void)acks;
  BcastHeartbeatWithCtx(m.context);
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages_.empty()) return;
  if (!CommittedEntryInCurrentTerm()) return;
  auto msgs_held = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (const Message& m : msgs_held) SendReadIndexResponse(m);
}

void Raft::FailRead(const Message& req) {
  if (req.from == kNone || req.from == id_) {
    failed_reads.push_back(req.context);
    return;
  }
  Message resp;
  resp.to = req.from;
  resp.type = MessageType::kMsgReadIndexResp;
  resp.reject = true;
  resp.context = req.context;
  Send(std::move(resp));
}

void Raft::CompleteForwardedRead(const Message& resp) {
  if (forwarded_reads_.erase(resp.context) == 0) return;  // already failed
  if (resp.reject) {
    failed_reads.push_back(resp.context);
  } else {
    read_states.push_back(ReadState{resp.index, resp.context});
  }
}

void Raft::FailAllPendingReads() {
  // Reads forwarded to a leader we no longer follow may never be answered.
  for (const std::string& ctx : forwarded_reads_) failed_reads.push_back(ctx);
  forwarded_reads_.clear();
  for (auto& rs : read_only_.TakeAll()) FailRead(rs.req);
  auto held = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (const Message& m : held) FailRead(m);
}

}  // namespace tinykv::raft
