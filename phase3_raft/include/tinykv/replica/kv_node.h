// tinykv::replica::KvNode — one member of a replicated KV group: a Replica
// (replica.h) over the KV state machine (KvStateMachine, the phase 1 engine),
// with typed commands (kv_command.h) instead of opaque bytes. The phase 5
// service and the phase 6 server consume it; src/replica/kv_node.cc is a thin
// facade over Replica.
//
// Transport. By default a KvNode starts its own PeerHost on `peer_listen`
// (one node, one group, one peer port: today's tinykv-server). Given a
// shared PeerHost (`host`), it registers its group there instead, so one
// process can host many groups (`group`), each with its own directory
// (data_dir.h layout) and its own leader.
//
// Membership (etcd semantics): a new cluster's log starts with one committed
// conf change entry per initial member (index 1..n, term 1, carrying its peer
// address), so a node that joins later learns the whole configuration and
// address book from the log or from a snapshot. ProposeMemberChange adds a
// voter or learner, promotes a learner or removes a member, one change at a
// time; the address book is part of the replicated state machine.
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
#include <utility>
#include <vector>

#include "tinykv/common/clock.h"
#include "tinykv/common/env.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/raft/message.h"
#include "tinykv/replica/hash_check.h"
#include "tinykv/replica/kv_command.h"
#include "tinykv/replica/membership.h"
#include "tinykv/replica/peer_host.h"
#include "tinykv/replica/replica.h"
#include "tinykv/replica/replica_status.h"

namespace tinykv::replica {

struct KvNodeOptions {
  uint64_t id = 0;                        // 1..n
  std::filesystem::path data_dir;         // the node's data dir (data_dir.h layout)
  std::map<uint64_t, std::string> peers;  // initial cluster incl. self: id -> "host:port" (peer addr)
  // false ("new"): an empty data dir bootstraps the cluster `peers`.
  // true ("existing"): an empty data dir does NOT bootstrap; the node has no
  // configuration, never campaigns, and waits for a leader to send it the log
  // or a snapshot after it was added with ProposeMemberChange. `peers` then
  // only seeds addresses (must include self). Ignored on a non-empty dir.
  bool join_existing = false;
  std::string peer_listen = "127.0.0.1:0";  // the peer port, when the node starts its own host
  bool address_book_wins = false;           // ReplicaOptions::address_book_wins
  int tick_ms = 100;                        // one Raft tick
  int election_ticks = 10;  // election timeout = election_ticks * tick_ms (randomized x1..2)
  int heartbeat_ticks = 1;
  uint64_t snapshot_threshold = 10000;  // applied entries between state machine snapshots
  bool sync = true;                     // fsync the raft log before acknowledging (off only for tests)
  bool lease_reads = false;             // ReplicaOptions::lease_reads
  int io_threads = 2;                   // of the node's own PeerHost
  // TLS of the node's own PeerHost (PeerHostOptions::server_tls/client_tls).
  net::TlsOptions peer_server_tls;
  net::TlsOptions peer_client_tls;
  // Identity (data_dir.h). A new cluster's id is computed from the ids in
  // `peers` and the token at bootstrap; cluster_id, if non-zero, is the id this node must
  // belong to (checked against the data dir's record).
  std::string cluster_token = "tinykv-cluster";
  uint64_t cluster_id = 0;
  uint64_t group = 1;                   // the Raft group this node is a member of
  // State hash check (hash_check.h; ReplicaOptions has the meaning). Off by
  // default; tinykv-server turns both on.
  int hash_check_interval_ms = 0;
  bool hash_check_at_start = false;
  int hash_check_timeout_ms = 10000;
  PeerHost* host = nullptr;             // shared transport (must outlive the node); null: own one
  Clock* clock = nullptr;               // ticks and deadlines; null: Clock::Real()
  // Every durable file (engine, Raft log, snapshots, identity) goes through
  // it; a test passes a FaultInjectionEnv. null: Env::Default().
  Env* env = nullptr;
  std::function<void(const raft::Message&)> TEST_on_send;  // see ReplicaOptions
};

using KvNodeStatus = ReplicaStatus;

class KvNode {
 public:
  // Opens (or creates) the node's group directory, restores from it, starts
  // the transport (unless shared) and the driver. IOError/Corruption/
  // InvalidArgument on bad input; InvalidArgument naming both ids when the
  // data dir belongs to another member or cluster (data_dir.h "Identity").
  [[nodiscard]] static Result<std::unique_ptr<KvNode>> Open(const KvNodeOptions& options);
  virtual ~KvNode() = default;  // Stop() if still running

  // Callbacks (`done`) run on the node's driver thread: they must be quick and
  // must not block on the node (never call ProposeSync/ReadBarrierSync/
  // TransferLeadership/Stop from a callback: that deadlocks).
  //
  // Replicated write. `done` runs once with the result when applied on this
  // node (the leader), or NotLeader (typed detail: routing_error.h)
  // immediately on a follower, Timeout at the deadline (outcome unknown!),
  // Aborted if leadership was lost before commit, Busy/ResourceExhausted when
  // the uncommitted tail is full, Cancelled on Stop, Unavailable after a disk
  // error stopped the node (replica.h).
  virtual void Propose(KvCommand cmd, std::chrono::milliseconds timeout,
                       std::function<void(Result<KvCommandResult>)> done) = 0;
  // Membership change, leader only (Replica::ProposeMemberChange has the
  // outcomes). The peer address travels in the entry, so every member (and
  // later joiners) learn it when the entry applies.
  virtual void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                                   std::function<void(Result<MemberChangeResult>)> done) = 0;
  // Linearizable read barrier (ReadIndex): `done(OK)` once this node is
  // confirmed leader and has applied up to the read index; then local reads
  // are linearizable. NotLeader / Timeout otherwise.
  virtual void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) = 0;
  // Local reads from the state machine (serializable; linearizable after a
  // ReadBarrier). Thread-safe. Unavailable naming the hash mismatch while
  // the node is CORRUPT (hash_check.h): its state is known to be wrong.
  virtual Result<std::optional<std::string>> Get(const std::string& key) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> Scan(
      const std::string& start, const std::string& end /* empty = unbounded */, size_t limit) = 0;

  // Runs a state hash check now (leader only): Replica::CheckStateHash.
  // NotSupported unless overridden (test doubles).
  virtual void CheckStateHash(std::chrono::milliseconds timeout,
                              std::function<void(Result<HashCheckReport>)> done) {
    (void)timeout;
    done(Status::NotSupported("this node runs no state hash checks"));
  }

  // A checkpoint of the state for a backup: Replica::CheckpointCopy.
  // NotSupported unless overridden (test doubles).
  virtual void CheckpointCopy(std::function<void(Result<StateCheckpoint>)> done) {
    done(Status::NotSupported("this node makes no checkpoints"));
  }

  // Disarms this member's NOSPACE alarm: Replica::DisarmNoSpace.
  // NotSupported unless overridden (test doubles).
  virtual void DisarmNoSpace(std::function<void(Status)> done) {
    done(Status::NotSupported("this node has no alarms"));
  }

  // Blocking conveniences (tests, Python): wait for the callbacks above.
  Result<KvCommandResult> ProposeSync(KvCommand cmd, std::chrono::milliseconds timeout);
  Result<HashCheckReport> CheckStateHashSync(std::chrono::milliseconds timeout);
  Status ReadBarrierSync(std::chrono::milliseconds timeout);
  Result<MemberChangeResult> ProposeMemberChangeSync(MemberChange change,
                                                     std::chrono::milliseconds timeout);
  Status DisarmNoSpaceSync();

  virtual KvNodeStatus GetStatus() = 0;
  // The current Raft term (GetStatus().term, which a node may answer more
  // cheaply: ReplicaKvNode loads one atomic).
  virtual uint64_t term() { return GetStatus().term; }
  // The transport's counters (peer_host.h); with a shared host, those of
  // every group on it.
  virtual PeerHostStats peer_stats() const = 0;
  // The data dir's identity: this member's id and its cluster's id.
  virtual NodeIdentity identity() const = 0;
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

  // Stops the driver and (if owned) the transport; in-flight calls get
  // Cancelled. Everything acknowledged is already durable. Idempotent.
  virtual void Stop() = 0;
};

// ---- Building a node over another state machine ----
//
// KvNode::Open is: check the data dir's identity, start (or join) the
// transport, open a state machine in the group's directory, start a
// Replica over it. A node over another state machine (phase 4's TxnNode,
// over MVCC) does the same with its own state machine: OpenReplicaParts is
// that sequence, and ReplicaKvNode the KvNode methods that only forward to
// the replica and the transport.

// What OpenReplicaParts built; the node owns all of it.
struct ReplicaParts {
  NodeIdentity identity;
  std::unique_ptr<PeerHost> own_host;  // null when the host is shared
  PeerHost* host = nullptr;
  std::unique_ptr<Replica> replica;
};

// Opens the state machine with `open_sm(group_dir)` and starts a replica of
// group options.group over it, as KvNode::Open does (its errors too).
using OpenStateMachineFn =
    std::function<Result<std::unique_ptr<StateMachine>>(const std::filesystem::path& group_dir)>;
[[nodiscard]] Result<ReplicaParts> OpenReplicaParts(const KvNodeOptions& options,
                                                    const OpenStateMachineFn& open_sm);

// The KvNode methods that forward to a Replica and its transport; a node
// type adds Propose, Get and Scan.
class ReplicaKvNode : public KvNode {
 public:
  explicit ReplicaKvNode(ReplicaParts parts) : parts_(std::move(parts)) {}
  ~ReplicaKvNode() override { Stop(); }

  void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                           std::function<void(Result<MemberChangeResult>)> done) override {
    parts_.replica->ProposeMemberChange(std::move(change), timeout, std::move(done));
  }
  void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) override {
    parts_.replica->ReadBarrier(timeout, std::move(done));
  }
  void CheckStateHash(std::chrono::milliseconds timeout,
                      std::function<void(Result<HashCheckReport>)> done) override {
    parts_.replica->CheckStateHash(timeout, std::move(done));
  }
  void CheckpointCopy(std::function<void(Result<StateCheckpoint>)> done) override {
    parts_.replica->CheckpointCopy(std::move(done));
  }
  KvNodeStatus GetStatus() override { return parts_.replica->GetStatus(); }
  uint64_t term() override { return parts_.replica->term(); }
  PeerHostStats peer_stats() const override { return parts_.host->stats(); }
  NodeIdentity identity() const override { return parts_.identity; }
  uint16_t peer_port() const override { return parts_.host->port(); }
  void SetPeerAddress(uint64_t id, std::string address) override {
    parts_.host->SetAddress(id, std::move(address));
  }
  Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) override {
    return parts_.replica->TransferLeadership(to, timeout);
  }
  void SetDroppedPeers(std::set<uint64_t> peers) override {
    parts_.replica->SetDroppedPeers(std::move(peers));
  }
  void SetDropProbability(double p) override { parts_.replica->SetDropProbability(p); }
  void DisarmNoSpace(std::function<void(Status)> done) override {
    parts_.replica->DisarmNoSpace(std::move(done));
  }
  void Stop() override {
    parts_.replica->Stop();
    if (parts_.own_host) parts_.own_host->Stop();
  }

 protected:
  Replica& replica() { return *parts_.replica; }

 private:
  ReplicaParts parts_;
};

}  // namespace tinykv::replica
