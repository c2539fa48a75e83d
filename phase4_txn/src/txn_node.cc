// TxnNode: see txn_node.h.
#include "tinykv/txn/txn_node.h"

#include <algorithm>
#include <future>

#include "tinykv/common/check.h"
#include "tinykv/common/logging.h"
#include "tinykv/common/trace_id.h"
#include "tinykv/txn/key_error.h"
#include "tinykv/txn/lock_resolution.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/watch_error.h"
#include "txn_node_internal.h"

namespace tinykv::txn {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using internal::Left;
using internal::NeverApplies;

bool IsClientCommand(const TxnCommand& cmd) {
  return std::holds_alternative<PrewriteCmd>(cmd) || std::holds_alternative<CommitCmd>(cmd) ||
         std::holds_alternative<RollbackCmd>(cmd) ||
         std::holds_alternative<CheckTxnStatusCmd>(cmd) ||
         std::holds_alternative<ResolveLockCmd>(cmd) || std::holds_alternative<HeartbeatCmd>(cmd);
}

// What the node's watch hub reads (watch_hub.h WatchSource).
class TxnWatchSource final : public WatchSource {
 public:
  TxnWatchSource(TxnNode* node, replica::Replica* replica, MvccStateMachine* sm)
      : node_(node), replica_(replica), sm_(sm) {}
  uint64_t LeaderTerm() override { return replica_->leader_term(); }
  Status Barrier(milliseconds timeout) override { return replica_->ReadBarrierSync(timeout); }
  Result<uint64_t> Timestamp() override { return node_->GetTimestamps(1); }
  uint64_t LowestWriteInFlight() override { return node_->lowest_write_in_flight(); }
  uint64_t LowestLockStartTs() override { return sm_->lock_index().MinStartTs(); }
  std::optional<std::string> LowestLockKey() override { return sm_->lock_index().MinKey(); }
  Status ResolveLock(const LockInfo& lock, uint64_t current_ts) override {
    TINYKV_ASSIGN_OR_RETURN(TxnCommandResult st, Run(CheckStatusOf(lock, current_ts)));
    if (!st.errors.empty()) return KeyErrorStatus(st.errors.front());
    const std::optional<ResolveLockCmd> resolve = ResolutionOf(lock, st);
    if (!resolve) return Status::OK();  // its transaction lives
    return Run(*resolve).status();
  }
  Status Read(const std::function<Status(MvccReader&)>& fn) override { return sm_->Read(fn); }

 private:
  Result<TxnCommandResult> Run(TxnCommand cmd) {
    std::promise<Result<TxnCommandResult>> done;
    node_->ProposeTxn(std::move(cmd), milliseconds(2000),
                      [&done](Result<TxnCommandResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  TxnNode* const node_;
  replica::Replica* const replica_;
  MvccStateMachine* const sm_;
};

}  // namespace

Result<std::unique_ptr<TxnNode>> TxnNode::Open(const replica::KvNodeOptions& options,
                                               const TxnNodeOptions& txn) {
  TINYKV_ASSIGN_OR_RETURN(
      replica::ReplicaParts parts,
      replica::OpenReplicaParts(options, [&](const std::filesystem::path& dir)
                                             -> Result<std::unique_ptr<replica::StateMachine>> {
        TINYKV_ASSIGN_OR_RETURN(auto sm, MvccStateMachine::Open(dir / "mvcc", options.env));
        sm->set_log_node(options.id);
        return std::unique_ptr<replica::StateMachine>(std::move(sm));
      }));
  TxnNodeOptions o = txn;
  // A test's clock (ManualClock) drives the oracle too; else the wall clock.
  if (o.tso.clock == nullptr) o.tso.clock = options.clock;
  if (o.lease_extend_ms < 0) o.lease_extend_ms = options.election_ticks * options.tick_ms;
  tinykv::Clock* clock = options.clock != nullptr ? options.clock : tinykv::Clock::Real();
  return std::unique_ptr<TxnNode>(new TxnNode(std::move(parts), o, clock, options.id));
}

TxnNode::TxnNode(replica::ReplicaParts parts, const TxnNodeOptions& txn, tinykv::Clock* clock,
                 uint64_t node_id)
    : ReplicaKvNode(std::move(parts)),
      options_(txn),
      sm_(static_cast<MvccStateMachine*>(&replica().state_machine())),
      tso_(txn.tso, ReplicaTsoBackend(&replica(), milliseconds(txn.tso_reserve_timeout_ms))),
      clock_(clock),
      lease_rng_(std::random_device{}()),
      node_id_(node_id),
      trace_log_(logging::Get("txn")) {
  // The replica is already applying: entries that applied before the
  // observer was set were proposed by an earlier run, never recorded here.
  sm_->set_kv_write_observer([this](uint64_t ts) { EndWrite(ts); });
  reaper_ = std::thread([this] { ReapWaiters(); });
  watch_source_ = std::make_unique<TxnWatchSource>(this, &replica(), sm_);
  watch_hub_ = std::make_unique<WatchHub>(watch_source_.get(), txn.watch);
  sm_->set_version_observer(watch_hub_.get());
  lessor_thread_ = std::thread([this] { RunLessor(); });
}

TxnNode::~TxnNode() {
  std::thread job;  // joined unlocked: the thread takes job_mu_ as it ends
  {
    std::lock_guard<std::mutex> l(job_mu_);
    job.swap(job_thread_);
  }
  if (job.joinable()) job.join();
  // The hub's worker calls into the node and the replica: it goes first.
  watch_hub_->Close(Status::Cancelled("txn node stopped"));
  // The replica's driver calls back into this object: stop it before the
  // members those callbacks use are destroyed (the base would stop it only
  // after them).
  Stop();
  {
    std::lock_guard<std::mutex> l(lease_mu_);
    lessor_stopping_ = true;
  }
  lessor_cv_.notify_one();
  lessor_thread_.join();
  sm_->set_version_observer(nullptr);
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  reaper_cv_.notify_one();
  reaper_.join();
  // KV writes queued for another attempt: the replica has stopped.
  for (auto& r : retries_) r();  // each proposes to the stopped replica: Cancelled
  for (Waiter& w : waiters) w.done(Status::Cancelled("txn node stopped"));
}

Result<uint64_t> TxnNode::GetTimestamps(uint32_t count) {
  if (count == 0 || count > (uint32_t{1} << kLogicalBits))
    return Status::InvalidArgument("timestamps: count must be 1.." +
                                   std::to_string(uint32_t{1} << kLogicalBits));
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  // Under ts_mu_, as BeginWrite: a timestamp handed out for a read is
  // ordered after every write timestamp already recorded in flight.
  std::lock_guard<std::mutex> order(ts_mu_);
  return tso_.GetTimestamps(count);
}

Result<uint64_t> TxnNode::BeginWrite() {
  // A replica stopped by a disk error leads nothing; its error is the
  // answer, as a proposal would get it (a full disk names itself).
  TINYKV_RETURN_IF_ERROR(replica().WriteRefusal());
  std::lock_guard<std::mutex> order(ts_mu_);
  const uint64_t term = replica().leader_term();
  if (term == 0) return Status::NotLeader("txn node: not the leader");
  // May wait for a window reservation to apply: mu_ is not held here (the
  // apply path takes it, in EndWrite).
  TINYKV_ASSIGN_OR_RETURN(uint64_t ts, tso_.GetTimestamp());
  std::lock_guard<std::mutex> l(mu_);
  EnterTermLocked(term);
  in_flight_.insert(ts);
  return ts;
}

bool TxnNode::EnterTermLocked(uint64_t term) {
  if (term == in_flight_term_) return false;
  // A new term: a write recorded in an older one either applied before
  // this term's first read (the new leader applies every earlier entry
  // before it serves one) or never will.
  in_flight_.clear();
  in_flight_term_ = term;
  return true;
}

void TxnNode::EndWrite(uint64_t ts) {
  {
    std::lock_guard<std::mutex> l(mu_);
    in_flight_.erase(ts);
  }
  ReleaseWaiters();
}

size_t TxnNode::writes_in_flight() {
  std::lock_guard<std::mutex> l(mu_);
  return in_flight_.size();
}

uint64_t TxnNode::lowest_write_in_flight() {
  std::lock_guard<std::mutex> l(mu_);
  return in_flight_.empty() ? kMaxTs : *in_flight_.begin();
}

void TxnNode::ReleaseWaiters() {
  std::vector<std::function<void(Status)>> ready, expired, deposed;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (waiters_.empty()) return;
    if (EnterTermLocked(replica().leader_term())) {
      // The term ended under the waiting reads: a write of the old term
      // may still apply after them (committed by the next leader), so they
      // cannot be answered here; the client retries on the new leader.
      for (Waiter& w : waiters_) deposed.push_back(std::move(w.done));
      waiters_.clear();
    }
    const uint64_t lowest = in_flight_.empty() ? kMaxTs : *in_flight_.begin();
    const auto now = Clock::now();
    auto it = waiters_.begin();
    while (it != waiters_.end()) {
      if (lowest >= it->ts) {
        ready.push_back(std::move(it->done));
      } else if (now >= it->deadline) {
        expired.push_back(std::move(it->done));
      } else {
        ++it;
        continue;
      }
      it = waiters_.erase(it);
    }
  }
  for (auto& d : ready) d(Status::OK());
  for (auto& d : expired)
    d(Status::Timeout("read: writes below its timestamp did not finish in time"));
  for (auto& d : deposed) d(Status::NotLeader("read: leadership changed while it waited"));
}

void TxnNode::WaitForWrites(uint64_t ts, milliseconds timeout, std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    const uint64_t term = replica().leader_term();
    if (term == 0) {
      // Reads at a timestamp are the leader's (followers serve only
      // serializable reads, at the newest state).
    } else {
      EnterTermLocked(term);
      if (!in_flight_.empty() && *in_flight_.begin() < ts) {
        waiters_.push_back(Waiter{ts, Clock::now() + timeout, std::move(done)});
        reaper_cv_.notify_one();
        return;
      }
    }
  }
  done(Status::OK());
}

bool TxnNode::QueueRetry(std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  if (stopping_) return false;
  retries_.push_back(std::move(fn));
  reaper_cv_.notify_one();
  return true;
}

void TxnNode::ReapWaiters() {
  // Waiters are released by the writes they wait for; this thread times
  // out those whose writes never end (a stalled log) and notices a term
  // that ended with no write to tell. It also runs the KV writes to be
  // proposed again (see ProposeKvWrite).
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    reaper_cv_.wait_for(l, milliseconds(waiters_.empty() ? 1000 : 10),
                        [this] { return stopping_ || !retries_.empty(); });
    if (stopping_) break;
    std::deque<std::function<void()>> retries;
    retries.swap(retries_);
    l.unlock();
    for (auto& r : retries) r();
    ReleaseWaiters();
    l.lock();
  }
}

void TxnNode::Propose(replica::KvCommand cmd, milliseconds timeout,
                      std::function<void(Result<replica::KvCommandResult>)> done) {
  ProposeKvWrite(std::move(cmd), KvWriteOptions{}, timeout,
                 [done = std::move(done)](Result<KvWriteResult> r) {
                   if (!r.ok()) {
                     done(r.status());
                     return;
                   }
                   done(std::move(r->kv));
                 });
}

void TxnNode::ProposeKvWrite(replica::KvCommand cmd, KvWriteOptions options, milliseconds timeout,
                             std::function<void(Result<KvWriteResult>)> done) {
  ProposeKvWriteAttempt(std::make_shared<replica::KvCommand>(std::move(cmd)), options,
                        Clock::now() + timeout, std::max(1, options_.kv_write_attempts),
                        std::move(done));
}

void TxnNode::ProposeKvWriteAttempt(std::shared_ptr<replica::KvCommand> cmd,
                                    KvWriteOptions options, Clock::time_point deadline,
                                    int attempts_left,
                                    std::function<void(Result<KvWriteResult>)> done) {
  Status alarm = replica().Alarm();
  if (!alarm.ok()) {
    done(alarm);
    return;
  }
  Result<uint64_t> ts = BeginWrite();
  if (!ts.ok()) {
    done(ts.status());
    return;
  }
  const uint64_t trace =
      options.trace_id != 0 && trace_log_->should_log(spdlog::level::debug) ? options.trace_id : 0;
  const TxnCommand w = KvWriteCmd{*cmd, *ts, options.lease, options.prev_kv, trace};
  if (trace != 0) {
    logging::Log(trace_log_, spdlog::level::debug, "txn: proposing traced write",
                 {{"node", node_id_}, {"revision", *ts}, {"trace", FormatTraceId(trace)}});
  }
  Status invalid = ValidateTxnCommand(w);
  if (!invalid.ok()) {
    EndWrite(*ts);
    done(invalid);
    return;
  }
  const uint64_t commit_ts = *ts;
  replica().Propose(
      EncodeTxnCommand(w), Left(deadline),
      [this, cmd, options, deadline, attempts_left, commit_ts,
       done = std::move(done)](Result<std::string> r) mutable {
        if (!r.ok()) {
          if (NeverApplies(r.status())) EndWrite(commit_ts);
          done(r.status());
          return;
        }
        // It applied (the state machine's observer released its record).
        Result<TxnCommandResult> res = DecodeTxnCommandResult(Slice(*r));
        if (!res.ok()) {
          done(res.status().WithContext("txn node: kv write result"));
          return;
        }
        if (!res->errors.empty()) {
          const KeyError& e = res->errors.front();
          if (e.kind == KeyError::Kind::kWriteConflict && attempts_left > 1 &&
              Clock::now() < deadline) {
            // A newer timestamp got there first: try again above it --
            // from the reaper thread, not from this one (the replica's
            // driver): a new timestamp may need a window reserved through
            // Raft, which this thread would have to apply.
            auto retry =
                std::make_shared<std::function<void(Result<KvWriteResult>)>>(std::move(done));
            if (!QueueRetry([this, cmd, options, deadline, attempts_left, retry] {
                  ProposeKvWriteAttempt(cmd, options, deadline, attempts_left - 1,
                                        std::move(*retry));
                }))
              (*retry)(Status::Cancelled("txn node stopped"));
            return;
          }
          done(KeyErrorStatus(e));
          return;
        }
        if (res->lease_status == LeaseStatus::kLeaseNotFound) {
          done(Status::NotFound(kLeaseNotFoundMessage));
          return;
        }
        KvWriteResult out;
        out.kv = std::move(res->kv);
        out.kv.revision = res->commit_ts;
        out.prev_kvs = std::move(res->prev_kvs);
        out.prev_kvs_truncated = res->prev_kvs_truncated;
        done(std::move(out));
      });
}

void TxnNode::ProposeTxn(TxnCommand cmd, milliseconds timeout,
                         std::function<void(Result<TxnCommandResult>)> done) {
  if (!IsClientCommand(cmd)) {
    done(Status::InvalidArgument(
        "txn: only prewrite, commit, rollback, check-txn-status, resolve-lock and heartbeat "
        "are client commands"));
    return;
  }
  Status invalid = ValidateTxnCommand(cmd);
  if (!invalid.ok()) {
    done(invalid);
    return;
  }
  replica().Propose(EncodeTxnCommand(cmd), timeout,
                    [done = std::move(done)](Result<std::string> r) {
                      if (!r.ok()) {
                        done(r.status());
                        return;
                      }
                      done(DecodeTxnCommandResult(Slice(*r)));
                    });
}

void TxnNode::ProposeGc(uint64_t safe_point, milliseconds timeout,
                        std::function<void(Result<TxnCommandResult>)> done) {
  replica().Propose(EncodeTxnCommand(GcCmd{safe_point}), timeout,
                    [done = std::move(done)](Result<std::string> r) {
                      if (!r.ok()) {
                        done(r.status());
                        return;
                      }
                      done(DecodeTxnCommandResult(Slice(*r)));
                    });
}

void TxnNode::Compact(uint64_t revision, milliseconds timeout,
                      std::function<void(Result<CompactResult>)> done) {
  if (revision == 0) {
    done(Status::InvalidArgument("compaction: revision must be above 0"));
    return;
  }
  Result<uint64_t> now = GetTimestamps(1);
  if (!now.ok()) {
    done(now.status());
    return;
  }
  if (revision > *now) {
    done(Status::InvalidArgument("compaction: revision " + std::to_string(revision) +
                                 " is in the future (now " + std::to_string(*now) + ")"));
    return;
  }
  if (const uint64_t c = compacted_revision(); revision <= c) {
    done(Status::InvalidArgument("compaction: revision " + std::to_string(revision) +
                                 " has been compacted already (compact revision " +
                                 std::to_string(c) + ")")
             .WithDetail(EncodeWatchError(WatchError{WatchError::Kind::kCompacted, c})));
    return;
  }
  const auto deadline = Clock::now() + timeout;
  WaitForWrites(revision, timeout, [this, revision, deadline, done = std::move(done)](Status s) {
    if (!s.ok()) {
      done(std::move(s));
      return;
    }
    ProposeGc(revision, Left(deadline),
              [this, done = std::move(done)](Result<TxnCommandResult> r) {
                if (!r.ok()) {
                  done(r.status());
                  return;
                }
                done(CompactResult{compacted_revision(), r->count});
              });
  });
}

bool TxnNode::StartMemberJob(std::function<std::function<void()>()> job) {
  std::lock_guard<std::mutex> l(job_mu_);
  if (job_running_) return false;
  if (job_thread_.joinable()) job_thread_.join();  // finished: only its exit is left
  job_running_ = true;
  job_thread_ = std::thread([this, job = std::move(job)] {
    std::function<void()> answer = job();
    {
      std::lock_guard<std::mutex> g(job_mu_);
      job_running_ = false;
    }
    answer();  // after: whoever learns the outcome may start the next job
  });
  return true;
}

void TxnNode::Defragment(std::function<void(Result<MvccStateMachine::DefragmentResult>)> done) {
  auto shared = std::make_shared<decltype(done)>(std::move(done));
  auto job = [this, shared]() -> std::function<void()> {
    auto r = std::make_shared<Result<MvccStateMachine::DefragmentResult>>(sm_->Defragment());
    return [shared, r] { (*shared)(std::move(*r)); };
  };
  if (!StartMemberJob(std::move(job)))
    (*shared)(Status::Unavailable(kMemberJobRunning));
}

void TxnNode::HashKv(uint64_t revision, std::function<void(Result<KvHash>)> done) {
  auto shared = std::make_shared<decltype(done)>(std::move(done));
  auto job = [this, revision, shared]() -> std::function<void()> {
    auto out = std::make_shared<Result<KvHash>>([&]() -> Result<KvHash> {
      TINYKV_RETURN_IF_ERROR(replica().Alarm());
      TINYKV_ASSIGN_OR_RETURN(const uint64_t reserved, sm_->reserved_ts());
      if (revision > reserved) {
        return Status::InvalidArgument(
            "hashkv: revision " + std::to_string(revision) +
            " is in the future (the oracle's reservation applied here is " +
            std::to_string(reserved) + ")");
      }
      KvHash h;
      TINYKV_RETURN_IF_ERROR(sm_->Read([&](MvccReader& reader) -> Status {
        TINYKV_ASSIGN_OR_RETURN(h, txn::HashKv(reader, revision));
        return Status::OK();
      }));
      return h;
    }());
    return [shared, out] { (*shared)(std::move(*out)); };
  };
  if (!StartMemberJob(std::move(job))) (*shared)(Status::Unavailable(kMemberJobRunning));
}

Result<ReadResult> TxnNode::GetAt(const std::string& key, uint64_t ts) {
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  return sm_->Get(key, ts);
}

Result<ScanResult> TxnNode::ScanAt(const std::string& start, const std::string& end, uint64_t ts,
                                   size_t limit) {
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  return sm_->Scan(start, end, ts, limit);
}

Result<std::optional<std::string>> TxnNode::Get(const std::string& key) {
  TINYKV_ASSIGN_OR_RETURN(ReadResult r, GetAt(key, kMaxTs));
  if (r.error) return KeyErrorStatus(*r.error);
  return std::move(r.value);
}

Result<std::vector<std::pair<std::string, std::string>>> TxnNode::Scan(const std::string& start,
                                                                       const std::string& end,
                                                                       size_t limit) {
  TINYKV_ASSIGN_OR_RETURN(ScanResult r, ScanAt(start, end, kMaxTs, limit));
  if (r.error) return KeyErrorStatus(*r.error);
  return std::move(r.pairs);
}

}  // namespace tinykv::txn
