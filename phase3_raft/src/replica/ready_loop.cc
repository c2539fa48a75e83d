// The Ready loop (raft/ready.h contract) and the apply of committed entries.
//
// Per Ready: 1. persist the snapshot, the entries and the hard state (one
// write, one fdatasync when the Ready says must_sync) -> 2. send the
// messages -> 3. install the snapshot and apply the committed entries ->
// 4. complete read barriers -> Advance. A failure in 1 or 3 stops the
// replica before anything of that Ready that depends on it leaves the
// process (Fail): messages sent after a failed persist could vouch for
// entries or votes that are not durable.
//
// The leader's parallel append (thesis §10.2.1): when the Ready says
// messages_before_persist, 2 comes before 1, so the followers receive the
// entries while the leader is still writing them and the two fdatasyncs
// overlap instead of running in series. Nothing those messages carry
// depends on the write: the core counts the leader's own entries toward
// the commit only at Advance, after 1 succeeded. If 1 fails, the replica
// stops; what the followers got is then just entries of an uncommitted
// tail.
#include "replica_impl.h"

#include "tinykv/common/check.h"
#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica::internal {

using namespace raft;  // NOLINT: the core's types throughout

void ReplicaImpl::HandleReady() {
  if (!stopping_ && failed_.ok()) IssueReads();
  while (!stopping_ && failed_.ok() && raw_->HasReady()) {
    Ready rd = raw_->GetReady();
    if (rd.soft_state) {
      leader_ = rd.soft_state->lead;
      const bool was_leader = role_ == static_cast<int>(StateRole::kLeader);
      role_ = static_cast<int>(rd.soft_state->role);
      const bool leader = rd.soft_state->role == StateRole::kLeader;
      if (leader != was_leader) OnRoleChange(leader);
    }
    const bool send_first = rd.messages_before_persist && !rd.messages.empty();
    if (send_first) Send(std::move(rd.messages));
    if (!Persist(rd)) return;
    if (rd.hard_state) {
      term_ = rd.hard_state->term;
      commit_ = rd.hard_state->commit;
    }
    TrackAppended(rd.entries);
    if (!send_first && !rd.messages.empty()) Send(std::move(rd.messages));
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
  // Consecutive proposals go to the state machine as one run (ApplyBatch:
  // one engine write for all of them); anything else ends the run.
  std::vector<CommittedCommand> run;
  std::vector<uint64_t> run_pids;
  auto flush = [&] {
    if (run.empty()) return true;
    const bool ok = ApplyRun(run, run_pids);
    run.clear();
    run_pids.clear();
    return ok;
  };
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
    Slice command;
    if (e.type == EntryType::kNormal && ParseEnvelope(e, &pid, &command) && pid != 0) {
      run.push_back(CommittedCommand{e.index, e.term, command});
      run_pids.push_back(pid);
      continue;
    }
    if (!flush()) return false;
    Result<std::string> result = std::string();
    const bool ok = e.type == EntryType::kConfChangeV2 ? ApplyConfChangeEntry(e, &pid, &result)
                                                       : ApplyNormal(e, &pid);
    if (!ok) return false;
    applied_ = e.index;
    CompleteApplied(e.index, pid, std::move(result));
  }
  if (!flush()) return false;
  if (!ents.empty()) CompleteReads();
  return true;
}

// A normal entry is empty (a leader's no-op), the proposal envelope
// "fixed64 proposal id | command", or a control entry "fixed64 0 | kind".
bool ReplicaImpl::ParseEnvelope(const Entry& e, uint64_t* pid, Slice* body) {
  Slice data(e.data);
  if (data.empty() || !GetFixed64(&data, pid)) return false;
  *body = data;
  return true;
}

bool ReplicaImpl::ApplyRun(const std::vector<CommittedCommand>& run,
                           const std::vector<uint64_t>& pids) {
  const Micros apply_start = clock_->NowMicros();
  Result<std::vector<CommandOutcome>> outs = sm_->ApplyBatch(run);
  ObserveApply(run.front().index, run.back().index, run.back().term,
               clock_->NowMicros() - apply_start);
  if (!outs.ok()) {
    Fail(outs.status(), "applying entries " + std::to_string(run.front().index) + ".." +
                            std::to_string(run.back().index));
    return false;
  }
  TINYKV_CHECK(outs->size() == run.size()) << "ApplyBatch returned " << outs->size()
                                           << " outcomes for " << run.size() << " commands";
  for (size_t i = 0; i < run.size(); ++i) {
    CommandOutcome& out = (*outs)[i];
    Result<std::string> result = std::string();
    if (out.status.ok()) {
      result = std::move(out.result);
    } else {
      log_->warn("node={} group={} entry {} rejected by the state machine: {}", id_, opts_.group,
                 run[i].index, out.status.ToString());
      result = out.status;
    }
    applied_ = run[i].index;
    CompleteApplied(run[i].index, pids[i], std::move(result));
  }
  return true;
}

// A normal entry that is not a proposal: a no-op, or a control entry of the
// replica itself. An entry too short for the envelope cannot have come from
// a Replica; it is applied as a failed no-op on every replica alike (never a
// crash, never a crash loop on restart).
bool ReplicaImpl::ApplyNormal(const Entry& e, uint64_t* pid) {
  Slice body;
  if (!ParseEnvelope(e, pid, &body)) {
    if (!e.data.empty()) {
      log_->error("node={} group={} entry {} (term {}) is not a proposal envelope ({} bytes); "
                  "applied as a no-op",
                  id_, opts_.group, e.index, e.term, e.data.size());
    }
    *pid = 0;
    Status s = sm_->ApplyNoop(e.index, e.term);
    if (!s.ok()) {
      Fail(s, "applying entry " + std::to_string(e.index));
      return false;
    }
    return true;
  }
  // Proposal id 0: a control entry of the replica itself (hash_check.cc),
  // never a state machine command (proposals go through ApplyRun).
  TINYKV_CHECK(*pid == 0) << "proposal " << *pid << " outside a run";
  return ApplyControl(e, body);
}

}  // namespace tinykv::replica::internal
