// Linearizable read barriers (ReadIndex, Raft thesis §6.4): a barrier
// completes once the core confirmed this replica is still the leader at the
// read's index (a heartbeat round, or a lease) and the state machine applied
// up to that index. The core reports a read it can no longer answer in
// Ready::failed_reads; those complete with NotLeader at once.
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
    raw_->ReadIndex(ctx);
    ScheduleReady();
  });
}

void ReplicaImpl::OnReadStates(const Ready& rd) {
  for (const ReadState& rs : rd.read_states) {
    auto it = reads_.find(rs.request_ctx);
    if (it == reads_.end()) continue;
    it->second.index = rs.index;
    it->second.confirmed = true;
  }
  for (const std::string& ctx : rd.failed_reads) {
    auto it = reads_.find(ctx);
    if (it == reads_.end()) continue;
    auto done = std::move(it->second.done);
    reads_.erase(it);
    done(NotLeader());
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
