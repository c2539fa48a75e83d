// The state hash check (hash_check.h has the contract; doc/replica_protocol.md
// "State hash check" the wire format).
//
// Why a log entry for the cut: hashes are only comparable at one applied
// index, and replicas apply at their own pace. A control entry in the log is
// applied by every replica at the same index, between the same two
// commands, so "the state right after entry I" is one state everywhere --
// without stopping writes, without a snapshot, and without an MVCC engine
// that could hash an older revision (etcd's HashKV hashes at a revision).
// The alternative -- the leader asks "hash at your applied index" and
// compares only equal indexes -- rarely finds two members at the same index
// under load.
//
// Why the hash runs off the driver: hashing a million keys takes a good
// part of a second, longer than an election timeout in tests; the driver
// only captures the state (an engine iterator) and a background thread
// hashes it, so heartbeats never stall.
//
// Why the leader decides: it asks every member, so it is the one that sees a
// majority. A leader that finds itself the odd one out marks itself (the
// "leader is damaged" case); other members learn their verdict from it. A
// member trusts the verdict of a member of its configuration (crash faults,
// not Byzantine), but not one that contradicts a hash it still holds.
#include "replica_impl.h"

#include <algorithm>

#include "tinykv/common/coding.h"
#include "tinykv/replica/state_hash.h"

namespace tinykv::replica::internal {

namespace fs = std::filesystem;
using namespace raft;  // NOLINT: the core's types throughout

namespace {

// Control entries: the proposal envelope with proposal id 0 (never a
// proposal's: a proposal id has a counter >= 1 in its low half), then a kind.
constexpr uint8_t kControlHashCheck = 1;

std::string Hex(uint64_t h) { return fmt::format("{:016x}", h); }

std::string IdList(const std::vector<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

}  // namespace

// ---- serving ---------------------------------------------------------------

Status ReplicaImpl::Alarm() const {
  if (!corrupt_.load()) return Status::OK();
  std::lock_guard<std::mutex> l(state_mu_);
  return Status::Unavailable("member " + std::to_string(id_) + " of group " +
                             std::to_string(opts_.group) + " is CORRUPT and refuses to serve: " +
                             alarm_);
}

Status ReplicaImpl::ServingRefusal() const {
  TINYKV_RETURN_IF_ERROR(Alarm());
  if (opts_.hash_check_at_start && !verified_) {
    return Status::Unavailable(
        "member " + std::to_string(id_) + " of group " + std::to_string(opts_.group) +
        " has not compared its state with the other members' since it started (startup state "
        "hash check in progress); retry");
  }
  return Status::OK();
}

// ---- the alarm ---------------------------------------------------------------

Status ReplicaImpl::LoadAlarm() {
  const std::string path = (opts_.dir / "alarm").string();
  if (!env_->FileExists(path)) return Status::OK();
  std::string text;
  TINYKV_RETURN_IF_ERROR(ReadFileToString(env_, path, &text));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) text = "CORRUPT (alarm file " + path + " is empty)";
  {
    std::lock_guard<std::mutex> l(state_mu_);
    alarm_ = text;
  }
  corrupt_ = true;
  log_->error("node={} group={} starts CORRUPT, refusing to serve: {} (until a state hash check "
              "finds this member right again, or {} is removed after repairing its data)",
              id_, opts_.group, text, path);
  return Status::OK();
}

void ReplicaImpl::RaiseAlarm(const std::string& alarm) {
  {
    std::lock_guard<std::mutex> l(state_mu_);
    if (alarm_ == alarm) return;
    alarm_ = alarm;
  }
  corrupt_ = true;
  log_->error("node={} group={} CORRUPT: {}; this member refuses proposals and reads and hands "
              "leadership away", id_, opts_.group, alarm);
  const std::string path = (opts_.dir / "alarm").string();
  Status s = WriteStringToFile(env_, Slice(alarm + "\n"), path, /*sync=*/true);
  if (s.ok()) s = env_->SyncDir(opts_.dir.string());
  if (!s.ok()) {
    log_->error("node={} group={} could not persist the alarm in {}: {}", id_, opts_.group, path,
                s.ToString());
  }
  // What is pending was accepted before: its result (a CAS, a read) may come
  // from the damaged state, so it does not get one.
  CancelAll(Status::Unavailable(Alarm().ToString() + " (outcome of pending writes unknown)"));
  next_transfer_try_ = 0;
}

void ReplicaImpl::ClearAlarm(const std::string& why) {
  if (!corrupt_) return;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    alarm_.clear();
  }
  corrupt_ = false;
  const std::string path = (opts_.dir / "alarm").string();
  Status s = env_->RemoveFile(path);
  if (s.ok()) s = env_->SyncDir(opts_.dir.string());
  if (!s.ok() && env_->FileExists(path)) {
    log_->error("node={} group={} could not remove {}: {}", id_, opts_.group, path, s.ToString());
  }
  log_->warn("node={} group={} CORRUPT alarm cleared: {}", id_, opts_.group, why);
}

// ---- applying check entries and hashing -------------------------------------

bool ReplicaImpl::ApplyControl(const Entry& e, Slice body) {
  Status s = sm_->ApplyNoop(e.index, e.term);
  if (!s.ok()) {
    Fail(s, "applying entry " + std::to_string(e.index));
    return false;
  }
  if (!body.empty() && static_cast<uint8_t>(body[0]) == kControlHashCheck) {
    OnCheckEntryApplied(e.index);
  } else {
    // A later version's control entry: a no-op here, as everywhere.
    log_->warn("node={} group={} entry {} is a control entry of unknown kind {}; applied as a "
               "no-op", id_, opts_.group, e.index,
               body.empty() ? -1 : static_cast<int>(static_cast<uint8_t>(body[0])));
  }
  return true;
}

void ReplicaImpl::OnCheckEntryApplied(uint64_t index) {
  Result<StateMachine::HashJob> job = sm_->PrepareHash();
  {
    std::lock_guard<std::mutex> l(hash_mu_);
    KeptHash& k = hashes_[index];
    if (!job.ok()) {
      k.done = true;
      k.status = job.status();
    }
    while (hashes_.size() > kKeptStateHashes) hashes_.erase(hashes_.begin());
  }
  if (job.ok()) {
    std::lock_guard<std::mutex> l(hash_jobs_mu_);
    hash_jobs_.push_back(HashTask{index, std::move(job).value()});
    if (!hash_thread_.joinable()) hash_thread_ = std::thread([this] { HashLoop(); });
    hash_jobs_cv_.notify_one();
  } else {
    log_->warn("node={} group={} cannot hash the state at index {}: {}", id_, opts_.group, index,
               job.status().ToString());
    OnOwnHash(index);
  }
  if (check_ && check_->index == 0 && index >= check_->min_index &&
      role_ == static_cast<int>(StateRole::kLeader)) {
    BindCheck(index);
  }
}

void ReplicaImpl::HashLoop() {
  for (;;) {
    HashTask task;
    {
      std::unique_lock<std::mutex> l(hash_jobs_mu_);
      hash_jobs_cv_.wait(l, [this] { return hash_stop_ || !hash_jobs_.empty(); });
      if (hash_stop_) return;
      task = std::move(hash_jobs_.front());
      hash_jobs_.pop_front();
    }
    const uint64_t start = clock_->NowMicros();
    Result<uint64_t> h = task.job(hash_cancel_);
    task.job = nullptr;  // releases what the job held (the state machine may wait for it)
    const uint64_t micros = clock_->NowMicros() - start;
    {
      std::lock_guard<std::mutex> l(hash_mu_);
      auto it = hashes_.find(task.index);
      if (it != hashes_.end()) {
        it->second.done = true;
        it->second.status = h.status();
        if (h.ok()) it->second.hash = *h;
      }
    }
    if (h.ok()) {
      log_->debug("node={} group={} state hash at index {} is {} ({} us)", id_, opts_.group,
                  task.index, Hex(*h), micros);
    }
    PostToDriver([this, index = task.index] {
      if (!stopping_) OnOwnHash(index);
    });
  }
}

void ReplicaImpl::StopHashThread() {
  hash_cancel_ = true;
  {
    std::lock_guard<std::mutex> l(hash_jobs_mu_);
    hash_stop_ = true;
  }
  hash_jobs_cv_.notify_all();
  if (hash_thread_.joinable()) hash_thread_.join();
  std::deque<HashTask> left;
  {
    std::lock_guard<std::mutex> l(hash_jobs_mu_);
    left.swap(hash_jobs_);
  }
  left.clear();  // before the state machine goes
}

void ReplicaImpl::OnOwnHash(uint64_t index) {
  Status status;
  {
    std::lock_guard<std::mutex> l(hash_mu_);
    auto it = hashes_.find(index);
    if (it != hashes_.end()) status = it->second.status;
  }
  if (status.IsCorruption()) {
    // The engine itself reports damage (a block checksum): no comparison needed.
    RaiseAlarm("the state machine could not be read back while hashing the state at index " +
               std::to_string(index) + ": " + status.ToString());
  }
  if (check_ && check_->index == index) MaybeDecide(false);
}

// ---- the leader's run ------------------------------------------------------------

ReplicaImpl::Micros ReplicaImpl::HashRetryMicros() const {
  return static_cast<Micros>(std::max(opts_.tick_ms, 10)) * 1000;
}

void ReplicaImpl::CheckStateHash(std::chrono::milliseconds timeout, CheckDone on_done) {
  const Micros deadline = DeadlineAfter(timeout);
  OnDriverAsLeader(std::move(on_done), [this, deadline](auto done) mutable {
    if (check_ && check_->index == 0) {
      // Its entry is yet to apply, so it is a cut taken after this call.
      check_->waiters.push_back(std::move(done));
      check_->deadline = std::max(check_->deadline, deadline);
      return;
    }
    if (check_) {
      next_waiters_.push_back(std::move(done));
      next_deadline_ = std::max(next_deadline_, deadline);
      return;
    }
    std::vector<CheckDone> waiters;
    waiters.push_back(std::move(done));
    StartCheck(std::move(waiters), deadline);
  });
}

void ReplicaImpl::StartCheck(std::vector<CheckDone> waiters, Micros deadline) {
  std::string data;
  PutFixed64(&data, 0);
  data.push_back(static_cast<char>(kControlHashCheck));
  const uint64_t min_index = raw_->GetStatus().last_index + 1;
  Status s = raw_->Propose(std::move(data));
  if (!s.ok()) {
    if (s.IsNotLeader()) s = NotLeader();
    for (auto& w : waiters) w(s);
    return;
  }
  CheckRun run;
  run.min_index = min_index;
  run.deadline = deadline;
  run.waiters = std::move(waiters);
  check_ = std::move(run);
  last_check_start_ = clock_->NowMicros();
  ScheduleReady();
}

void ReplicaImpl::BindCheck(uint64_t index) {
  check_->index = index;
  check_->report.index = index;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    for (const auto* v : {&conf_.voters, &conf_.learners, &conf_.voters_outgoing,
                          &conf_.learners_next})
      check_->members.insert(v->begin(), v->end());
  }
  check_->members.insert(id_);
  AskPeers();
  MaybeDecide(false);
}

void ReplicaImpl::AskPeers() {
  const Micros now = clock_->NowMicros();
  for (uint64_t m : check_->members) {
    if (m == id_ || check_->report.hashes.count(m) || check_->report.missing.count(m) ||
        check_->asking.count(m))
      continue;
    auto again = check_->ask_again.find(m);
    if (again != check_->ask_again.end() && again->second > now) continue;
    StateHashRequest req;
    req.kind = static_cast<uint8_t>(StateHashKind::kAsk);
    req.group = opts_.group;
    req.index = check_->index;
    check_->asking.insert(m);
    host_->SendStateHash(m, req);
  }
}

void ReplicaImpl::OnStateHashAnswer(uint64_t to, const StateHashRequest& req,
                                    Result<StateHashResponse> answer) {
  PostToDriver([this, to, req, answer = std::move(answer)]() mutable {
    if (!stopping_) OnAnswer(to, req, std::move(answer));
  });
}

void ReplicaImpl::OnAnswer(uint64_t to, const StateHashRequest& req,
                           Result<StateHashResponse> answer) {
  const auto kind = static_cast<StateHashKind>(req.kind);
  if (kind != StateHashKind::kAsk) {
    if (!answer.ok()) {
      log_->debug("node={} group={} raft.StateHash to {} failed: {}", id_, opts_.group, to,
                  answer.status().ToString());
    }
    return;
  }
  if (!check_ || check_->index != req.index) return;  // an earlier run's
  CheckRun& run = *check_;
  run.asking.erase(to);
  if (!answer.ok()) {
    if (answer.status().IsNotSupported()) {
      run.report.missing[to] = "does not serve raft.StateHash (an older version)";
    } else {
      run.failures[to] = answer.status().ToString();
      run.ask_again[to] = clock_->NowMicros() + HashRetryMicros();
    }
  } else {
    switch (static_cast<StateHashState>(answer->state)) {
      case StateHashState::kHash:
        run.report.hashes[to] = answer->hash;
        break;
      case StateHashState::kPending:
        run.failures[to] = "had not applied index " + std::to_string(req.index) +
                           " or was still hashing it (applied " +
                           std::to_string(answer->applied_index) + ")";
        run.ask_again[to] = clock_->NowMicros() + HashRetryMicros();
        break;
      default:
        run.report.missing[to] = answer->detail.empty() ? "no hash" : answer->detail;
        break;
    }
  }
  MaybeDecide(false);
}

void ReplicaImpl::MaybeDecide(bool deadline_passed) {
  CheckRun& run = *check_;
  if (run.index == 0) return;
  KeptHash own;
  {
    std::lock_guard<std::mutex> l(hash_mu_);
    auto it = hashes_.find(run.index);
    if (it != hashes_.end()) own = it->second;
  }
  if (own.done) {
    if (own.status.ok()) {
      run.report.hashes[id_] = own.hash;
    } else {
      run.report.missing[id_] = own.status.ToString();
    }
  }
  // As soon as a majority holds this leader's hash it may serve (the startup
  // check); the run still waits for the others, to find an odd one.
  if (own.done && own.status.ok() && !verified_) {
    size_t same = 0;
    for (const auto& [m, h] : run.report.hashes) same += h == own.hash;
    if (2 * same > run.members.size()) {
      verified_ = true;
      verified_index_ = run.index;
    }
  }
  const bool all = own.done && run.report.hashes.size() + run.report.missing.size() >=
                                   run.members.size();
  if (all || deadline_passed) Decide();
}

void ReplicaImpl::Decide() {
  CheckRun run = std::move(*check_);
  check_.reset();
  HashCheckReport& rep = run.report;
  for (uint64_t m : run.members) {
    if (rep.hashes.count(m) || rep.missing.count(m)) continue;
    auto f = run.failures.find(m);
    rep.missing[m] = f != run.failures.end() ? f->second
                     : m == id_              ? "still hashing at the deadline"
                                             : "no answer before the deadline";
  }
  std::map<uint64_t, std::vector<uint64_t>> by_hash;
  for (const auto& [m, h] : rep.hashes) by_hash[h].push_back(m);
  for (const auto& [h, ms] : by_hash) {
    if (2 * ms.size() > run.members.size()) rep.majority = h;
  }
  std::string all;
  for (const auto& [m, h] : rep.hashes)
    all += (all.empty() ? "" : ", ") + std::to_string(m) + "=" + Hex(h);
  if (!rep.majority) {
    if (by_hash.size() > 1) {
      log_->error("node={} group={} state hash check at index {}: the hashes differ and none is "
                  "held by a majority of the {} members ({}); cannot tell which member is damaged",
                  id_, opts_.group, rep.index, run.members.size(), all);
    } else {
      log_->warn("node={} group={} state hash check at index {}: too few members answered to "
                 "compare ({} of {}: {})", id_, opts_.group, rep.index, rep.hashes.size(),
                 run.members.size(), all);
    }
  } else {
    const uint64_t maj = *rep.majority;
    const std::vector<uint64_t>& holders = by_hash[maj];
    for (const auto& [m, h] : rep.hashes) {
      const bool odd = h != maj;
      if (odd) {
        rep.corrupt.push_back(m);
        log_->error("node={} group={} state hash check at index {}: member {} has hash {}, the "
                    "majority (members {}) has {}; member {} is CORRUPT",
                    id_, opts_.group, rep.index, m, Hex(h), IdList(holders), Hex(maj), m);
      }
      if (m == id_) continue;
      StateHashRequest v;
      v.kind = static_cast<uint8_t>(StateHashKind::kVerdict);
      v.group = opts_.group;
      v.index = rep.index;
      v.corrupt = odd ? 1 : 0;
      v.majority_hash = maj;
      v.member_hash = h;
      host_->SendStateHash(m, v);
    }
    auto own = rep.hashes.find(id_);
    if (own != rep.hashes.end() && own->second == maj) {
      verified_ = true;
      verified_index_ = rep.index;
      ClearAlarm("the state hash at index " + std::to_string(rep.index) +
                 " equals the majority's again");
    } else if (own != rep.hashes.end()) {
      RaiseAlarm("state hash mismatch at index " + std::to_string(rep.index) +
                 ": this member (" + std::to_string(id_) + ", the leader) has " + Hex(own->second) +
                 ", the majority (members " + IdList(holders) + ") has " + Hex(maj));
    }
    if (rep.corrupt.empty()) {
      log_->info("node={} group={} state hash check at index {}: {} of {} members agree ({})", id_,
                 opts_.group, rep.index, holders.size(), run.members.size(), Hex(maj));
    }
  }
  for (auto& w : run.waiters) w(rep);
  // Callers queued behind this run start the next one at the next poll
  // (DriveHashChecks): Decide may run inside the apply loop, where nothing
  // is proposed.
}

void ReplicaImpl::EndCheck(const Status& why) {
  std::vector<CheckDone> waiters;
  if (check_) waiters = std::move(check_->waiters);
  check_.reset();
  for (auto& w : next_waiters_) waiters.push_back(std::move(w));
  next_waiters_.clear();
  for (auto& w : waiters) w(why);
}

// ---- the other members' side ---------------------------------------------------

Result<StateHashResponse> ReplicaImpl::OnStateHash(uint64_t from, const StateHashRequest& req) {
  if (stopped_) return Status::Unavailable("replica stopped");
  {
    std::lock_guard<std::mutex> l(state_mu_);
    bool member = false;
    for (const auto* v : {&conf_.voters, &conf_.learners, &conf_.voters_outgoing,
                          &conf_.learners_next})
      member = member || std::find(v->begin(), v->end(), from) != v->end();
    if (!member) {
      return Status::InvalidArgument("raft.StateHash from node " + std::to_string(from) +
                                     ", not a member of group " + std::to_string(opts_.group));
    }
  }
  StateHashResponse resp;
  resp.applied_index = applied_.load();
  switch (static_cast<StateHashKind>(req.kind)) {
    case StateHashKind::kAsk: {
      std::lock_guard<std::mutex> l(hash_mu_);
      auto it = hashes_.find(req.index);
      if (it != hashes_.end()) {
        if (!it->second.done) {
          resp.state = static_cast<uint8_t>(StateHashState::kPending);
        } else if (it->second.status.ok()) {
          resp.state = static_cast<uint8_t>(StateHashState::kHash);
          resp.hash = it->second.hash;
        } else {
          resp.state = static_cast<uint8_t>(StateHashState::kNone);
          resp.detail = "hashing failed: " + it->second.status.ToString();
        }
      } else if (req.index > resp.applied_index) {
        resp.state = static_cast<uint8_t>(StateHashState::kPending);
      } else {
        resp.state = static_cast<uint8_t>(StateHashState::kNone);
        resp.detail = "no hash kept for index " + std::to_string(req.index) + " (applied " +
                      std::to_string(resp.applied_index) +
                      "): applied before this replica started, covered by a snapshot, or older "
                      "than the last " + std::to_string(kKeptStateHashes) + " checks";
      }
      return resp;
    }
    case StateHashKind::kVerdict:
      PostToDriver([this, from, req] {
        if (!stopping_) OnVerdict(from, req);
      });
      return resp;
    case StateHashKind::kRequestCheck:
      if (role_ != static_cast<int>(StateRole::kLeader)) return NotLeader();
      PostToDriver([this] { check_requested_ = true; });
      return resp;
  }
  return Status::InvalidArgument("raft.StateHash: unknown kind " + std::to_string(req.kind));
}

void ReplicaImpl::OnVerdict(uint64_t from, const StateHashRequest& req) {
  compared_ = true;
  if (!req.corrupt) {
    verified_ = true;
    verified_index_ = std::max(verified_index_.load(), req.index);
    ClearAlarm("the state hash at index " + std::to_string(req.index) +
               " equals the majority's again (leader " + std::to_string(from) + ")");
    return;
  }
  {
    std::lock_guard<std::mutex> l(hash_mu_);
    auto it = hashes_.find(req.index);
    if (it != hashes_.end() && it->second.done && it->second.status.ok() &&
        it->second.hash == req.majority_hash) {
      log_->warn("node={} group={} ignores member {}'s verdict that its state hash at index {} "
                 "differs: it holds the majority's hash {}", id_, opts_.group, from, req.index,
                 Hex(req.majority_hash));
      return;
    }
  }
  verified_ = false;
  RaiseAlarm("state hash mismatch at index " + std::to_string(req.index) + ": this member (" +
             std::to_string(id_) + ") has " + Hex(req.member_hash) +
             ", the majority has " + Hex(req.majority_hash) + " (check by leader " +
             std::to_string(from) + ")");
}

// ---- the schedule --------------------------------------------------------------------

void ReplicaImpl::OnRoleChange(bool leader) {
  if (!leader) {
    EndCheck(Status::Aborted("leadership lost during the state hash check"));
    return;
  }
  last_check_start_ = clock_->NowMicros();  // a full interval before the first periodic check
  next_startup_try_ = 0;                    // an unverified new leader checks at once
}

void ReplicaImpl::DriveHashChecks() {
  const Micros now = clock_->NowMicros();
  const bool leader = role_ == static_cast<int>(StateRole::kLeader);
  const Micros retry = 2 * static_cast<Micros>(opts_.election_ticks) * opts_.tick_ms * 1000;
  if (check_) {
    if (now >= check_->deadline) {
      if (check_->index == 0) {
        EndCheck(Status::Timeout("the state hash check entry did not apply before the deadline"));
      } else {
        MaybeDecide(true);
      }
    } else if (check_->index != 0) {
      AskPeers();
    }
  }
  if (leader && !check_) {
    const Micros auto_deadline = now + static_cast<Micros>(opts_.hash_check_timeout_ms) * 1000;
    if (!next_waiters_.empty()) {
      auto waiters = std::move(next_waiters_);
      next_waiters_.clear();
      check_requested_ = false;
      StartCheck(std::move(waiters), std::max(next_deadline_, now + HashRetryMicros()));
    } else if (check_requested_) {
      check_requested_ = false;
      StartCheck({}, auto_deadline);
    } else if (opts_.hash_check_at_start && !verified_ && now >= next_startup_try_) {
      next_startup_try_ = now + retry;
      StartCheck({}, auto_deadline);
    } else if (opts_.hash_check_interval_ms > 0 &&
               now - last_check_start_ >=
                   static_cast<Micros>(opts_.hash_check_interval_ms) * 1000) {
      StartCheck({}, auto_deadline);
    }
  }
  const uint64_t lead = leader_.load();
  if (!leader && opts_.hash_check_at_start && !compared_ && lead != 0 && lead != id_ &&
      now >= next_startup_try_) {
    next_startup_try_ = now + retry;
    StateHashRequest req;
    req.kind = static_cast<uint8_t>(StateHashKind::kRequestCheck);
    req.group = opts_.group;
    host_->SendStateHash(lead, req);
  }
  if (leader && corrupt_ && now >= next_transfer_try_) {
    // Hand leadership to the most caught-up other voter; Raft gives up a
    // transfer after an election timeout, and then this tries again.
    next_transfer_try_ = now + static_cast<Micros>(opts_.election_ticks) * opts_.tick_ms * 1000;
    const NodeStatus ns = raw_->GetStatus();
    const uint64_t target = MostCaughtUpVoter(ns);
    if (target != 0 && ns.lead_transferee == 0) {
      log_->warn("node={} group={} is CORRUPT and leads: transferring leadership to {}", id_,
                 opts_.group, target);
      raw_->TransferLeader(target);
      ScheduleReady();
    }
  }
}

}  // namespace tinykv::replica::internal
