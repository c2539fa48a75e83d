// tinykv::raft::KvNode — one member of a replicated KV group: the Raft core
// driven on one driver thread (an io_context = a strand), a durable Raft log
// (DiskStorage, doc/log_format.md), the KV state machine over the phase 1
// engine (KvStateMachine), and peer transport over phase 2 (raft.Batch,
// raft.FetchSnapshot). Implementation: src/node/kv_node.cc; README "Real nodes".
// The phase 5 service and phase 6 server consume it.
//
// Changes to the lead's contract draft (all additions): KvCommand::Op::kDeleteRange
// and KvCommandResult::deleted; KvNodeStatus::log_fsyncs/log_entries_written/
// snapshot_index; KvNode::SetPeerAddress (peers may be given with an empty
// address at Open and filled in later, e.g. when every node listens on port 0).
//
// Membership (etcd semantics): a new cluster's log starts with one committed
// conf change entry per initial member (index 1..n, term 1, carrying its peer
// address), so a node that joins later learns the whole configuration and
// address book from the log or from a snapshot. ProposeMemberChange adds a
// voter or learner, promotes a learner or removes a member, one change at a
// time; the address book is part of the replicated state machine.
//
// Data dir layout: raft/ (log segments), kv/db (engine), snap/<index>-<term>
// (engine checkpoints served to lagging followers).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::raft {

struct KvNodeOptions {
  uint64_t id = 0;                           // 1..n
  std::filesystem::path data_dir;            // raft log, hard state, snapshots, kv engine
  std::map<uint64_t, std::string> peers;     // initial cluster incl. self: id -> "host:port" (peer addr)
  // false ("new"): an empty data dir bootstraps the cluster `peers`.
  // true ("existing"): an empty data dir does NOT bootstrap; the node has no
  // configuration, never campaigns, and waits for a leader to send it the log
  // or a snapshot after it was added with ProposeMemberChange. `peers` then
  // only seeds addresses (must include self). Ignored on a non-empty dir.
  bool join_existing = false;
  std::string peer_listen = "127.0.0.1:0";   // where this node's peer RPC server listens
  int tick_ms = 100;                         // one Raft tick
  int election_ticks = 10;                   // election timeout = election_ticks * tick_ms (randomized x1..2)
  int heartbeat_ticks = 1;
  uint64_t snapshot_threshold = 10000;       // applied entries between state machine snapshots
  bool sync = true;                          // fsync the raft log before acknowledging (off only for tests)
  int io_threads = 2;
};

// A write command. request ids make retries exactly-once: the state machine
// remembers (client_id -> highest applied request_seq and its result). A
// command whose request_seq equals the remembered one is not executed again
// and returns the remembered result; an OLDER request_seq is not executed and
// returns succeeded=false. So one client_id must issue its requests one at a
// time with increasing request_seq (retries reuse the same seq).
struct KvCommand {
  // kDeleteRange: deletes every key in [key, value); value empty = unbounded.
  enum class Op : uint8_t { kPut = 1, kDelete = 2, kCas = 3, kDeleteRange = 4 };
  Op op = Op::kPut;
  std::string key;                           // delete-range: start (inclusive)
  std::string value;                         // put / cas new value; delete-range: end (exclusive)
  std::optional<std::string> expected;       // cas: nullopt = succeed only if key absent
  uint64_t client_id = 0;                    // 0 = no dedup
  uint64_t request_seq = 0;
};

struct KvCommandResult {
  bool succeeded = true;                     // cas outcome; true for put/delete
  uint64_t index = 0;                        // raft index at which it applied
  std::optional<std::string> current;        // cas failure: the value found (nullopt if absent)
  uint64_t deleted = 0;                      // delete-range: number of keys removed
};

struct MemberInfo {
  uint64_t id = 0;
  std::string peer_address;
  bool learner = false;
  std::string client_address;                // as given to the member add ("" = unknown)
};

// One membership change (a simple ConfChangeV2 with one change; joint
// consensus is not exposed here).
struct MemberChange {
  enum class Type : uint8_t { kAddVoter = 1, kAddLearner = 2, kPromote = 3, kRemove = 4 };
  Type type = Type::kAddLearner;
  uint64_t id = 0;
  std::string peer_address;                  // add: required, "host:port"
  std::string client_address;                // add: optional, recorded in the address book
};

struct MemberChangeResult {
  uint64_t index = 0;                        // raft index of the conf change entry
  std::vector<MemberInfo> members;           // the configuration right after it applied
};

struct KvNodeStatus {
  uint64_t id = 0;
  uint64_t leader = 0;                       // 0 = unknown
  uint64_t term = 0;
  std::string role;                          // "follower", "candidate", "pre_candidate", "leader"
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  std::vector<MemberInfo> members;
  // Durable log counters (benchmarks): fdatasync calls and entries written.
  uint64_t log_fsyncs = 0;
  uint64_t log_entries_written = 0;
  uint64_t snapshot_index = 0;               // latest snapshot (0: none)
};

class KvNode {
 public:
  // Opens (or creates) the node's data dir, restores from it, starts the peer
  // server and the driver. IOError/Corruption/InvalidArgument on bad input.
  [[nodiscard]] static Result<std::unique_ptr<KvNode>> Open(const KvNodeOptions& options);
  virtual ~KvNode() = default;  // Stop() if still running

  // Callbacks (`done`) run on the node's driver thread: they must be quick and
  // must not block on the node (never call ProposeSync/ReadBarrierSync/
  // TransferLeadership/Stop from a callback: that deadlocks).
  //
  // Replicated write. `done` runs once, on an internal thread, with the result
  // when applied on this node (the leader), or NotLeader("leader=N ...")
  // immediately on a follower, Timeout at the deadline (outcome unknown!),
  // Aborted if leadership was lost before commit, Busy/ResourceExhausted when
  // the uncommitted tail is full, Cancelled on Stop.
  virtual void Propose(KvCommand cmd, std::chrono::milliseconds timeout,
                       std::function<void(Result<KvCommandResult>)> done) = 0;
  // Membership change, leader only. `done` runs once on the driver thread:
  // with the new configuration when the change applied on this node;
  // NotLeader on a follower; Busy while another conf change is pending
  // (proposed but not applied yet, also right after an election until the new
  // leader applied its first entry); InvalidArgument for a malformed change;
  // AlreadyExists (add of a member), NotFound (promote/remove of a non-member),
  // InvalidArgument (promote of a voter, removal of the last voter);
  // Unavailable (promote of a learner that is not caught up: its match index
  // is below 90% of the leader's, as etcd); Timeout / Aborted / Cancelled as
  // for Propose. The peer address travels in the entry, so every member
  // (and later joiners) learn it when the entry applies.
  virtual void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                                   std::function<void(Result<MemberChangeResult>)> done) = 0;
  // Linearizable read barrier (ReadIndex): `done(OK)` once this node is
  // confirmed leader and has applied up to the read index; then local reads
  // are linearizable. NotLeader / Timeout otherwise.
  virtual void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) = 0;
  // Local reads from the state machine (serializable; linearizable after a
  // ReadBarrier). Thread-safe.
  virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> Scan(
      const std::string& start, const std::string& end /* empty = unbounded */, size_t limit) = 0;

  // Blocking conveniences (tests, Python): wait for the callbacks above.
  Result<KvCommandResult> ProposeSync(KvCommand cmd, std::chrono::milliseconds timeout);
  Status ReadBarrierSync(std::chrono::milliseconds timeout);
  Result<MemberChangeResult> ProposeMemberChangeSync(MemberChange change,
                                                     std::chrono::milliseconds timeout);

  virtual KvNodeStatus GetStatus() = 0;
  virtual uint16_t peer_port() const = 0;
  // Sets / changes where peer `id` is reached ("host:port"), e.g. after it
  // restarted on a new port (LocalCluster). Thread-safe.
  virtual void SetPeerAddress(uint64_t id, std::string address) = 0;
  // Hands leadership to `to` (0 = the most caught-up voter) and waits up to
  // timeout. For graceful shutdown of a leader.
  virtual Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) = 0;

  // Test-only fault injection at the transport: drop all traffic to and from
  // these peers (replaces the previous set), and/or drop each message with
  // probability p.
  virtual void SetDroppedPeers(std::set<uint64_t> peers) = 0;
  virtual void SetDropProbability(double p) = 0;

  // Stops the driver and the peer server; in-flight calls get Cancelled.
  // Everything acknowledged is already durable. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tinykv::raft
