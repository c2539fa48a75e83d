// ReplicaImpl: the state and the methods of a Replica (replica.h), shared by
// the files that implement it, one concern each:
//   replica.cc            Open/Init, bootstrap, ticks, status, transfer, faults, Stop
//   ready_loop.cc         HandleReady (persist -> send -> apply -> reads -> Advance), apply
//   proposals.cc          Propose, the proposal envelope, completion, deadlines
//   read_barrier.cc       ReadBarrier and read completion
//   membership_change.cc  ProposeMemberChange, validation, conf change apply, address book
//   snapshots.cc          making, serving, fetching and installing snapshots
//   hash_check.cc         the state hash check (hash_check.h): control entries,
//                         hashing, comparing, the CORRUPT alarm
//   slow_warnings.cc      etcd's latency warnings (slow_warnings.h) and the
//                         apply-duration histogram
//
// Threads. The driver thread (io_) owns the RawNode, the DiskStorage writes,
// the state machine's writes and every member marked "driver". Host io
// threads call the GroupEndpoint methods, which only post to the driver
// (snapshot fetches run on a host thread, touching only the snap/ dir).
// State hashes are computed on the hash thread (hash_thread_, started with
// the first check entry). Other threads read the atomics and the
// mutex-guarded members.
#pragma once

#include <random>
#include <utility>  // before Asio

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tinykv/common/latency_histogram.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/random.h"
#include "tinykv/common/routing_error.h"
#include "tinykv/net/asio.h"
#include "tinykv/raft/raw_node.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/hash_check.h"
#include "tinykv/replica/replica.h"
#include "tinykv/replica/slow_warnings.h"

namespace tinykv::replica::internal {

namespace asio = net::asio;

// The name of the snapshot directory for (index, term) under snap/: "<index>-<term>".
std::string SnapshotName(uint64_t index, uint64_t term);

class ReplicaImpl final : public Replica, public GroupEndpoint {
 public:
  ReplicaImpl(ReplicaOptions o, PeerHost* host, std::unique_ptr<StateMachine> sm);
  ~ReplicaImpl() override { Stop(); }

  Status Init();

  // Replica.
  void Propose(std::string command, std::chrono::milliseconds timeout,
               std::function<void(Result<std::string>)> done) override;
  void ProposeMemberChange(MemberChange change, std::chrono::milliseconds timeout,
                           std::function<void(Result<MemberChangeResult>)> done) override;
  void ReadBarrier(std::chrono::milliseconds timeout, std::function<void(Status)> done) override;
  void CheckpointCopy(std::function<void(Result<StateCheckpoint>)> done) override;
  void CheckStateHash(std::chrono::milliseconds timeout,
                      std::function<void(Result<HashCheckReport>)> done) override;
  Status Alarm() const override;
  void DisarmNoSpace(std::function<void(Status)> done) override;
  ReplicaStatus GetStatus() override;
  StateMachine& state_machine() override { return *sm_; }
  uint64_t group() const override { return opts_.group; }
  uint64_t id() const override { return id_; }
  Status WriteRefusal() const override {
    std::lock_guard<std::mutex> l(state_mu_);
    return refusal_;
  }
  uint64_t leader_term() const override {
    // term_ and role_ are stored one after the other: a term read on both
    // sides of the role is the term that role was held in.
    const uint64_t t = term_.load();
    if (static_cast<raft::StateRole>(role_.load()) != raft::StateRole::kLeader) return 0;
    return term_.load() == t ? t : 0;
  }
  uint64_t term() const override { return term_.load(); }
  Status TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) override;
  void SetDroppedPeers(std::set<uint64_t> peers) override;
  void SetDropProbability(double p) override;
  void Stop() override;

  // GroupEndpoint (host io threads).
  void OnMessages(uint64_t from, std::vector<raft::Message> msgs) override;
  net::awaitable<Status> OnSnapshotMessage(raft::Message msg) override;
  Result<std::filesystem::path> SnapshotFiles(uint64_t index, uint64_t term) override;
  Env* env() override { return env_; }
  void OnUnreachable(uint64_t to) override;
  void OnSnapshotSent(uint64_t to, bool failed) override;
  Result<StateHashResponse> OnStateHash(uint64_t from, const StateHashRequest& req) override;
  void OnStateHashAnswer(uint64_t to, const StateHashRequest& req,
                         Result<StateHashResponse> answer) override;

 private:
  using Micros = uint64_t;  // clock time (Clock::NowMicros)

  struct PendingProposal {
    std::function<void(Result<std::string>)> done;
    Micros deadline = 0;
    uint64_t index = 0;  // 0 until its entry is appended locally
  };
  struct PendingRead {
    std::function<void(Status)> done;
    Micros deadline = 0;
    uint64_t index = 0;
    bool confirmed = false;
  };
  using CheckDone = std::function<void(Result<HashCheckReport>)>;
  // One state hash check this leader runs (hash_check.cc).
  struct CheckRun {
    uint64_t min_index = 0;  // its check entry is at or after this index
    uint64_t index = 0;      // the check entry it compares (0: not applied here yet)
    Micros deadline = 0;
    std::set<uint64_t> members;  // every member of the configuration, this one included
    std::set<uint64_t> asking;   // a request in flight
    std::map<uint64_t, Micros> ask_again;  // answered "pending" (or failed): when to ask again
    std::map<uint64_t, std::string> failures;  // the last failed ask of a member
    HashCheckReport report;
    std::vector<CheckDone> waiters;
  };
  // This replica's hash at a check entry: computing (!done), or its outcome.
  struct KeptHash {
    bool done = false;
    Status status;
    uint64_t hash = 0;
  };
  struct HashTask {
    uint64_t index = 0;
    StateMachine::HashJob job;
  };

  // replica.cc (driver unless noted)
  Status BootstrapLog();
  void ArmTimer();
  void OnTimer();
  void ScheduleReady();
  // The tick timer is late by a tick or more (a stalled driver): the core's
  // tick count lags the clock, which lease reads must not trust.
  bool TicksLate(Micros now) const {
    return now - last_tick_ >= 2 * static_cast<Micros>(opts_.tick_ms) * 1000;
  }
  Micros DeadlineAfter(std::chrono::milliseconds timeout) const;
  // The routing detail of a NotLeader answer (any thread).
  RoutingError LeaderHint() const;
  Status NotLeader() const { return NotLeaderError(LeaderHint()); }
  // Opens the Raft log and restarts the core from it (replica.cc).
  Status OpenLog();
  // Stops the replica on a disk error (see replica.h "Failing safe").
  void Fail(const Status& s, const std::string& what);
  // The NOSPACE alarm's disarm (replica.h "Failing safe"), on the driver:
  // probes the disk, then reopens the state machine and the log in place.
  Status DisarmNoSpaceOnDriver();
  bool DiskTakesWrites();
  Status ResumeAfterFullDisk();
  // Runs body(done) on the driver thread if the replica is running, healthy
  // and leader there; otherwise completes `done` with Cancelled, the disk
  // error, or NotLeader. The preamble of every call only a leader serves.
  template <typename Done, typename Body>
  void OnDriverAsLeader(Done done, Body body);
  // Posts `fn` to the driver unless the replica stopped (any thread).
  template <typename Fn>
  bool PostToDriver(Fn fn);
  bool DropFromTo(uint64_t peer);  // REQUIRES: fault_mu_ held
  // The other voter with the highest match index (leader; 0: none).
  uint64_t MostCaughtUpVoter(const raft::NodeStatus& ns) const;
  // Counts and (rate-limited) logs a message the core refused (driver).
  void NoteRejected(const raft::Message& m, const Status& why);

  // ready_loop.cc
  void HandleReady();
  // false: the replica failed (the Ready must not be advanced).
  bool Persist(const raft::Ready& rd);
  void Send(std::vector<raft::Message> msgs);
  bool ApplyEntries(const std::vector<raft::Entry>& ents);
  // A normal entry that is not a proposal (a no-op or a control entry); *pid = 0.
  bool ApplyNormal(const raft::Entry& e, uint64_t* pid);
  static bool ParseEnvelope(const raft::Entry& e, uint64_t* pid, Slice* body);
  bool ApplyRun(const std::vector<CommittedCommand>& run, const std::vector<uint64_t>& pids);

  // proposals.cc
  void TrackAppended(const std::vector<raft::Entry>& ents);
  void CompleteApplied(uint64_t index, uint64_t pid, Result<std::string> result);
  void SweepTimeouts();
  void CancelAll(const Status& why);

  // read_barrier.cc
  void IssueReads();
  void OnReadStates(const raft::Ready& rd);
  void CompleteReads();

  // membership_change.cc
  Result<raft::ConfChangeV2> CheckMemberChange(const MemberChange& ch);
  void ValidateAndPropose(MemberChange ch, Micros deadline,
                          std::function<void(Result<MemberChangeResult>)> done);
  // The strict reconfiguration check of a voter add (membership.h).
  struct StartedVotersCheck;
  void CheckStartedVoters(std::shared_ptr<StartedVotersCheck> check);
  bool ApplyConfChangeEntry(const raft::Entry& e, uint64_t* pid, Result<std::string>* result);
  // Adopts the replicated address book: fills unknown peer addresses in the
  // host (and `fresh_id`'s, the member a conf change just added, always).
  void AdoptAddressBook(const AddressBook& book, uint64_t fresh_id);
  std::vector<MemberInfo> Members() const;

  // hash_check.cc (driver unless noted)
  // The refusal of a proposal or read while this replica must not serve
  // (CORRUPT, or as leader before its startup check), or OK.
  Status ServingRefusal() const;
  // A control entry (proposal id 0): applied as a no-op, then acted on.
  bool ApplyControl(const raft::Entry& e, Slice body);
  Status LoadAlarm();  // Init: the alarm a previous run persisted
  void OnCheckEntryApplied(uint64_t index);
  void HashLoop();  // the hash thread
  void OnOwnHash(uint64_t index);
  void StartCheck(std::vector<CheckDone> waiters, Micros deadline);
  void BindCheck(uint64_t index);
  void AskPeers();
  void OnAnswer(uint64_t to, const StateHashRequest& req, Result<StateHashResponse> answer);
  void MaybeDecide(bool deadline_passed);
  void Decide();
  void OnVerdict(uint64_t from, const StateHashRequest& req);
  void EndCheck(const Status& why);  // fails the run in flight and those queued
  // Per poll: deadlines and retries of the run, periodic/startup checks, a
  // follower's startup request, a CORRUPT leader handing leadership away.
  void DriveHashChecks();
  void OnRoleChange(bool leader);
  void RaiseAlarm(const std::string& alarm);
  void ClearAlarm(const std::string& why);
  void StopHashThread();  // Stop (any thread but the hash thread)
  Micros HashRetryMicros() const;

  // slow_warnings.cc (driver)
  // One run of entries [first, last] applied in one ApplyBatch.
  void ObserveApply(uint64_t first, uint64_t last, uint64_t term, uint64_t took_micros);
  void ObserveHeartbeats(const std::vector<raft::Message>& msgs);
  void OnLeaderSeen(uint64_t from, uint64_t to);

  // snapshots.cc
  // Removes what a crash left of snapshots being made, fetched or installed.
  void RemovePartialSnapshots();
  void MaybeSnapshot(bool force = false);
  bool InstallSnapshot(const raft::Snapshot& snap);
  Status InstallFromDir(const std::filesystem::path& dir);
  std::filesystem::path SnapDir() const { return opts_.dir / "snap"; }
  uint64_t backup_seq_ = 0;  // names CheckpointCopy's directories (driver)

  const ReplicaOptions opts_;
  PeerHost* const host_;
  const uint64_t id_;
  std::unique_ptr<StateMachine> sm_;
  Clock* const clock_;
  Env* const env_;
  std::shared_ptr<spdlog::logger> log_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  std::thread thread_;
  // Swapped only by the driver (recovery), under storage_mu_; GetStatus,
  // from any thread, reads it under storage_mu_.
  std::shared_ptr<DiskStorage> storage_;
  mutable std::mutex storage_mu_;
  std::unique_ptr<raft::RawNode> raw_;
  bool registered_ = false;

  // Driver-thread state.
  bool ready_scheduled_ = false;
  bool stopping_ = false;
  Status failed_;  // non-OK: stopped on this disk error
  uint64_t epoch_ = 0;
  uint64_t next_pid_ = 1;
  uint64_t next_read_ = 1;
  std::unordered_map<uint64_t, PendingProposal> proposals_;
  std::map<uint64_t, uint64_t> index_to_pid_;
  std::map<std::string, PendingRead> reads_;
  // Read barriers not yet handed to the core, and the ReadIndex requests in
  // flight (their context -> the barriers each one confirms): one request,
  // hence one heartbeat round, per Ready serves every barrier that arrived
  // before it (read_barrier.cc).
  std::vector<std::string> unissued_reads_;
  std::map<std::string, std::vector<std::string>> read_batches_;
  uint64_t snap_index_ = 0;
  Micros last_tick_ = 0;
  Micros full_disk_since_ = 0;
  // Counters of the DiskStorage instances before the current one.
  uint64_t log_fsyncs_before_ = 0, log_entries_before_ = 0;
  // The state hash check (hash_check.cc).
  std::optional<CheckRun> check_;       // the run in flight (leader)
  std::vector<CheckDone> next_waiters_; // callers waiting for the next run
  Micros next_deadline_ = 0;            // ... and the latest of their deadlines
  bool check_requested_ = false;        // a started member asked for a check
  Micros last_check_start_ = 0;         // periodic checks count from here
  Micros next_startup_try_ = 0;         // startup check: next run / request
  bool verified_ = false;   // a check found this state equal to the majority's since start
  bool compared_ = false;   // a verdict about this replica arrived since start
  Micros next_transfer_try_ = 0;        // CORRUPT leader: next leadership transfer

  // Observed from any thread. stopped_ is set under post_mu_, and requests
  // are posted under it, so none is posted after Stop drained the queue.
  std::mutex post_mu_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> fetching_{false};  // a snapshot fetch is running
  std::atomic<uint64_t> leader_{0}, term_{0}, commit_{0}, applied_{0}, ticks_{0}, rejected_{0};
  std::atomic<int> role_{0};
  // Monitoring counters (ReplicaStatus); last_seen_leader_ is driver state.
  std::atomic<uint64_t> proposals_pending_{0}, proposals_failed_{0}, leader_changes_{0};
  uint64_t last_seen_leader_ = 0;
  // Latencies (ReplicaStatus, /metrics): every fdatasync of the Raft log
  // (DiskStorage observes it; kept across reopened storages) and every
  // state machine command's apply. heartbeat_detector_ is driver state.
  LatencyHistogram wal_fsync_, backend_commit_;
  TimeoutDetector heartbeat_detector_{
      std::chrono::microseconds(int64_t{2} * opts_.heartbeat_ticks * opts_.tick_ms * 1000)};
  mutable std::mutex state_mu_;
  raft::ConfState conf_;  // the applied configuration
  AddressBook book_;      // the replicated address book (copy of the state machine's)
  std::string error_;     // failed_, for status readers
  Status refusal_;        // failed_ itself, for WriteRefusal
  std::string alarm_;     // non-empty: CORRUPT (hash_check.h); mirrored by corrupt_
  std::atomic<bool> corrupt_{false};
  std::atomic<bool> nospace_{false};  // the NOSPACE alarm: raised by Fail, cleared by a disarm
  std::atomic<uint64_t> verified_index_{0};  // the last check that found this state right

  // This replica's hashes at the last kKeptStateHashes check entries.
  mutable std::mutex hash_mu_;
  std::map<uint64_t, KeptHash> hashes_;
  // The hash thread and its queue.
  std::mutex hash_jobs_mu_;
  std::condition_variable hash_jobs_cv_;
  std::deque<HashTask> hash_jobs_;
  bool hash_stop_ = false;
  std::atomic<bool> hash_cancel_{false};
  std::thread hash_thread_;

  mutable std::mutex fault_mu_;
  std::set<uint64_t> dropped_;
  double drop_p_ = 0;
  Random rng_;  // under fault_mu_ after construction
};

template <typename Fn>
bool ReplicaImpl::PostToDriver(Fn fn) {
  std::lock_guard<std::mutex> guard(post_mu_);
  if (stopped_) return false;
  asio::post(io_, std::move(fn));
  return true;
}

template <typename Done, typename Body>
void ReplicaImpl::OnDriverAsLeader(Done done, Body body) {
  std::unique_lock<std::mutex> guard(post_mu_);
  if (stopped_) {
    guard.unlock();
    done(Status::Cancelled("replica stopped"));
    return;
  }
  asio::post(io_, [this, done = std::move(done), body = std::move(body)]() mutable {
    if (stopping_) {
      done(Status::Cancelled("replica stopped"));
      return;
    }
    if (!failed_.ok()) {
      done(failed_);
      return;
    }
    if (role_ != static_cast<int>(raft::StateRole::kLeader)) {
      done(NotLeader());
      return;
    }
    body(std::move(done));
  });
}

}  // namespace tinykv::replica::internal
