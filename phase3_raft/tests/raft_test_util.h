// Helpers for the Raft core tests: a tiny in-process network of RawNodes
// (etcd's "network" in raft_test.go) where the test controls every message.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "tinykv/raft/raw_node.h"
#include "tinykv/raft/storage.h"

namespace tinykv::raft::testing {

// The core tests run twice: as written, and with the leader's parallel
// append on (Config::parallel_leader_append), in the binary built with
// TINYKV_TEST_PARALLEL_APPEND (ctest names prefixed "ParallelAppend.").
// TestConfig and the simulator tests' options take this value.
#ifdef TINYKV_TEST_PARALLEL_APPEND
inline constexpr bool kParallelLeaderAppend = true;
#else
inline constexpr bool kParallelLeaderAppend = false;
#endif

// A RawNode with its MemoryStorage; Ready is processed by Persist().
struct TestNode {
  uint64_t id;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> node;
  std::vector<Entry> applied;  // committed entries applied, in order
  std::vector<ReadState> reads;
  std::vector<std::string> failed_reads;

  // Persists and applies every pending Ready; returns the messages to send.
  std::vector<Message> Persist();
  NodeStatus status() const { return node->GetStatus(); }
};

// Storage booted with voters `peers` (a snapshot at index 1, term 1).
std::unique_ptr<MemoryStorage> BootStorage(const std::vector<uint64_t>& peers);
Config TestConfig(uint64_t id, MemoryStorage* s, int election = 10, int heartbeat = 1);
std::unique_ptr<TestNode> NewTestNode(uint64_t id, const std::vector<uint64_t>& peers,
                                      std::function<void(Config*)> tweak = nullptr);

// A node whose persisted log holds entries 1..terms.size() with the given
// terms (index i+1 has terms[i]) and HardState{term, vote, commit}.
// Classic Raft by default in these tests: no pre-vote, no check-quorum.
std::unique_ptr<TestNode> NodeWithLog(uint64_t id, const std::vector<uint64_t>& peers,
                                      const std::vector<uint64_t>& terms, uint64_t term,
                                      uint64_t vote = 0, uint64_t commit = 0,
                                      std::function<void(Config*)> tweak = nullptr);
Message Msg(MessageType type, uint64_t from, uint64_t to, uint64_t term);
// Messages of a type among msgs.
std::vector<Message> Filter(const std::vector<Message>& msgs, MessageType type);

// A set of nodes exchanging messages synchronously, with per-link drops.
class Network {
 public:
  explicit Network(std::vector<uint64_t> ids, std::function<void(Config*)> tweak = nullptr);
  TestNode* node(uint64_t id) { return nodes_.at(id).get(); }
  // Delivers messages until quiet (steps, persists, sends).
  void Stabilize();
  // Sends m to its destination (as if from the network) and stabilizes.
  void Send(const Message& m);
  void Tick(uint64_t id, int n = 1);
  void TickAll(int n = 1);
  void Campaign(uint64_t id);
  void Isolate(uint64_t id);
  void Cut(uint64_t a, uint64_t b);
  void Recover();
  // Messages delivered so far, by type name.
  std::map<std::string, int> counts;
  // When set, messages matching are dropped.
  std::function<bool(const Message&)> drop_if;
  std::vector<Message> delivered;

 private:
  std::map<uint64_t, std::unique_ptr<TestNode>> nodes_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
  std::vector<Message> queue_;
};

}  // namespace tinykv::raft::testing
