// tinykv::replica::Replica — one member of one Raft group, over any
// StateMachine: the real node that phase 4 (ranges) and phase 5 (the
// service) build on.
//
// What it is. A Replica drives one pure Raft core (raft::RawNode) on its own
// driver thread (an io_context run by one thread: a strand by
// construction), with a durable Raft log (DiskStorage, doc/log_format.md),
// and talks to the other members through the process's PeerHost. Per Ready
// (raft/ready.h contract): persist (snapshot, entries + hard state with ONE
// fdatasync) -> send -> install a snapshot and apply committed entries ->
// complete read barriers -> Advance.
//
// File tour (src/replica/): replica.cc (open, bootstrap, ticks, status,
// leadership transfer, stop), ready_loop.cc (the Ready loop and apply),
// proposals.cc (the proposal envelope and its completion), read_barrier.cc,
// membership_change.cc (member changes and the address book),
// snapshots.cc (make, serve, fetch, install), hash_check.cc (the state hash
// check), peer_host.cc (transport).
//
// Proposals. The replica owns the proposal envelope: an entry's data is
//   fixed64 proposal id | command
// (doc/message_format.md "Proposal envelope"), so the proposing replica
// recognises its own entries when they apply; the state machine sees only
// the command. A proposal completes once, with the state machine's result
// when its entry applied here, or with NotLeader (a follower; typed routing
// detail, routing_error.h), Timeout at the deadline (outcome unknown!),
// Aborted (its index was taken by another leader's entry), Busy /
// ResourceExhausted (the uncommitted tail is full), Cancelled (Stop), or
// Unavailable after a disk error stopped the replica (below).
//
// Failing safe on disk errors. If persisting the log or applying an entry
// fails, the replica stops: it sends and acknowledges nothing more (its peers
// elect another leader), fails every pending proposal and read and refuses
// new ones with Unavailable naming the disk error (clients retry elsewhere;
// the outcome of a write pending at that moment is unknown), and reports the
// error in GetStatus().error and one error log line; local reads of the
// state machine keep working. A restart recovers from what is durable. A
// full disk (ResourceExhausted, ENOSPC) raises the NOSPACE alarm instead
// (etcd's name; GetStatus().nospace): the replica answers ResourceExhausted
// ("NOSPACE alarm: no space left ...") and stays stopped, as etcd does,
// until an operator has freed space and disarms it (DisarmNoSpace): then it
// probes the disk (a 1 MiB write + fsync), reopens the state machine
// (StateMachine::Reopen) and the Raft log and restarts its core from them --
// what a restart would do, without one. Nothing of the Ready that failed had
// left the process. The alarm is this member's own (its disk filled, not the
// others'): while a majority has room the group goes on without it. It is
// not persisted -- a restart clears it like a disarm, and raises it again
// at the first write that finds the disk full. After EIO or a failed fsync
// the page cache may have lost acknowledged-looking data, so only an
// operator's restart resumes.
//
// State hash check (hash_check.h). The leader can compare the members'
// state machines at one log index (CheckStateHash; periodically and at
// start with the options below). A member whose state differs from the
// majority's is CORRUPT: it refuses proposals and reads with Unavailable
// naming the mismatch (Alarm(), GetStatus().alarm), hands leadership away,
// and keeps taking part in Raft.
//
// Time. Ticks and deadlines come from the Clock in the options (Clock::Real
// by default): the driver polls it and ticks once per tick_ms of clock time
// (at most one tick per poll, so a stalled driver does not fire a burst of
// ticks). With a ManualClock a test moves time itself.
//
// Thread safety: every public method is thread-safe. Callbacks (`done`) run
// on the driver thread: they must be quick and must not block on this
// replica (never call a *Sync method, TransferLeadership or Stop from one).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "tinykv/common/clock.h"
#include "tinykv/common/env.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"
#include "tinykv/replica/hash_check.h"
#include "tinykv/replica/membership.h"
#include "tinykv/replica/peer_host.h"
#include "tinykv/replica/replica_status.h"
#include "tinykv/replica/slow_warnings.h"
#include "tinykv/replica/state_machine.h"

namespace tinykv::replica {

struct ReplicaOptions {
  uint64_t group = 1;
  // The replica's own directory: raft/ (the log) and snap/ (snapshots). The
  // state machine keeps its files where it likes (KvNode: dir/kv).
  std::filesystem::path dir;
  // Initial members incl. this node: id -> peer address. An empty log is
  // bootstrapped with them (unless join_existing). The node id is the
  // PeerHost's.
  std::map<uint64_t, std::string> peers;
  // Which address wins at Open for a member that both `peers` and the
  // replicated address book (membership.h) name. false: `peers` (harnesses
  // that restart members on new ports and pass the new ones). true: the
  // book, as etcd ignores --initial-cluster once a member has state -- a
  // member restarted with its original command line must not undo a member
  // update that moved a peer; `peers` then only fills addresses the book
  // lacks. Addresses set later (PeerHost::SetAddress) win either way.
  bool address_book_wins = false;
  // true: an empty log is NOT bootstrapped; the replica has no configuration,
  // never campaigns, and waits for a leader to send it the log or a
  // snapshot after a ProposeMemberChange added it.
  bool join_existing = false;
  int tick_ms = 100;          // one Raft tick of clock time
  int election_ticks = 10;    // election timeout = election_ticks * tick_ms (randomized x1..2)
  int heartbeat_ticks = 1;
  uint64_t snapshot_threshold = 10000;  // applied entries between snapshots
  bool sync = true;           // fsync the raft log before acknowledging (off only for tests)
  // As leader, send appends while the own log write is in progress and count
  // the own entries only once durable (raft::Config::parallel_leader_append).
  bool parallel_leader_append = true;
  // Lease reads (raft::ReadOnlyOption::kLeaseBased): as leader, answer read
  // barriers without a heartbeat round while a quorum acknowledged messages
  // sent within the last election_ticks - 1 ticks. Assumes every member's
  // clock advances at nearly the same rate (no member's election timeout
  // passes in less real time than the leader's lease); a leader whose ticks
  // were late (a stalled driver) suspends its lease until messages sent
  // after the stall are acknowledged. Off: every barrier costs a round.
  bool lease_reads = false;
  // State hash check (hash_check.h). The leader runs one every this many
  // ms of clock time; 0 = never (tinykv-server: --corrupt-check-interval-ms).
  int hash_check_interval_ms = 0;
  // The startup check (etcd's initial corrupt check): a started replica asks
  // for a check, and as leader serves no proposal or linearizable read until
  // one found its state equal to the majority's (--initial-corrupt-check).
  bool hash_check_at_start = false;
  // How long a periodic or startup check waits for every member's hash.
  int hash_check_timeout_ms = 10000;
  Clock* clock = nullptr;     // nullptr: Clock::Real()
  // A state machine command whose apply takes longer logs "apply request
  // took too long" (slow_warnings.h; etcd's --warning-apply-duration).
  std::chrono::microseconds warn_apply_duration = kWarnApplyDuration;
  // Every durable file of the replica (its log, snapshots) goes through it;
  // nullptr: Env::Default(). Must outlive the replica.
  Env* env = nullptr;
  // Test-only: called (driver thread) with every message handed to the
  // transport (after the Ready that produced it was persisted, unless the
  // core allowed a leader's messages to go first: parallel_leader_append).
  std::function<void(const raft::Message&)> TEST_on_send;
};

// A checkpoint of the state machine made for a backup (Replica::CheckpointCopy).
struct StateCheckpoint {
  std::filesystem::path dir;  // the checkpoint's files; the caller removes it
  uint64_t index = 0;         // the applied position it holds
  uint64_t term = 0;
};

class Replica {
 public:
  // Opens (or creates) the replica's log in options.dir, restores the state
  // machine's position (installing a snapshot that was persisted but not yet
  // installed), registers the group with `host` and starts the driver.
  // `host` must outlive the replica. IOError / Corruption / InvalidArgument
  // on bad input.
  [[nodiscard]] static Result<std::unique_ptr<Replica>> Open(const ReplicaOptions& options,
                                                             PeerHost* host,
                                                             std::unique_ptr<StateMachine> sm);
  virtual ~Replica() = default;  // Stop() if still running

  // Replicates `command`; `done(result)` runs once (see the header comment).
  virtual void Propose(std::string command, std::chrono::milliseconds timeout,
                       std::function<void(Result<std::string>)> done) = 0;
  // Membership change, leader only. `done` runs once: with the new
  // configuration when the change applied here; NotLeader; Busy while
  // another conf change is pending (also right after an election until the
  // new leader applied its first entry); InvalidArgument for a malformed
  // change; AlreadyExists (add of a member), NotFound (promote/remove of a
  // non-member), InvalidArgument (promote of a voter, removal of the last
  // voter, a voter add refused by the strict reconfiguration check of
  // membership.h, answered within about one election timeout); Unavailable
  // (promote of a learner whose match index is below 90% of the leader's, as
  // etcd); Timeout / Aborted / Cancelled as for Propose.
  virtual void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                                   std::function<void(Result<MemberChangeResult>)> done) = 0;
  // Linearizable read barrier (ReadIndex): `done(OK)` once this replica is
  // confirmed leader and has applied up to the read index; local reads of
  // the state machine are then linearizable. NotLeader / Timeout otherwise.
  virtual void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) = 0;

  // Runs a state hash check now (leader only; hash_check.h): proposes a
  // check entry, compares every member's hash at its index, marks those that
  // differ from the majority CORRUPT. `done` runs once: with the report (also
  // when some members gave no hash by the deadline: report.missing);
  // NotLeader; Timeout (the check entry did not apply in time); Aborted
  // (leadership lost during the check); Cancelled. A call while a check is
  // running joins it if its entry has not applied yet, else waits for the
  // next one (so `done` may take up to about twice `timeout`).
  virtual void CheckStateHash(std::chrono::milliseconds timeout,
                              std::function<void(Result<HashCheckReport>)> done) = 0;
  // OK, or why this replica refuses to serve: Unavailable naming the hash
  // mismatch while it is CORRUPT. Thread-safe, cheap.
  virtual Status Alarm() const = 0;
  // Disarms the NOSPACE alarm (above): OK when it resumed or no alarm was
  // raised; ResourceExhausted when the disk still has no room (the alarm
  // stays); Cancelled when stopped. `done` runs once, on the driver.
  virtual void DisarmNoSpace(std::function<void(Status)> done) = 0;

  // A consistent copy of the state for a backup (`tinykv snapshot save`):
  // StateMachine::Checkpoint at the applied (index, term), made on the
  // driver between applies, into a new directory under snap/ that the
  // caller reads and then removes (one a crash leaves is removed at the next
  // start with the other partial snapshots). `done` runs once on the driver:
  // the checkpoint; Unavailable after a disk error or while CORRUPT (a
  // backup of a state known to be wrong is worse than none); Cancelled.
  virtual void CheckpointCopy(std::function<void(Result<StateCheckpoint>)> done) = 0;

  // Blocking conveniences: wait for the callbacks above.
  Result<std::string> ProposeSync(std::string command, std::chrono::milliseconds timeout);
  Result<HashCheckReport> CheckStateHashSync(std::chrono::milliseconds timeout);
  Status ReadBarrierSync(std::chrono::milliseconds timeout);
  Result<MemberChangeResult> ProposeMemberChangeSync(MemberChange change,
                                                     std::chrono::milliseconds timeout);

  virtual ReplicaStatus GetStatus() = 0;
  // The current term if this replica is the leader, else 0. Cheap (no lock,
  // no I/O): for checks made on every request, where GetStatus is too dear.
  virtual uint64_t leader_term() const = 0;
  // The current term, whatever the role. Cheap (one atomic load): for the
  // response header of every request.
  virtual uint64_t term() const = 0;
  // OK, or the error every proposal is refused with after a disk error
  // (ResourceExhausted for a full disk, until the alarm is disarmed; Unavailable
  // otherwise: "Failing safe" above). Thread-safe, cheap: for a node that
  // decides before proposing (phase 4's TxnNode takes a timestamp first).
  virtual Status WriteRefusal() const = 0;
  // The state machine (its own methods say what is safe from other threads).
  virtual StateMachine& state_machine() = 0;
  virtual uint64_t group() const = 0;
  virtual uint64_t id() const = 0;

  // Hands leadership to `to` (0 = the most caught-up voter) and waits up to
  // `timeout` for it to lead. For graceful shutdown of a leader.
  virtual Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) = 0;

  // Test-only fault injection for this group: drop all of its traffic to and
  // from these peers (replaces the previous set), and/or drop each outgoing
  // message with probability p.
  virtual void SetDroppedPeers(std::set<uint64_t> peers) = 0;
  virtual void SetDropProbability(double p) = 0;

  // Unregisters from the host, stops the driver; calls in flight get
  // Cancelled. Everything acknowledged is already durable. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace tinykv::replica
