// ReadOnly: the leader's bookkeeping for ReadIndex requests (dissertation
// §6.4): each request records the commit index when it arrived and is
// answered once a quorum acknowledged a heartbeat carrying its context, which
// proves no newer leader existed at that moment.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "tinykv/raft/message.h"

namespace tinykv::raft {

struct ReadIndexStatus {
  Message req;     // the original MsgReadIndex (from = requester, context = ctx)
  uint64_t index;  // commit index when received
  uint64_t tick;   // the leader's tick when received (its heartbeats are sent at or after it)
  std::map<uint64_t, bool> acks;
};

class ReadOnly {
 public:
  // Adds a request (duplicates of a pending ctx are ignored).
  void AddRequest(uint64_t index, const Message& m, uint64_t tick);
  // The pending request with this context, or null.
  const ReadIndexStatus* Find(const std::string& ctx) const;
  // Records a heartbeat ack for ctx; returns the acks so far (null if unknown ctx).
  const std::map<uint64_t, bool>* RecvAck(uint64_t id, const std::string& ctx);
  // Pops every request up to and including ctx (earlier ones are confirmed by
  // the same quorum, heartbeats being FIFO per request queue).
  std::vector<ReadIndexStatus> Advance(const std::string& ctx);
  std::string LastPendingRequestCtx() const;
  // Removes and returns every pending request (the leader is stepping down).
  std::vector<ReadIndexStatus> TakeAll();
  size_t pending() const { return queue_.size(); }

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace tinykv::raft
