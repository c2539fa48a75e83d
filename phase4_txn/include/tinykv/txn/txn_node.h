// TxnNode: one member of a replicated group over the MVCC state machine --
// the node tinykv-server runs. It is a replica::KvNode (so the client
// service, the server and the in-process clusters drive it as they drive
// the plain KV node), plus the timestamp oracle (tso.h) and the
// transaction commands (txn_command.h) for clients that run Percolator
// transactions.
//
// The plain KV API on MVCC. Propose(KvCommand) takes a commit timestamp
// from the oracle and proposes a KvWriteCmd (put, delete, cas,
// delete-range, with exactly-once retries) that commits in one step at it;
// its result carries that timestamp as the write's revision. A refusal with
// kWriteConflict means another write to the key took a newer timestamp
// first (proposals from several threads can enter the log out of timestamp
// order); the node retries with a fresh timestamp, a few times. A refusal
// with kLocked (a transaction holds the key) is returned as KeyErrorStatus
// (key_error.h), for the client to resolve the lock and retry.
//
// Reads at a timestamp, and the writes in flight. A write's timestamp is
// handed out before its entry applies, so a read at ts could miss a write
// with a smaller timestamp that applies just after it -- and a second read
// at the same ts would then see it: no snapshot at all (a transaction that
// read the key at its start_ts could overwrite the write without a
// conflict: a lost update). The node therefore records the timestamp of
// every kv-write it proposes, under the same lock that hands it out, until
// that write's fate is known here (it applied, whatever its outcome, or it
// was refused before entering the log, or this node's term ended: a new
// leader applies every entry of earlier terms before it serves a read).
// WaitForWrites(ts) completes once no recorded write is below ts (NotLeader
// if the term ends meanwhile, Timeout at its deadline); every read at a
// timestamp waits for it first (TiKV's concurrency manager does
// the same with in-memory locks). Transaction commits need no such record:
// their locks are applied before the commit timestamp is taken, and a
// reader meets the lock.
//
// Watches. The node owns a WatchHub (watch_hub.h) fed by the state
// machine's version observer, whose resolved timestamp reads the oracle,
// the record of writes in flight (lowest_write_in_flight) and the state
// machine's lock index; the client service serves watch streams from it.
//
// Compaction, as etcd's: Compact(R) drops the history a read at R or later
// does not see (GC at safe point R, one Raft command), after which reads
// below R and watches from R or below fail with a compacted error
// (watch_error.h). Leader only; R must be above the compacted revision and
// not in the future; the command is proposed once every write this leader
// handed a timestamp below R has applied (WaitForWrites), so no version
// below R is written after GC passed over it. Defragment compacts this
// member's engine (MvccStateMachine::Defragment) on a thread of the node's.
//
// Leases (lease.h), as etcd's lessor: the leader owns expiry (lessor.h).
// LeaseGrant picks a random nonzero id when asked for 0 (an existing id is
// refused: AlreadyExists); the deadline is now + ttl on the node's clock
// (KvNodeOptions::clock), and again on each LeaseKeepAlive. A node that
// becomes leader gives every lease now + ttl + lease_extend_ms, so a leader
// change never makes a lease expire earlier. A lessor thread proposes a
// lease-revoke for each expired lease, at a fresh timestamp from the
// oracle, and retries it while it fails. Keep-alive, time-to-live and the
// list are the leader's (NotLeader elsewhere); a missing lease is
// NotFound(kLeaseNotFoundMessage), as etcd says it -- Unavailable instead
// while a new leader has not applied an entry of its term (a grant of an
// earlier term may still be unapplied here). ProposeKvWrite with a lease
// is a put (or cas) attaching its key.
//
// Thread safety: as KvNode. Callbacks run on the replica's driver thread,
// or on the caller's thread when the answer is known at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tinykv/replica/kv_node.h"
#include "tinykv/common/clock.h"
#include "tinykv/txn/lessor.h"
#include "tinykv/txn/mvcc_hash.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/mvcc_state_machine.h"
#include "tinykv/txn/tso.h"
#include "tinykv/txn/txn_command.h"
#include "tinykv/txn/watch_hub.h"

namespace tinykv::txn {

struct TxnNodeOptions {
  TsoOptions tso;                // window sizes; the clock defaults to the node's
  int tso_reserve_timeout_ms = 3000;
  int kv_write_attempts = 5;     // proposals of one KV write before kWriteConflict is returned
  WatchHubOptions watch;
  // Leases (lessor.h): what a new leader adds to every lease's TTL (-1:
  // the election timeout, election_ticks * tick_ms, as etcd), and how
  // often (wall time) the leader looks for expired leases.
  int lease_extend_ms = -1;
  int lease_check_ms = 10;
};

// Answers of the lease calls.
struct LeaseGrantResult {
  uint64_t id = 0;
  uint64_t ttl_s = 0;
};
// etcd's options of a put (or delete) beyond the KvCommand, and the answer
// with them (ProposeKvWrite).
struct KvWriteOptions {
  uint64_t lease = 0;    // put, cas: attach the key (0: detach it)
  bool prev_kv = false;  // answer each written key's version before the write
  // The client request's trace id (common/trace_id.h), carried in the entry
  // (KvWriteCmd::trace_id) so that every member logs it as it applies; 0 =
  // none. The node carries it only when its "txn" logger logs debug lines:
  // untraced entries keep their bytes, and a node at a lower level has no
  // use for it.
  uint64_t trace_id = 0;
};
struct KvWriteResult {
  replica::KvCommandResult kv;  // revision = the write's commit ts
  std::vector<PrevKv> prev_kvs;  // with prev_kv (TxnCommandResult::prev_kvs)
  bool prev_kvs_truncated = false;
};
struct CompactResult {
  uint64_t revision = 0;  // the compacted revision now in force here
  uint64_t removed = 0;   // version and rollback records GC removed
};
struct LeaseRevokeResult {
  uint64_t revision = 0;  // the commit ts of the deletes
  uint64_t deleted = 0;   // keys deleted
};
struct LeaseTimeToLiveResult {
  uint64_t id = 0;
  uint64_t granted_ttl_s = 0;
  uint64_t remaining_s = 0;        // whole seconds left (0 once past the deadline)
  std::vector<std::string> keys;   // when asked for, in key order
};

class TxnNode final : public replica::ReplicaKvNode {
 public:
  // As KvNode::Open, with the MVCC state machine in the group dir's mvcc/.
  [[nodiscard]] static Result<std::unique_ptr<TxnNode>> Open(const replica::KvNodeOptions& options,
                                                             const TxnNodeOptions& txn = {});
  ~TxnNode() override;

  // ---- the plain KV API (replica::KvNode) ----
  void Propose(replica::KvCommand cmd, std::chrono::milliseconds timeout,
               std::function<void(Result<replica::KvCommandResult>)> done) override;
  // The newest committed value (a read at the largest timestamp, waiting
  // for nothing: for serializable and test reads). Conflict
  // (KeyErrorStatus) when a transaction's lock is on the key.
  Result<std::optional<std::string>> Get(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                const std::string& end,
                                                                size_t limit) override;

  // ---- timestamps and transactions ----
  // `count` consecutive timestamps from the oracle (Tso::GetTimestamps):
  // NotLeader on a follower. May block for one reservation round.
  Result<uint64_t> GetTimestamps(uint32_t count);
  // A transaction command a client sends: prewrite, commit, rollback,
  // check-txn-status, resolve-lock, heartbeat. InvalidArgument for the
  // others (the oracle's reservations, GC and KV writes are the node's
  // own) and for a command ValidateTxnCommand refuses.
  void ProposeTxn(TxnCommand cmd, std::chrono::milliseconds timeout,
                  std::function<void(Result<TxnCommandResult>)> done);
  // GC below `safe_point` (GcCmd; txn_executor.h), through Raft, leader
  // only: versions a read at or above it does not see go, and the state
  // machine records the safe point (a watch cannot start at or below it).
  // The hook Compact is built on; no client command sends it.
  void ProposeGc(uint64_t safe_point, std::chrono::milliseconds timeout,
                 std::function<void(Result<TxnCommandResult>)> done);
  // Compaction at `revision` (the header comment). InvalidArgument for 0,
  // a revision in the future, or one at or below the compacted revision
  // (with the kCompacted detail); NotLeader on a follower.
  void Compact(uint64_t revision, std::chrono::milliseconds timeout,
               std::function<void(Result<CompactResult>)> done);
  // The compacted revision as applied here (0: never compacted).
  uint64_t compacted_revision() const { return sm_->compacted_revision(); }
  // Defragments this member's engine on the node's member-job thread;
  // `done` runs there. Unavailable (kMemberJobRunning) while a
  // defragmentation or a hash runs on this member.
  void Defragment(std::function<void(Result<MvccStateMachine::DefragmentResult>)> done);
  // This member's hash of its key space as of `revision` (mvcc_hash.h; 0:
  // every version applied here), on the member-job thread; `done` runs
  // there. InvalidArgument for a revision above the oracle's reservation
  // applied here (in the future), the compacted error below the compacted
  // revision; Unavailable (kMemberJobRunning) while a defragmentation or
  // another hash runs, or while the member is CORRUPT.
  void HashKv(uint64_t revision, std::function<void(Result<KvHash>)> done);
  static constexpr const char* kMemberJobRunning =
      "a defragmentation or hash is already running on this member";
  // `done(OK)` once every kv-write this node handed a timestamp below `ts`
  // has applied or failed (see the header comment); Timeout at the
  // deadline.
  void WaitForWrites(uint64_t ts, std::chrono::milliseconds timeout,
                     std::function<void(Status)> done);
  // Snapshot reads of the applied state at ts (mvcc_reader.h): call after
  // ReadBarrier and WaitForWrites(ts) for a linearizable snapshot.
  Result<ReadResult> GetAt(const std::string& key, uint64_t ts);
  Result<ScanResult> ScanAt(const std::string& start, const std::string& end, uint64_t ts,
                            size_t limit);

  // Kv-writes with a timestamp whose fate is not known yet (tests, metrics).
  size_t writes_in_flight();
  // The lowest of their timestamps; kMaxTs when there is none.
  uint64_t lowest_write_in_flight();

  // The node's watch streams (watch_hub.h).
  WatchHub& watch_hub() { return *watch_hub_; }

  // ---- leases (lease.h; the comment at the top) ----
  void LeaseGrant(uint64_t id, uint64_t ttl_s, std::chrono::milliseconds timeout,
                  std::function<void(Result<LeaseGrantResult>)> done);
  void LeaseRevoke(uint64_t id, std::chrono::milliseconds timeout,
                   std::function<void(Result<LeaseRevokeResult>)> done);
  // The lease's TTL after the renewal.
  Result<uint64_t> LeaseKeepAlive(uint64_t id);
  Result<LeaseTimeToLiveResult> LeaseTimeToLive(uint64_t id, bool keys);
  // Every lease's id, in order.
  Result<std::vector<uint64_t>> Leases();
  // The leases in this member's state machine, as applied here (any member;
  // Leases() is the leader's answer).
  size_t applied_lease_count() const { return sm_->lease_count(); }
  // How many passes the lessor thread made (tests wait on it to know that
  // it has looked at the clock since they moved it).
  uint64_t lessor_checks();
  // A KV write with etcd's put options: a put or cas attaching its key to
  // options.lease, and/or with options.prev_kv the keys' versions before it
  // in the answer. Propose is this with no options.
  void ProposeKvWrite(replica::KvCommand cmd, KvWriteOptions options,
                      std::chrono::milliseconds timeout,
                      std::function<void(Result<KvWriteResult>)> done);

 private:
  struct Waiter {
    uint64_t ts;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(Status)> done;
  };

  TxnNode(replica::ReplicaParts parts, const TxnNodeOptions& txn, tinykv::Clock* clock,
          uint64_t node_id);
  // Hands out a timestamp and records it in flight, in one step.
  Result<uint64_t> BeginWrite();
  // The write at ts is applied, refused, or can no longer apply later.
  void EndWrite(uint64_t ts);
  // REQUIRES: mu_ held. If `term` is not the term of the records, drops
  // them and starts `term`'s; true when it did.
  bool EnterTermLocked(uint64_t term);
  // One attempt of a KV write; retries on kWriteConflict.
  void ProposeKvWriteAttempt(std::shared_ptr<replica::KvCommand> cmd, KvWriteOptions options,
                             std::chrono::steady_clock::time_point deadline, int attempts_left,
                             std::function<void(Result<KvWriteResult>)> done);
  // Leases (txn_node_lease.cc). One attempt of a revoke; retries on
  // kWriteConflict with a newer timestamp, as ProposeKvWrite.
  void ProposeRevoke(uint64_t id, std::chrono::steady_clock::time_point deadline,
                     int attempts_left, std::function<void(Result<LeaseRevokeResult>)> done);
  void ProposeGrant(uint64_t id, bool random_id, uint64_t ttl_s,
                    std::chrono::steady_clock::time_point deadline, int attempts_left,
                    std::function<void(Result<LeaseGrantResult>)> done);
  // Runs `job` on the member-job thread, then, once the next job may
  // start, the answer it returned; false when one runs already.
  bool StartMemberJob(std::function<std::function<void()>()> job);
  // Queues `fn` for the reaper thread (never the driver's); false when stopping.
  bool QueueRetry(std::function<void()> fn);
  // REQUIRES: lease_mu_ held. Brings the lessor to this node's leadership
  // (promote on a new term, sync in the same one, demote when not leading);
  // false when not the leader.
  bool SyncLessorLocked(uint64_t now_us);
  uint64_t RandomLeaseIdLocked();
  // NotFound for a lease this leader does not know -- or Unavailable while
  // it has not applied an entry of its term (it may not know it yet).
  Status NotFoundOrNotCaughtUp();
  // The lessor thread: expired leases revoked, every lease_check_ms.
  void RunLessor();
  // Completes the waiters no write below their ts holds up, and those past
  // their deadline. REQUIRES: mu_ NOT held (callbacks run outside it).
  void ReleaseWaiters();
  // The reaper thread's loop (ReleaseWaiters every few ms while any wait).
  void ReapWaiters();

  const TxnNodeOptions options_;
  MvccStateMachine* sm_;  // owned by the replica
  Tso tso_;
  // Held while a timestamp is handed out and, for a write, recorded in
  // flight (so that one handed out later finds the record). Held across
  // the oracle's window reservation, a Raft proposal that must apply: so
  // never taken on the apply path. Taken before mu_.
  std::mutex ts_mu_;
  // Guards the records and waiters below; never held across a blocking call.
  std::mutex mu_;
  uint64_t in_flight_term_ = 0;               // the leader term the records below belong to
  std::set<uint64_t> in_flight_;              // timestamps of kv-writes not known applied
  std::vector<Waiter> waiters_;
  // KV writes to propose again with a newer timestamp, run by the reaper.
  std::deque<std::function<void()>> retries_;
  bool stopping_ = false;
  std::condition_variable reaper_cv_;
  std::thread reaper_;
  // The thread of Defragment and HashKv, one job at a time (joined before
  // the next one starts, and at the end).
  std::mutex job_mu_;
  bool job_running_ = false;
  std::thread job_thread_;
  std::unique_ptr<WatchSource> watch_source_;
  std::unique_ptr<WatchHub> watch_hub_;

  // Leases: the lessor and the leadership term it was promoted in (0: not
  // leading), guarded by lease_mu_ (never held across a blocking call; the
  // driver takes it in callbacks).
  Clock* const clock_;
  std::mutex lease_mu_;
  Lessor lessor_;
  uint64_t lessor_term_ = 0;
  uint64_t lessor_checks_ = 0;
  uint64_t lessor_table_version_ = 0;  // the state machine's table version last synced
  std::mt19937_64 lease_rng_;
  const uint64_t node_id_;                    // for the log lines
  std::shared_ptr<spdlog::logger> trace_log_;  // "txn": traced writes (KvWriteOptions::trace_id)
  bool lessor_stopping_ = false;
  std::condition_variable lessor_cv_;
  std::thread lessor_thread_;
};

}  // namespace tinykv::txn
