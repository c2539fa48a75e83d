// Linearizable read barriers (ReadIndex, Raft thesis §6.4): a barrier
// completes once the core confirmed this replica is still the leader at the
// read's index (a heartbeat round, or a lease) and the state machine applied
// up to that index. The core reports a read it can no longer answer in
// Ready::failed_reads; those complete with NotLeader at once.
//
// Batching: the barriers that arrive between two Readys share one ReadIndex
// request (one heartbeat round confirms them all). That is still
// linearizable: the request is made after each of them arrived, so its read
// index -- the commit index when it is made, confirmed by a quorum's answers
// to heartbeats sent after it -- is at least the commit index at each
// barrier's arrival.
#include "replica_impl.h"

namespace tinykv::replica::internal {

using namespace raft;  // NOLINT: the core's types throughout

void ReplicaImpl::ReadBarrier(std::chrono::milliseconds timeout,
                              std::function<void(Status)> on_done) {
  const Micros deadline = DeadlineAfter(timeout);
  OnDriverAsLeader(std::move(on_done), [this, deadline](auto done) mutable {
    if (Status r = ServingRefusal(); !r.ok()) {
      done(r);
      return;
    }
    std::string ctx = std::to_string(epoch_ | next_read_++);
    reads_.emplace(ctx, PendingRead{std::move(done), deadline, 0, false});
    unissued_reads_.push_back(std::move(ctx));
    ScheduleReady();
  });
}

void ReplicaImpl::IssueReads() {
  if (unissued_reads_.empty()) return;
  // A stall the tick timer has not seen yet: the lease may be older in real
  // time than the ticks say (ReplicaOptions::lease_reads).
  if (opts_.lease_reads && TicksLate(clock_->NowMicros())) raw_->SuspendLease();
  std::string ctx = std::to_string(epoch_ | next_read_++);
  read_batches_.emplace(ctx, std::move(unissued_reads_));
  unissued_reads_.clear();
  raw_->ReadIndex(std::move(ctx));
}

void ReplicaImpl::OnReadStates(const Ready& rd) {
  for (const ReadState& rs : rd.read_states) {
    auto batch = read_batches_.find(rs.request_ctx);
    if (batch == read_batches_.end()) continue;
    for (const std::string& ctx : batch->second) {
      auto it = reads_.find(ctx);
      if (it == reads_.end()) continue;  // timed out meanwhile
      it->second.index = rs.index;
      it->second.confirmed = true;
    }
    read_batches_.erase(batch);
  }
  for (const std::string& failed : rd.failed_reads) {
    auto batch = read_batches_.find(failed);
    if (batch == read_batches_.end()) continue;
    for (const std::string& ctx : batch->second) {
      auto it = reads_.find(ctx);
      if (it == reads_.end()) continue;
      auto done = std::move(it->second.done);
      reads_.erase(it);
      done(NotLeader());
    }
    read_batches_.erase(batch);
  }
  CompleteReads();
}

void ReplicaImpl::CompleteReads() {
  const uint64_t applied = applied_.load();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.confirmed && it->second.index <= applied) {
      auto done = std::move(it->second.done);
      it = reads_.erase(it);
      done(Status::OK());
    } else {
      ++it;
    }
  }
}

}  // namespace tinykv::replica::internal
