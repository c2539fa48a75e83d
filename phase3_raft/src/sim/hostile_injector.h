// HostileInjector: the simulator's source of forged and mutated messages
// (SimOptions::hostile_per_tick). Each forged message is one a correct node
// must refuse whatever its state: a sender that is a member of no group
// (ids from kFirstForeignId up, and kNone), or a member id with a field no
// honest node produces (a term above kMaxTerm, a local or unknown type,
// entries that are not consecutive or out of order in term, a heartbeat
// commit beyond the receiver's log, an invalid snapshot, ...). It never
// forges a well-formed message from a member: no protocol survives a
// member that lies (that would be Byzantine fault tolerance).
//
// The injector has its own Random (from the seed), so turning it on does
// not change the rest of the simulation: a run whose forged messages are
// all refused has exactly the trace of the run without them.
//
// Not thread-safe; owned by SimCluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinykv/common/random.h"
#include "tinykv/raft/raw_node.h"

namespace tinykv::raft::sim {

class HostileInjector {
 public:
  // Ids at and above this are never members in the simulator.
  static constexpr uint64_t kFirstForeignId = 1000000;

  explicit HostileInjector(uint64_t seed) : rnd_(seed ^ 0x686f7374696c65ULL) {}

  Random& rnd() { return rnd_; }
  // Remembers a message a node sent: forged messages are often mutated copies.
  void Observe(const Message& m);
  // A message for the node whose status is `st` that it must refuse;
  // *what describes the forgery (for a violation report).
  Message Forge(const NodeStatus& st, std::string* what);

 private:
  uint64_t ForeignId();
  uint64_t MemberId(const NodeStatus& st);
  uint64_t HugeTerm();
  Message Template(const NodeStatus& st);
  void BadEntries(Message* m, std::string* what);
  void BadSnapshot(Message* m, std::string* what);

  Random rnd_;
  std::vector<Message> recent_;  // ring of observed messages
  size_t next_ = 0;
};

}  // namespace tinykv::raft::sim
