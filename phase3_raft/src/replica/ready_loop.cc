// The Ready loop (raft/ready.h contract) and the apply of committed entries.
//
// Per Ready: 1. persist the snapshot, the entries and the hard state (one
// write, one fdatasync when the Ready says must_sync) -> 2. send the
// messages -> 3. install the snapshot and apply the committed entries ->
// 4. complete read barriers -> Advance. A failure in 1 or 3 stops the
// replica before anything of that Ready leaves the process (Fail): messages
// sent after a failed persist could vouch for entries or votes that are not
// durable.
#include "replica_impl.h"

#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica::internal {

using namespace raft;  // NOLINT: the core's types throughout

void ReplicaImpl::HandleReady() {
  while (!stopping_ && failed_.ok() && raw_->HasReady()) {
    Ready rd = raw_->GetReady();
    if (rd.soft_state) {
      leader_ = rd.soft_state->lead;
      const bool was_leader = role_ == static_cast<int>(StateRole::kLeader);
      role_ = static_cast<int>(rd.soft_state->role);
      const bool leader = rd.soft_state->role == StateRole::kLeader;
      if (leader != was_leader) OnRoleChange(leader);
    }
    if (!Persist(rd)) return;
    if (rd.hard_state) {
      term_ = rd.hard_state->term;
      commit_ = rd.hard_state->commit;
    }
    TrackAppended(rd.entries);
    if (!rd.messages.empty()) Send(std::move(rd.messages));
    if (!rd.snapshot.empty() && !InstallSnapshot(rd.snapshot)) return;
    if (!ApplyEntries(rd.committed_entries)) return;
    OnReadStates(rd);
    raw_->Advance(rd);
  }
  if (!stopping_ && failed_.ok()) MaybeSnapshot();
}

bool ReplicaImpl::Persist(const Ready& rd) {
  if (!rd.snapshot.empty()) {
    Status s = storage_->ApplySnapshot(rd.snapshot);
    if (!s.ok()) {
      Fail(s, "persisting snapshot " + std::to_string(rd.snapshot.metadata.index));
      return false;
    }
  }
  Status s = storage_->Save(rd.hard_state, rd.entries, rd.must_sync);
  if (!s.ok()) {
    Fail(s, "persisting the raft log");
    return false;
  }
  return true;
}

void ReplicaImpl::Send(std::vector<Message> msgs) {
  ObserveHeartbeats(msgs);
  if (opts_.TEST_on_send) {
    for (const Message& m : msgs) opts_.TEST_on_send(m);
  }
  {
    std::lock_guard<std::mutex> l(fault_mu_);
    if (!dropped_.empty() || drop_p_ > 0) {
      std::vector<Message> kept;
      for (Message& m : msgs) {
        if (DropFromTo(m.to)) {
          if (m.type == MessageType::kMsgSnap) {
            asio::post(io_, [this, to = m.to] {
              if (!stopping_ && failed_.ok()) raw_->ReportSnapshot(to, true);
            });
          }
          continue;
        }
        kept.push_back(std::move(m));
      }
      msgs = std::move(kept);
    }
  }
  host_->Send(opts_.group, std::move(msgs));
}

bool ReplicaImpl::ApplyEntries(const std::vector<Entry>& ents) {
  for (const Entry& e : ents) {
    if (e.index <= sm_->applied_index()) {
      // Already in the state machine (replay after restart): only the core's
      // view of the membership needs rebuilding.
      if (e.type == EntryType::kConfChangeV2) {
        auto cc = DecodeConfChange(Slice(e.data));
        if (cc.ok()) raw_->ApplyConfChange(*cc);
      }
      continue;
    }
    uint64_t pid = 0;
    Result<std::string> result = std::string();
    const bool ok = e.type == EntryType::kConfChangeV2 ? ApplyConfChangeEntry(e, &pid, &result)
                                                       : ApplyNormal(e, &pid, &result);
    if (!ok) return false;
    applied_ = e.index;
    CompleteApplied(e.index, pid, std::move(result));
  }
  if (!ents.empty()) CompleteReads();
  return true;
}

// A normal entry: empty (a leader's no-op), the proposal envelope
// "fixed64 proposal id | command", or a control entry "fixed64 0 | kind".
// An entry too short for the envelope cannot have come from a Replica; it is
// applied as a failed no-op on every replica alike (never a crash, never a
// crash loop on restart).
bool ReplicaImpl::ApplyNormal(const Entry& e, uint64_t* pid, Result<std::string>* result) {
  Slice data(e.data);
  uint64_t proposal_id = 0;
  if (data.empty() || !GetFixed64(&data, &proposal_id)) {
    if (!e.data.empty()) {
      log_->error("node={} group={} entry {} (term {}) is not a proposal envelope ({} bytes); "
                  "applied as a no-op",
                  id_, opts_.group, e.index, e.term, e.data.size());
    }
    Status s = sm_->ApplyNoop(e.index, e.term);
    if (!s.ok()) {
      Fail(s, "applying entry " + std::to_string(e.index));
      return false;
    }
    return true;
  }
  // Proposal id 0: a control entry of the replica itself (hash_check.cc),
  // never a state machine command.
  if (proposal_id == 0) return ApplyControl(e, data);
  const Micros apply_start = clock_->NowMicros();
  Result<CommandOutcome> out = sm_->Apply(e.index, e.term, data);
  ObserveApply(e, clock_->NowMicros() - apply_start);
  if (!out.ok()) {
    Fail(out.status(), "applying entry " + std::to_string(e.index));
    return false;
  }
  *pid = proposal_id;
  if (out->status.ok()) {
    *result = std::move(out->result);
  } else {
    log_->warn("node={} group={} entry {} rejected by the state machine: {}", id_, opts_.group,
               e.index, out->status.ToString());
    *result = out->status;
  }
  return true;
}

}  // namespace tinykv::replica::internal
