// RawNode: the application-facing API over Raft (etcd-io/raft rawnode.go),
// producing Ready batches and consuming Advance.
#include "tinykv/raft/raw_node.h"

#include "raft.h"
#include "tinykv/common/check.h"
#include "tinykv/raft/codec.h"

namespace tinykv::raft {

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<Raft> r, Raft::Create(config));
  std::unique_ptr<RawNode> rn(new RawNode(std::move(r)));
  return rn;
}

RawNode::RawNode(std::unique_ptr<Raft> r) : raft_(std::move(r)) {
  prev_soft_ = raft_->GetSoftState();
  prev_hard_ = raft_->GetHardState();
}

RawNode::~RawNode() = default;

uint64_t RawNode::id() const { return raft_->id(); }

void RawNode::Tick() { raft_->Tick(); }

void RawNode::SuspendLease() { raft_->SuspendLease(); }

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::kMsgHup;
  return raft_->Step(std::move(m));
}

Status RawNode::Propose(std::string data) {
  Message m;
  m.type = MessageType::kMsgProp;
  m.from = raft_->id();
  Entry e;
  e.data = std::move(data);
  m.entries.push_back(std::move(e));
  return raft_->Step(std::move(m));
}

Status RawNode::ProposeConfChange(const ConfChangeV2& cc) {
  Message m;
  m.type = MessageType::kMsgProp;
  m.from = raft_->id();
  Entry e;
  e.type = EntryType::kConfChangeV2;
  EncodeConfChange(cc, &e.data);
  m.entries.push_back(std::move(e));
  return raft_->Step(std::move(m));
}

Status RawNode::Step(const Message& m) {
  // Validate at the boundary (message_check.h): a refused message changes
  // nothing but its counter.
  RejectReason reason = RejectReason::kUnknownType;
  if (Status s = raft_->CheckMessage(m, &reason); !s.ok()) {
    ++rejected_.by_reason[static_cast<size_t>(reason)];
    return s;
  }
  return raft_->Step(m);
}

void RawNode::TransferLeader(uint64_t transferee) {
  Message m;
  m.type = MessageType::kMsgTransferLeader;
  m.from = transferee;
  raft_->Step(std::move(m)).IgnoreError();
}

void RawNode::ReadIndex(std::string ctx) {
  Message m;
  m.type = MessageType::kMsgReadIndex;
  m.from = raft_->id();
  m.context = std::move(ctx);
  raft_->Step(std::move(m)).IgnoreError();
}

ConfState RawNode::ApplyConfChange(const ConfChangeV2& cc) { return raft_->ApplyConfChange(cc); }

void RawNode::ReportSnapshot(uint64_t id, bool failed) {
  Message m;
  m.type = MessageType::kMsgSnapStatus;
  m.from = id;
  m.reject = failed;
  raft_->Step(std::move(m)).IgnoreError();
}

void RawNode::ReportUnreachable(uint64_t id) {
  Message m;
  m.type = MessageType::kMsgUnreachable;
  m.from = id;
  raft_->Step(std::move(m)).IgnoreError();
}

bool RawNode::HasReady() const {
  const RaftLog& log = raft_->log();
  if (!(raft_->GetSoftState() == prev_soft_)) return true;
  const HardState hs = raft_->GetHardState();
  if (!hs.empty() && !(hs == prev_hard_)) return true;
  if (log.HasPendingSnapshot()) return true;
  if (!raft_->msgs.empty() || log.HasUnstableEntries() || log.HasNextCommittedEntries()) {
    return true;
  }
  return !raft_->read_states.empty() || !raft_->failed_reads.empty();
}

Ready RawNode::GetReady() {
  Ready rd;
  RaftLog& log = raft_->log();
  rd.entries = log.UnstableEntries();
  rd.committed_entries = log.NextCommittedEntries();
  rd.messages = std::move(raft_->msgs);
  raft_->msgs.clear();
  const SoftState ss = raft_->GetSoftState();
  if (!(ss == prev_soft_)) rd.soft_state = ss;
  const HardState hs = raft_->GetHardState();
  if (!(hs == prev_hard_)) rd.hard_state = hs;
  if (log.HasPendingSnapshot()) rd.snapshot = *log.PendingSnapshot();
  rd.read_states = std::move(raft_->read_states);
  raft_->read_states.clear();
  rd.failed_reads = std::move(raft_->failed_reads);
  raft_->failed_reads.clear();
  rd.must_sync = !rd.entries.empty() || !rd.snapshot.empty() ||
                 (rd.hard_state && (rd.hard_state->term != prev_hard_.term ||
                                    rd.hard_state->vote != prev_hard_.vote));
  // Parallel append (ready.h): a leader's messages need not wait for this
  // Ready's write when it changes neither term nor vote (its vote for itself
  // is durable, and its own entries count only once Advance says so).
  rd.messages_before_persist =
      raft_->parallel_leader_append() && raft_->state() == StateRole::kLeader &&
      rd.snapshot.empty() &&
      (!rd.hard_state ||
       (rd.hard_state->term == prev_hard_.term && rd.hard_state->vote == prev_hard_.vote));
  // The uncommitted tail shrinks as entries are handed out for applying.
  if (raft_->state() == StateRole::kLeader) {
    uint64_t bytes = 0;
    for (const Entry& e : rd.committed_entries) bytes += PayloadSize(e);
    raft_->ReduceUncommittedSize(bytes);
  }
  if (rd.soft_state) prev_soft_ = *rd.soft_state;
  if (rd.hard_state) prev_hard_ = *rd.hard_state;
  return rd;
}

void RawNode::Advance(const Ready& rd) {
  RaftLog& log = raft_->log();
  if (!rd.entries.empty()) log.StableTo(rd.entries.back().index, rd.entries.back().term);
  if (!rd.snapshot.empty()) log.StableSnapTo(rd.snapshot.metadata.index);
  if (!rd.entries.empty()) raft_->OnPersisted();
  if (!rd.committed_entries.empty()) {
    raft_->AppliedTo(rd.committed_entries.back().index);
  } else if (!rd.snapshot.empty() && rd.snapshot.metadata.index > log.applied()) {
    raft_->AppliedTo(rd.snapshot.metadata.index);
  }
}

NodeStatus RawNode::GetStatus() const {
  NodeStatus s;
  s.id = raft_->id();
  s.hard_state = raft_->GetHardState();
  s.soft_state = raft_->GetSoftState();
  s.applied = raft_->log().applied();
  s.first_index = raft_->log().FirstIndex();
  s.last_index = raft_->log().LastIndex();
  s.lead_transferee = raft_->lead_transferee();
  s.conf_state = raft_->tracker().GetConfState();
  s.rejected = rejected_;
  s.campaigns_refused_at_max_term = raft_->campaigns_refused_at_max_term();
  if (raft_->state() == StateRole::kLeader) {
    for (const auto& [id, pr] : raft_->tracker().progress) {
      s.progress.push_back(PeerStatus{id, pr.match, pr.next, pr.state, pr.is_learner,
                                      pr.recent_active, pr.inflights.Count()});
    }
  }
  return s;
}

Result<std::vector<Entry>> RawNode::LogEntries(uint64_t lo, uint64_t hi) const {
  return raft_->log().Slice(lo, hi, kNoLimit);
}

Result<uint64_t> RawNode::LogTerm(uint64_t i) const { return raft_->log().Term(i); }

}  // namespace tinykv::raft
