// TxnNode's leases: grant, revoke, keep-alive, time-to-live, the list, puts
// with a lease, and the lessor thread that revokes expired leases (see
// txn_node.h and lessor.h).
#include <algorithm>

#include "tinykv/txn/key_error.h"
#include "tinykv/txn/lease.h"
#include "tinykv/txn/txn_node.h"
#include "txn_node_internal.h"

namespace tinykv::txn {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using internal::Left;
using internal::NeverApplies;

constexpr int kGrantAttempts = 5;     // random ids tried before giving up
constexpr int kRevokeAttempts = 5;    // proposals of one revoke (write conflicts)
constexpr milliseconds kExpiryRevokeTimeout{5000};

}  // namespace

uint64_t TxnNode::RandomLeaseIdLocked() {
  // etcd's ids are positive int64s.
  for (;;) {
    const uint64_t id = lease_rng_() & 0x7fffffffffffffffULL;
    if (id != 0) return id;
  }
}

bool TxnNode::SyncLessorLocked(uint64_t now_us) {
  const uint64_t term = replica().leader_term();
  if (term == 0) {
    if (lessor_term_ != 0) lessor_.Demote();
    lessor_term_ = 0;
    return false;
  }
  const uint64_t extend_us = static_cast<uint64_t>(std::max(0, options_.lease_extend_ms)) * 1000;
  // Read before the table: a change after this read is seen next time.
  const uint64_t version = sm_->lease_table_version();
  if (term != lessor_term_) {
    lessor_.Promote(now_us, extend_us, sm_->Leases());
    lessor_term_ = term;
  } else if (version != lessor_table_version_) {
    lessor_.Sync(now_us, extend_us, sm_->Leases());
  }
  lessor_table_version_ = version;
  return true;
}

void TxnNode::RunLessor() {
  std::unique_lock<std::mutex> l(lease_mu_);
  while (!lessor_stopping_) {
    lessor_cv_.wait_for(l, milliseconds(std::max(1, options_.lease_check_ms)),
                        [this] { return lessor_stopping_; });
    if (lessor_stopping_) break;
    ++lessor_checks_;
    if (!SyncLessorLocked(clock_->NowMicros())) continue;
    const std::vector<uint64_t> expired = lessor_.Expired(clock_->NowMicros());
    if (expired.empty()) continue;
    l.unlock();
    for (uint64_t id : expired) {
      ProposeRevoke(id, SteadyClock::now() + kExpiryRevokeTimeout, kRevokeAttempts,
                    [this, id](Result<LeaseRevokeResult> r) {
                      std::lock_guard<std::mutex> g(lease_mu_);
                      if (r.ok() || r.status().IsNotFound()) {
                        lessor_.Revoked(id);
                      } else {
                        lessor_.RevokeFailed(id);  // the next check proposes it again
                      }
                    });
    }
    l.lock();
  }
}

void TxnNode::LeaseGrant(uint64_t id, uint64_t ttl_s, milliseconds timeout,
                         std::function<void(Result<LeaseGrantResult>)> done) {
  if (ttl_s == 0 || ttl_s > kMaxLeaseTtlS) {
    done(Status::InvalidArgument("lease grant: ttl must be 1.." + std::to_string(kMaxLeaseTtlS) +
                                 " seconds"));
    return;
  }
  const bool random_id = id == 0;
  if (random_id) {
    std::lock_guard<std::mutex> l(lease_mu_);
    id = RandomLeaseIdLocked();
  }
  ProposeGrant(id, random_id, ttl_s, SteadyClock::now() + timeout, kGrantAttempts,
               std::move(done));
}

void TxnNode::ProposeGrant(uint64_t id, bool random_id, uint64_t ttl_s,
                           SteadyClock::time_point deadline, int attempts_left,
                           std::function<void(Result<LeaseGrantResult>)> done) {
  Status alarm = replica().Alarm();
  if (!alarm.ok()) {
    done(alarm);
    return;
  }
  const uint64_t term = replica().leader_term();
  if (term == 0) {
    done(Status::NotLeader("lease grant: not the leader"));
    return;
  }
  replica().Propose(
      EncodeTxnCommand(LeaseGrantCmd{id, ttl_s}), Left(deadline),
      [this, id, random_id, ttl_s, deadline, attempts_left, term,
       done = std::move(done)](Result<std::string> r) mutable {
        if (!r.ok()) {
          done(r.status());
          return;
        }
        Result<TxnCommandResult> res = DecodeTxnCommandResult(Slice(*r));
        if (!res.ok()) {
          done(res.status().WithContext("txn node: lease grant result"));
          return;
        }
        if (res->lease_status == LeaseStatus::kLeaseExists) {
          if (!random_id || attempts_left <= 1) {
            done(Status::AlreadyExists(kLeaseExistsMessage));
            return;
          }
          // A random id that was taken: another one, proposed off this thread.
          auto retry = std::make_shared<std::function<void(Result<LeaseGrantResult>)>>(
              std::move(done));
          if (!QueueRetry([this, ttl_s, deadline, attempts_left, retry] {
                uint64_t next = 0;
                {
                  std::lock_guard<std::mutex> l(lease_mu_);
                  next = RandomLeaseIdLocked();
                }
                ProposeGrant(next, true, ttl_s, deadline, attempts_left - 1, std::move(*retry));
              }))
            (*retry)(Status::Cancelled("txn node stopped"));
          return;
        }
        {
          std::lock_guard<std::mutex> l(lease_mu_);
          // Granted by this leader, still leading in that term: the
          // deadline starts now (the lessor promoted first if its thread
          // had not yet). Otherwise the next leader's promotion gives it one.
          const uint64_t now = clock_->NowMicros();
          if (SyncLessorLocked(now) && lessor_term_ == term) lessor_.Grant(id, ttl_s, now);
        }
        done(LeaseGrantResult{id, ttl_s});
      });
}

void TxnNode::LeaseRevoke(uint64_t id, milliseconds timeout,
                          std::function<void(Result<LeaseRevokeResult>)> done) {
  if (id == 0) {
    done(Status::NotFound(kLeaseNotFoundMessage));
    return;
  }
  ProposeRevoke(id, SteadyClock::now() + timeout, kRevokeAttempts,
                [this, id, done = std::move(done)](Result<LeaseRevokeResult> r) {
                  if (r.ok()) {
                    std::lock_guard<std::mutex> l(lease_mu_);
                    lessor_.Revoked(id);
                  }
                  done(std::move(r));
                });
}

void TxnNode::ProposeRevoke(uint64_t id, SteadyClock::time_point deadline, int attempts_left,
                            std::function<void(Result<LeaseRevokeResult>)> done) {
  Status alarm = replica().Alarm();
  if (!alarm.ok()) {
    done(alarm);
    return;
  }
  // The deletes are writes at a timestamp: recorded in flight like a kv
  // write's, so a read at a later timestamp waits for them.
  Result<uint64_t> ts = BeginWrite();
  if (!ts.ok()) {
    done(ts.status());
    return;
  }
  const uint64_t commit_ts = *ts;
  replica().Propose(
      EncodeTxnCommand(LeaseRevokeCmd{id, commit_ts}), Left(deadline),
      [this, id, deadline, attempts_left, commit_ts,
       done = std::move(done)](Result<std::string> r) mutable {
        if (!r.ok()) {
          if (NeverApplies(r.status())) EndWrite(commit_ts);
          done(r.status());
          return;
        }
        Result<TxnCommandResult> res = DecodeTxnCommandResult(Slice(*r));
        if (!res.ok()) {
          done(res.status().WithContext("txn node: lease revoke result"));
          return;
        }
        if (!res->errors.empty()) {
          const KeyError& e = res->errors.front();
          if (e.kind == KeyError::Kind::kWriteConflict && attempts_left > 1 &&
              SteadyClock::now() < deadline) {
            auto retry = std::make_shared<std::function<void(Result<LeaseRevokeResult>)>>(
                std::move(done));
            if (!QueueRetry([this, id, deadline, attempts_left, retry] {
                  ProposeRevoke(id, deadline, attempts_left - 1, std::move(*retry));
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
        done(LeaseRevokeResult{res->commit_ts, res->count});
      });
}

Status TxnNode::NotFoundOrNotCaughtUp() {
  // A new leader that has not applied an entry of its own term may not have
  // applied a grant an earlier leader acknowledged: "not found" would be a
  // lie (and would make a keep-alive give up). The client retries this.
  if (sm_->applied_term_for_readers() < replica().leader_term())
    return Status::Unavailable("lease: the new leader has not caught up yet");
  return Status::NotFound(kLeaseNotFoundMessage);
}

Result<uint64_t> TxnNode::LeaseKeepAlive(uint64_t id) {
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  std::lock_guard<std::mutex> l(lease_mu_);
  const uint64_t now = clock_->NowMicros();
  if (!SyncLessorLocked(now)) return Status::NotLeader("lease keep-alive: not the leader");
  std::optional<uint64_t> ttl = lessor_.Renew(id, now);
  if (!ttl) return NotFoundOrNotCaughtUp();
  return *ttl;
}

Result<LeaseTimeToLiveResult> TxnNode::LeaseTimeToLive(uint64_t id, bool keys) {
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  LeaseTimeToLiveResult out;
  out.id = id;
  {
    std::lock_guard<std::mutex> l(lease_mu_);
    const uint64_t now = clock_->NowMicros();
    if (!SyncLessorLocked(now)) return Status::NotLeader("lease time-to-live: not the leader");
    std::optional<uint64_t> ttl = sm_->LeaseTtl(id);
    std::optional<uint64_t> left = lessor_.RemainingUs(id, now);
    if (!ttl || !left) return NotFoundOrNotCaughtUp();
    out.granted_ttl_s = *ttl;
    out.remaining_s = *left / 1000000;
  }
  if (keys) {
    TINYKV_ASSIGN_OR_RETURN(out.keys, sm_->LeaseKeys(id));
  }
  return out;
}

uint64_t TxnNode::lessor_checks() {
  std::lock_guard<std::mutex> l(lease_mu_);
  return lessor_checks_;
}

Result<std::vector<uint64_t>> TxnNode::Leases() {
  TINYKV_RETURN_IF_ERROR(replica().Alarm());
  if (replica().leader_term() == 0) return Status::NotLeader("lease list: not the leader");
  if (sm_->applied_term_for_readers() < replica().leader_term())
    return Status::Unavailable("lease list: the new leader has not caught up yet");
  std::vector<uint64_t> ids;
  for (const auto& [id, ttl] : sm_->Leases()) ids.push_back(id);
  return ids;
}

}  // namespace tinykv::txn
