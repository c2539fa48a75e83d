// etcd's latency warnings (slow_warnings.h): the detector, and the Replica's
// checks on its driver thread (apply duration, heartbeat gaps, leader
// changes). The slow fdatasync warning is DiskStorage's (disk_storage.cc).
#include "tinykv/replica/slow_warnings.h"

#include "replica_impl.h"

namespace tinykv::replica {

std::chrono::microseconds TimeoutDetector::Observe(uint64_t peer, uint64_t now_micros) {
  auto [it, first] = last_.try_emplace(peer, now_micros);
  if (first) return std::chrono::microseconds(0);
  const uint64_t gap = now_micros >= it->second ? now_micros - it->second : 0;
  it->second = now_micros;
  const auto max = static_cast<uint64_t>(max_.count());
  return std::chrono::microseconds(gap > max ? gap - max : 0);
}

namespace internal {

using Us = std::chrono::microseconds;

void ReplicaImpl::ObserveApply(uint64_t first, uint64_t last, uint64_t term,
                               uint64_t took_micros) {
  backend_commit_.Observe(Us(took_micros));
  if (Us(took_micros) <= opts_.warn_apply_duration) return;
  logging::Log(log_, spdlog::level::warn, "apply request took too long",
               {{"node", id_},
                {"group", opts_.group},
                {"index", last},
                {"entries", last - first + 1},
                {"term", term},
                {"took", Us(took_micros)},
                {"expected", opts_.warn_apply_duration}});
}

void ReplicaImpl::ObserveHeartbeats(const std::vector<raft::Message>& msgs) {
  const uint64_t now = clock_->NowMicros();
  for (const raft::Message& m : msgs) {
    if (m.type != raft::MessageType::kMsgHeartbeat) continue;
    const Us exceeded = heartbeat_detector_.Observe(m.to, now);
    if (exceeded.count() == 0) continue;
    logging::Log(log_, spdlog::level::warn,
                 "leader failed to send out heartbeat on time; took too long, leader is "
                 "overloaded likely from slow disk",
                 {{"node", id_},
                  {"group", opts_.group},
                  {"peer", m.to},
                  {"heartbeat_interval", heartbeat_detector_.max() / 2},
                  {"expected", heartbeat_detector_.max()},
                  {"exceeded", exceeded}});
  }
}

void ReplicaImpl::OnLeaderSeen(uint64_t from, uint64_t to) {
  heartbeat_detector_.Reset();
  if (from == 0) return;  // the first leader this replica knows: no change
  logging::Log(log_, spdlog::level::warn, "leader changed",
               {{"node", id_}, {"group", opts_.group}, {"term", term_.load()}, {"from", from},
                {"to", to}});
}

}  // namespace internal
}  // namespace tinykv::replica
