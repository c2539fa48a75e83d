// Proposals: the envelope the replica wraps around a command, and how a
// proposal learns its outcome.
//
// Envelope: fixed64 proposal id | command. A proposal id is this replica's
// random 32-bit epoch (new at every start) in the high half and a counter
// (from 1) in the low half, so ids never repeat across restarts, never
// collide with another replica's (with high probability) and are never 0:
// proposal id 0 marks the replica's own control entries (hash_check.cc).
// When the leader appends its own entry it learns the entry's index
// (TrackAppended). When an entry applies,
// the proposal with that id completes with the state machine's result; a
// proposal whose index was taken by a different entry (another leader
// overwrote it) completes with Aborted -- never with a wrong success.
#include "replica_impl.h"

#include <algorithm>

#include "tinykv/common/coding.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica::internal {

using namespace raft;  // NOLINT: the core's types throughout

void ReplicaImpl::Propose(std::string command, std::chrono::milliseconds timeout,
                          std::function<void(Result<std::string>)> on_done) {
  const Micros deadline = DeadlineAfter(timeout);
  // The monitoring counters wrap the callback, so every way a proposal ends
  // (applied, Aborted, Timeout, Cancelled, NotLeader, ...) is counted once.
  proposals_pending_++;
  on_done = [this, on_done = std::move(on_done)](Result<std::string> r) {
    proposals_pending_--;
    if (!r.ok() && !r.status().IsNotLeader()) proposals_failed_++;
    on_done(std::move(r));
  };
  OnDriverAsLeader(std::move(on_done),
                   [this, command = std::move(command), deadline](auto done) mutable {
                     if (Status r = ServingRefusal(); !r.ok()) {
                       done(r);
                       return;
                     }
                     const uint64_t pid = epoch_ | next_pid_++;
                     std::string data;
                     data.reserve(8 + command.size());
                     PutFixed64(&data, pid);
                     data += command;
                     Status s = raw_->Propose(std::move(data));
                     if (!s.ok()) {
                       done(s.IsNotLeader() ? NotLeader() : s);
                       return;
                     }
                     proposals_.emplace(pid, PendingProposal{std::move(done), deadline, 0});
                     ScheduleReady();
                   });
}

// Records the index at which each of our pending proposals was appended.
void ReplicaImpl::TrackAppended(const std::vector<Entry>& ents) {
  if (proposals_.empty()) return;
  for (const Entry& e : ents) {
    uint64_t pid = 0;
    if (e.type == EntryType::kConfChangeV2) {
      auto cc = DecodeConfChange(Slice(e.data));
      if (!cc.ok()) continue;
      auto mc = DecodeMemberContext(Slice(cc->context));
      if (!mc.ok() || !mc->has_value()) continue;
      pid = (*mc)->proposal_id;
    } else {
      Slice d(e.data);
      if (!GetFixed64(&d, &pid)) continue;
    }
    auto it = proposals_.find(pid);
    if (it == proposals_.end()) continue;
    it->second.index = e.index;
    index_to_pid_[e.index] = pid;
  }
}

void ReplicaImpl::CompleteApplied(uint64_t index, uint64_t pid, Result<std::string> result) {
  // Our proposals that were appended at or below this index but lost their
  // place to other entries.
  for (auto it = index_to_pid_.begin(); it != index_to_pid_.end() && it->first <= index;) {
    if (it->second != pid) {
      auto p = proposals_.find(it->second);
      if (p != proposals_.end() && p->second.index == it->first) {
        auto done = std::move(p->second.done);
        proposals_.erase(p);
        done(Status::Aborted("proposal at index " + std::to_string(it->first) +
                             " was overwritten by another leader's entry"));
      }
    }
    it = index_to_pid_.erase(it);
  }
  if (pid == 0) return;
  auto p = proposals_.find(pid);
  if (p == proposals_.end()) return;
  auto done = std::move(p->second.done);
  proposals_.erase(p);
  done(std::move(result));
}

void ReplicaImpl::SweepTimeouts() {
  const Micros now = clock_->NowMicros();
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline <= now) {
      auto done = std::move(it->second.done);
      it = proposals_.erase(it);
      done(Status::Timeout("proposal not applied before the deadline (outcome unknown)"));
    } else {
      ++it;
    }
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline <= now) {
      auto done = std::move(it->second.done);
      it = reads_.erase(it);
      done(Status::Timeout("read barrier not confirmed before the deadline"));
    } else {
      ++it;
    }
  }
  // A request whose barriers all timed out is of no use any more.
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    const bool live = std::any_of(it->second.begin(), it->second.end(),
                                  [this](const std::string& c) { return reads_.count(c) > 0; });
    it = live ? std::next(it) : read_batches_.erase(it);
  }
}

void ReplicaImpl::CancelAll(const Status& why) {
  auto props = std::move(proposals_);
  proposals_.clear();
  index_to_pid_.clear();
  for (auto& [pid, p] : props) p.done(why);
  auto reads = std::move(reads_);
  reads_.clear();
  unissued_reads_.clear();
  read_batches_.clear();
  for (auto& [ctx, r] : reads) r.done(why);
}

}  // namespace tinykv::replica::internal
