// tinykv::raft — the pure Raft consensus core (etcd-io/raft's design).
//
// What it builds: a deterministic state machine implementing Raft (Ongaro &
// Ousterhout 2014; Ongaro's dissertation 2014): leader election with
// randomized timeouts, pre-vote, check-quorum, log replication with batching,
// pipelining and per-follower flow control, fast log backtracking, commit of
// current-term entries only (§5.4.2), snapshots, membership change (one at a
// time and joint consensus, with learners), leadership transfer, ReadIndex and
// lease reads. It performs no I/O, spawns no threads and reads no clock: the
// caller feeds it Tick() and Step(), and drains Ready (see ready.h for the
// persistence/sending contract). Randomness comes from Config::random_seed.
//
// File tour (phase3_raft/src): raft.cc (hub: transitions, ticks, Step),
// step_leader.cc / step_candidate.cc / step_follower.cc, raft_log.cc (stable
// + unstable log), progress.cc (per-follower Progress, Inflights),
// tracker.cc (ProgressTracker), quorum.cc (majority and joint quorums),
// confchange.cc (Changer), read_only.cc (ReadIndex bookkeeping),
// raw_node.cc (this API), codec.cc (wire encoding), memory_storage.cc,
// sim/ (deterministic simulator).
//
// RawNode is NOT thread-safe: one thread (or Asio strand) owns it.
// Cost: memory is O(unstable log + peers); each call is O(work produced).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/raft/config.h"
#include "tinykv/raft/message.h"
#include "tinykv/raft/message_check.h"
#include "tinykv/raft/ready.h"

namespace tinykv::raft {

class Raft;

// Progress of one peer as the leader sees it (for status/inspection).
enum class ProgressStateType : uint8_t { kProbe = 0, kReplicate = 1, kSnapshot = 2 };
const char* ProgressStateName(ProgressStateType s);

struct PeerStatus {
  uint64_t id = 0;
  uint64_t match = 0;
  uint64_t next = 0;
  ProgressStateType state = ProgressStateType::kProbe;
  bool learner = false;
  bool recent_active = false;
  int inflight_msgs = 0;
};

struct NodeStatus {
  uint64_t id = 0;
  HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t lead_transferee = 0;
  ConfState conf_state;
  std::vector<PeerStatus> progress;  // leader only
  // Messages Step refused since the node was created, by reason (message_check.h).
  RejectedMessages rejected;
  // Elections not started because the term reached kMaxTerm (message.h).
  uint64_t campaigns_refused_at_max_term = 0;
};

class RawNode {
 public:
  // Builds a node from config.storage's initial state (a restart) or a fresh
  // boot. InvalidArgument on a bad config.
  [[nodiscard]] static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances the logical clock by one tick (election / heartbeat timers).
  void Tick();
  // Starts an election now (as if the election timeout elapsed).
  Status Campaign();
  // Proposes data to be appended to the log. NotLeader (message names the
  // leader if known) on a non-leader; ResourceExhausted when the uncommitted
  // tail is full; Aborted during a leader transfer.
  Status Propose(std::string data);
  // Proposes a membership change. Busy if another change is still pending.
  Status ProposeConfChange(const ConfChangeV2& cc);
  // Feeds a message received from a peer. It is validated first
  // (message_check.h): a message that is malformed, not addressed to this
  // node, or from a sender that is not a member leaves the node unchanged,
  // is counted in NodeStatus::rejected and gives InvalidArgument (NotFound
  // for a non-member), with the reason in the message:
  //   "raft: rejected MsgHeartbeat from 99 (not_member): sender is not a member".
  Status Step(const Message& m);
  // Asks the leader to hand leadership to `transferee` (§3.10). The transfer
  // is aborted if not done within an election timeout.
  void TransferLeader(uint64_t transferee);
  // Lease reads (ReadOnlyOption::kLeaseBased): this node's clock lost time
  // (its ticks were late), so what was acknowledged before now proves
  // nothing about the lease; it is renewed by messages sent from the next
  // tick on. The driver calls it when it finds ticks missing.
  void SuspendLease();
  // Requests a linearizable read point. The result arrives as a ReadState with
  // the same ctx (or in Ready::failed_reads). ctx must be unique.
  void ReadIndex(std::string ctx);
  // Applies a committed conf change entry; returns the new configuration.
  ConfState ApplyConfChange(const ConfChangeV2& cc);
  // Reports to the leader that a snapshot sent to `id` failed or finished
  // (the transport calls this) so progress can leave the Snapshot state.
  void ReportSnapshot(uint64_t id, bool failed);
  // Reports that `id` was unreachable (the leader stops pipelining to it).
  void ReportUnreachable(uint64_t id);

  bool HasReady() const;
  // The pending work (see ready.h). REQUIRES: the previous Ready was Advanced.
  Ready GetReady();
  // Acknowledges that `rd` was persisted, sent and applied.
  void Advance(const Ready& rd);

  NodeStatus GetStatus() const;
  // Read-only access to the log for inspection (SimCluster.log()): entries
  // [lo, hi) from stable and unstable storage.
  Result<std::vector<Entry>> LogEntries(uint64_t lo, uint64_t hi) const;
  Result<uint64_t> LogTerm(uint64_t i) const;
  uint64_t id() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> r);
  bool HasPendingReady() const;

  std::unique_ptr<Raft> raft_;
  RejectedMessages rejected_;
  SoftState prev_soft_;
  HardState prev_hard_;
};

}  // namespace tinykv::raft
