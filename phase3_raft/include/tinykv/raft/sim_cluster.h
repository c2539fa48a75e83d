// SimCluster: a deterministic, single-threaded simulation of a Raft cluster
// (TigerBeetle VOPR / LogCabin style). One uint64 seed fixes everything: the
// same seed and the same calls give the identical event trace.
//
// Model:
//  - Virtual time in ticks. Tick() advances every live node's clock by one,
//    then delivers every message due (delay 0 = within the same tick) and
//    processes Ready batches until the cluster is quiet.
//  - Each node has a "disk" (a MemoryStorage) that holds exactly what Ready
//    told it to persist — persisting is synchronous, so everything persisted
//    was synced. crash(i) discards the node's volatile state (the RawNode,
//    unsent messages, in-flight messages to it, its state machine);
//    restart(i) rebuilds it from the disk and the last snapshot.
//  - The state machine is the list of applied non-empty payloads; snapshots
//    carry it (and the ConfState). A leader produces a fresh snapshot at its
//    applied index when a follower needs one (as TiKV generates snapshots on
//    demand); compact(i, index) snapshots and truncates the log.
//  - SimNetwork models drops, duplicates, delay, reordering, partitions and
//    cut links. Snapshots travel as one MsgSnap (see README "Snapshots").
//  - After every tick an InvariantChecker verifies election safety, log
//    matching, leader completeness and state machine safety, recording any
//    violation (with the seed) in violations().
//
// Node ids are 1..n; AddMember(i) creates node i. A removed node keeps
// running until Crash(i).
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/common/random.h"
#include "tinykv/common/result.h"
#include "tinykv/raft/raw_node.h"
#include "tinykv/raft/sim_network.h"

namespace tinykv::raft::sim {

struct SimOptions {
  int n = 3;
  uint64_t seed = 1;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  // Config::parallel_leader_append: leaders send before they persist, and
  // count their own entries once Advance reports them durable.
  bool parallel_leader_append = false;
  uint64_t max_uncommitted_bytes = 0;  // 0: unlimited
  int max_inflight_msgs = 256;
  uint64_t max_msg_bytes = 1 << 20;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  bool check_invariants = true;
  // Also check after every message delivery and every Ready (not only after
  // every tick). Slower; processing order (and so the trace) is unchanged.
  bool check_each_step = false;
  // Also record every sent message in the trace (large).
  bool trace_messages = false;
  // Log transitions through spdlog too (off: only the trace has them).
  bool log_transitions = false;
  // Keep every applied payload (Applied(), snapshots). Benchmarks turn this
  // off so the state machine does not grow without bound; Applied() is then empty.
  bool record_applied = true;
  // Record role/term/commit changes in the trace (benchmarks turn this off).
  bool record_trace = true;
  // Hostile injector (0: off): each tick, this many forged or mutated
  // messages that a correct node must refuse (src/sim/hostile_injector.h:
  // senders of no group, terms above kMaxTerm, inconsistent entries, commits
  // beyond the log, bad snapshots, local and unknown types, ...) are stepped
  // into random live members. One that is accepted is a violation. The
  // injector draws from its own PRNG: with every forgery refused, the trace
  // equals the trace of the same seed without it.
  int hostile_per_tick = 0;
};

struct TraceEvent {
  uint64_t tick = 0;
  uint64_t node = 0;
  std::string event;  // e.g. "became leader", "commit", "crash", "send MsgApp"
  uint64_t term = 0;
  std::string detail;  // free form, e.g. "index=7" or "to=3"
  // Stable one-line form: "tick=12 node=2 term=5 became leader index=7".
  std::string ToString() const;
};

struct NodeInfo {
  uint64_t id = 0;
  bool alive = false;
  StateRole role = StateRole::kFollower;
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t lead = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
};

struct SimStats {
  std::map<std::string, uint64_t> messages;  // by etcd type name, counted when sent
  uint64_t bytes = 0;                        // encoded size of those messages
  uint64_t hostile_injected = 0;             // forged messages stepped (hostile_per_tick)
  uint64_t hostile_accepted = 0;             // ... of which a node accepted (violations)
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& [k, v] : messages) t += v;
    return t;
  }
};

class InvariantChecker;
class HostileInjector;

class SimCluster {
 public:
  explicit SimCluster(const SimOptions& options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  const SimOptions& options() const { return options_; }
  uint64_t now() const { return now_; }

  void Tick(int n = 1);
  // Delivers due messages and drains Ready batches without advancing time.
  void Settle();

  // Among live nodes whose role is leader, the one with the highest term.
  std::optional<uint64_t> Leader() const;
  Result<NodeInfo> Node(uint64_t id) const;
  std::vector<uint64_t> NodeIds() const;
  bool Alive(uint64_t id) const;

  // Proposes on the leader (or on `node`, which must be the leader): returns
  // the entry's index. NotLeader where there is none.
  Result<uint64_t> Propose(std::string data, std::optional<uint64_t> node = std::nullopt);
  // Starts a ReadIndex on `node` (default: the leader) and runs up to
  // max_ticks until it is confirmed; returns the read index. NotLeader if
  // no node, Unavailable if the read was failed, Timeout otherwise.
  Result<uint64_t> ReadIndex(std::optional<uint64_t> node, int max_ticks);
  // Forces node `id` to campaign now.
  Status Campaign(uint64_t id);

  Result<std::vector<Entry>> Log(uint64_t id) const;
  Result<std::vector<std::string>> Applied(uint64_t id) const;
  Result<ConfState> Members(uint64_t id) const;

  void Partition(const std::vector<std::vector<uint64_t>>& groups);
  void Heal();
  void Cut(uint64_t a, uint64_t b);
  void RestoreLink(uint64_t a, uint64_t b);
  void SetFaults(const Faults& f) { network_.SetFaults(f); }

  Status Crash(uint64_t id);
  Status Restart(uint64_t id);

  // Membership: proposes the change on the leader and returns (index, term)
  // of the proposal without waiting. AddMember creates node `id` (empty disk).
  Result<std::pair<uint64_t, uint64_t>> ProposeConfChange(const ConfChangeV2& cc);
  Result<std::pair<uint64_t, uint64_t>> AddMember(uint64_t id, bool learner);
  Result<std::pair<uint64_t, uint64_t>> Promote(uint64_t id);
  Result<std::pair<uint64_t, uint64_t>> RemoveMember(uint64_t id);
  // Runs until some live node applied the entry (index, term): OK; Aborted if
  // a different entry was committed there; Timeout after max_ticks.
  Status WaitApplied(uint64_t index, uint64_t term, int max_ticks);
  // Asks the leader to transfer leadership to `id`.
  Status TransferLeader(uint64_t id);
  // Snapshot at `index` (REQUIRES: applied) and truncation of the log before it.
  Status Compact(uint64_t id, uint64_t index);

  const SimStats& stats() const { return stats_; }
  void ResetStats() { stats_ = SimStats(); }
  const std::vector<TraceEvent>& trace() const { return trace_; }
  // Safety violations found so far ("seed=... tick=... <what>"); empty if none.
  const std::vector<std::string>& violations() const;
  // Checks every invariant now (also done after every tick).
  void CheckInvariants();
  // Raw access for tests (nullptr if crashed).
  RawNode* raw_node(uint64_t id);

  // Deterministic random source derived from the seed (for tests' choices).
  Random& rnd() { return rnd_; }

 private:
  struct SimNode;
  friend class InvariantChecker;

  SimNode* Find(uint64_t id) const;
  Status StartNode(SimNode* n);
  void HandleReady(SimNode* n);
  void Deliver(const Message& m);
  void InjectHostile();
  void Record(uint64_t node, uint64_t term, std::string event, std::string detail = "");
  std::string SnapshotData(const SimNode& n) const;
  uint64_t LeaderOrError(std::optional<uint64_t> node, Status* st) const;

  SimOptions options_;
  Random rnd_;
  SimNetwork network_;
  uint64_t now_ = 0;
  std::map<uint64_t, std::unique_ptr<SimNode>> nodes_;
  SimStats stats_;
  std::vector<TraceEvent> trace_;
  std::map<std::string, uint64_t> read_results_;  // ctx -> index (or failure marker)
  std::map<std::string, bool> read_failed_;
  uint64_t next_read_ctx_ = 1;
  std::unique_ptr<InvariantChecker> checker_;
  std::unique_ptr<HostileInjector> hostile_;  // null unless hostile_per_tick > 0
};

}  // namespace tinykv::raft::sim
