// ReadOnly; see read_only.h.
#include "read_only.h"

#include "tinykv/common/check.h"

namespace tinykv::raft {

void ReadOnly::AddRequest(uint64_t index, const Message& m, uint64_t tick) {
  if (pending_.count(m.context) > 0) return;
  pending_.emplace(m.context, ReadIndexStatus{m, index, tick, {}});
  queue_.push_back(m.context);
}

const ReadIndexStatus* ReadOnly::Find(const std::string& ctx) const {
  auto it = pending_.find(ctx);
  return it == pending_.end() ? nullptr : &it->second;
}

const std::map<uint64_t, bool>* ReadOnly::RecvAck(uint64_t id, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(const std::string& ctx) {
  size_t i = 0;
  bool found = false;
  for (const auto& okctx : queue_) {
    ++i;
    TINYKV_CHECK(pending_.count(okctx) > 0) << "cannot find corresponding read state";
    if (okctx == ctx) {
      found = true;
      break;
    }
  }
  std::vector<ReadIndexStatus> out;
  if (!found) return out;
  for (size_t k = 0; k < i; ++k) {
    auto it = pending_.find(queue_.front());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    queue_.pop_front();
  }
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

std::vector<ReadIndexStatus> ReadOnly::TakeAll() {
  std::vector<ReadIndexStatus> out;
  for (const auto& ctx : queue_) out.push_back(std::move(pending_.at(ctx)));
  pending_.clear();
  queue_.clear();
  return out;
}

}  // namespace tinykv::raft
