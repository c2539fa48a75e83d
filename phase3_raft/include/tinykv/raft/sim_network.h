// SimNetwork: the simulator's message transport. Deterministic for a given
// Random: it drops, duplicates, delays (in ticks) and reorders messages, and
// models partitions and cut links. A message is checked against the links
// when sent AND when delivered, so messages in flight across a new cut are
// dropped.
//
// Not thread-safe; owned by SimCluster.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "tinykv/common/random.h"
#include "tinykv/raft/message.h"

namespace tinykv::raft::sim {

struct Faults {
  double drop = 0.0;       // probability that a message is lost
  double duplicate = 0.0;  // probability that a message is delivered twice
  uint64_t delay_lo = 0;   // delivery delay in ticks, uniform in [lo, hi]
  uint64_t delay_hi = 0;
  bool reorder = false;  // shuffle messages that become due at the same tick
};

class SimNetwork {
 public:
  explicit SimNetwork(Random* rnd) : rnd_(rnd) {}

  // Called for every message that is lost (link down, random drop, dead
  // target), so the sender's transport can report failed snapshots.
  std::function<void(const Message&)> on_drop;

  void Send(Message m, uint64_t now);
  // Messages due at or before `now`, in delivery order; those whose link is
  // down by now are dropped (on_drop is called).
  std::vector<Message> PopDue(uint64_t now);
  bool HasDue(uint64_t now) const;
  size_t InFlight() const { return queue_.size(); }

  // partition(groups): replaces any earlier partition; a node in no group is alone.
  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Heal();  // removes partitions and cut links
  void Cut(uint64_t a, uint64_t b);
  void Restore(uint64_t a, uint64_t b);
  void SetFaults(const Faults& f) { faults_ = f; }
  const Faults& faults() const { return faults_; }
  // Drops every in-flight message to `id` (it crashed).
  void DropTo(uint64_t id);
  bool Connected(uint64_t a, uint64_t b) const;

 private:
  struct Key {
    uint64_t due;
    uint64_t seq;
    bool operator<(const Key& o) const { return due != o.due ? due < o.due : seq < o.seq; }
  };
  void Enqueue(Message m, uint64_t now);

  Random* rnd_;
  Faults faults_;
  std::map<Key, Message> queue_;
  uint64_t seq_ = 0;
  bool partitioned_ = false;
  std::map<uint64_t, int> group_;                // node -> group (partitioned_ only)
  std::set<std::pair<uint64_t, uint64_t>> cut_;  // (min, max)
};

}  // namespace tinykv::raft::sim
