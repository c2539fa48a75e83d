// Replica: opening, bootstrap, ticks, status, leadership transfer, faults and
// stopping (replica_impl.h says which file holds the rest).
#include "replica_impl.h"

#include <future>

#include "tinykv/net/address.h"
#include "tinykv/raft/codec.h"

namespace tinykv::replica {

Result<std::string> Replica::ProposeSync(std::string command, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<std::string>>>();
  auto f = p->get_future();
  Propose(std::move(command), timeout, [p](Result<std::string> r) { p->set_value(std::move(r)); });
  return f.get();
}

Status Replica::ReadBarrierSync(std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  ReadBarrier(timeout, [p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

Result<MemberChangeResult> Replica::ProposeMemberChangeSync(MemberChange change,
                                                            std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<MemberChangeResult>>>();
  auto f = p->get_future();
  ProposeMemberChange(std::move(change), timeout,
                      [p](Result<MemberChangeResult> r) { p->set_value(std::move(r)); });
  return f.get();
}

Result<HashCheckReport> Replica::CheckStateHashSync(std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<HashCheckReport>>>();
  auto f = p->get_future();
  CheckStateHash(timeout, [p](Result<HashCheckReport> r) { p->set_value(std::move(r)); });
  return f.get();
}

Result<std::unique_ptr<Replica>> Replica::Open(const ReplicaOptions& options, PeerHost* host,
                                               std::unique_ptr<StateMachine> sm) {
  if (host == nullptr) return Status::InvalidArgument("replica: a PeerHost is required");
  if (sm == nullptr) return Status::InvalidArgument("replica: a state machine is required");
  auto r = std::make_unique<internal::ReplicaImpl>(options, host, std::move(sm));
  Status s = r->Init();
  if (!s.ok()) {
    r->Stop();
    return s;
  }
  return std::unique_ptr<Replica>(std::move(r));
}

namespace internal {

namespace fs = std::filesystem;
using namespace raft;  // NOLINT: the core's types throughout

ReplicaImpl::ReplicaImpl(ReplicaOptions o, PeerHost* host, std::unique_ptr<StateMachine> sm)
    : opts_(std::move(o)),
      host_(host),
      id_(host->node_id()),
      sm_(std::move(sm)),
      clock_(opts_.clock != nullptr ? opts_.clock : Clock::Real()),
      env_(opts_.env != nullptr ? opts_.env : Env::Default()),
      log_(logging::Get("raft.node")),
      work_(asio::make_work_guard(io_)),
      timer_(io_),
      rng_(id_ * 0x9e3779b97f4a7c15ull ^ opts_.group * 0xbf58476d1ce4e5b9ull ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
  epoch_ = (rng_.Next() & 0xffffffffull) << 32;
}

Status ReplicaImpl::Init() {
  if (opts_.group == 0) return Status::InvalidArgument("group id must be >= 1");
  if (opts_.dir.empty()) return Status::InvalidArgument("replica dir is required");
  if (!opts_.peers.count(id_))
    return Status::InvalidArgument("peers must include this node's id " + std::to_string(id_));
  for (const auto& [id, addr] : opts_.peers) {
    if (id == 0) return Status::InvalidArgument("member ids must be >= 1");
    if (!addr.empty()) TINYKV_RETURN_IF_ERROR(net::ParseHostPort(addr).status());
  }
  std::error_code ec;
  fs::create_directories(SnapDir(), ec);
  if (ec) return Status::IOError("create " + SnapDir().string() + ": " + ec.message());
  RemovePartialSnapshots();
  TINYKV_RETURN_IF_ERROR(LoadAlarm());
  TINYKV_RETURN_IF_ERROR(OpenLog());

  {
    AddressBook book;
    {
      std::lock_guard<std::mutex> l(state_mu_);
      book = book_;
    }
    if (opts_.address_book_wins) {
      for (const auto& [id, a] : book)
        if (id != id_ && !a.peer.empty()) host_->SetAddress(id, a.peer);
      for (const auto& [id, addr] : opts_.peers)
        if (id != id_ && !addr.empty()) host_->AddAddressIfUnknown(id, addr);
    } else {
      for (const auto& [id, addr] : opts_.peers)
        if (id != id_ && !addr.empty()) host_->SetAddress(id, addr);
      AdoptAddressBook(book, 0);
    }
  }
  TINYKV_RETURN_IF_ERROR(host_->Register(opts_.group, this));
  registered_ = true;

  last_tick_ = clock_->NowMicros();
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] {
    ArmTimer();
    ScheduleReady();
  });
  logging::Log(log_, spdlog::level::info, "started",
               {{"node", id_}, {"group", opts_.group}, {"applied", applied_.load()},
                {"first_index", storage_->FirstIndex()}, {"last_index", storage_->LastIndex()}});
  return Status::OK();
}

// The durable half of opening: the Raft log (bootstrapped when new), a
// snapshot persisted but not installed, the check that the state machine is
// not ahead of the log, and a core restarted from them. Init runs it once;
// recovery from a full disk runs it again (RecoverFromFullDisk).
Status ReplicaImpl::OpenLog() {
  DiskStorageOptions so;
  so.sync = opts_.sync;
  so.env = env_;
  so.clock = clock_;
  so.fsync_histogram = &wal_fsync_;
  so.node = id_;
  so.group = opts_.group;
  {
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<DiskStorage> storage,
                            DiskStorage::Open(opts_.dir / "raft", so));
    std::lock_guard<std::mutex> l(storage_mu_);
    storage_ = std::move(storage);
  }
  if (storage_->IsEmpty() && !opts_.join_existing) TINYKV_RETURN_IF_ERROR(BootstrapLog());
  TINYKV_ASSIGN_OR_RETURN(Snapshot snap, storage_->GetSnapshot());
  snap_index_ = snap.metadata.index;
  if (snap.metadata.index > sm_->applied_index()) {
    // Crashed after persisting a received snapshot but before installing it.
    TINYKV_RETURN_IF_ERROR(InstallFromDir(SnapDir() / SnapshotName(snap.metadata.index,
                                                                   snap.metadata.term)));
  }
  // With the log synced before anything applies, the state machine can never
  // be ahead of the durable log. If it is, the log lost entries that were
  // applied (written without fsync, or damaged): refuse, rather than run a
  // log that contradicts the state.
  if (sm_->applied_index() > std::max(storage_->LastIndex(), snap_index_)) {
    return Status::Corruption(
        "group " + std::to_string(opts_.group) + ": the state machine applied index " +
        std::to_string(sm_->applied_index()) + " but the Raft log in " +
        (opts_.dir / "raft").string() + " ends at " + std::to_string(storage_->LastIndex()) +
        ": the log lost acknowledged entries (was it written without fsync?)");
  }
  TINYKV_ASSIGN_OR_RETURN(InitialState is, storage_->GetInitialState());
  {
    std::lock_guard<std::mutex> l(state_mu_);
    std::optional<Membership> m = sm_->membership();
    conf_ = m ? m->conf : is.conf_state;
    if (m) book_ = m->book;
    term_ = is.hard_state.term;
    commit_ = is.hard_state.commit;
  }
  applied_ = sm_->applied_index();

  leader_ = 0;
  role_ = static_cast<int>(StateRole::kFollower);

  Config c;
  c.id = id_;
  c.election_tick = opts_.election_ticks;
  c.heartbeat_tick = opts_.heartbeat_ticks;
  c.storage = storage_.get();
  // Restart from the snapshot, not from the state machine's applied index:
  // the core must re-apply conf changes after the snapshot (its ConfState
  // comes from the snapshot); entries the state machine already has are
  // skipped by the apply loop.
  c.applied = std::min(sm_->applied_index(), snap_index_);
  c.max_msg_bytes = 512u << 10;
  c.max_inflight_msgs = 256;
  c.max_uncommitted_bytes = 64u << 20;
  c.max_committed_bytes_per_ready = 16u << 20;
  c.random_seed = rng_.Next();
  c.parallel_leader_append = opts_.parallel_leader_append;
  if (opts_.lease_reads) c.read_only_option = ReadOnlyOption::kLeaseBased;
  TINYKV_ASSIGN_OR_RETURN(raw_, RawNode::Create(c));
  return Status::OK();
}

// etcd's bootstrap: the log of a new group starts with one committed AddNode
// conf change per initial member (term 1, index 1..n), carrying its peer
// address. Every member writes the same entries, so logs match; a node that
// joins later replays them (or gets a snapshot holding their effect) and so
// learns the full configuration and address book. (The older form, a
// ConfState in a bootstrap snapshot at index 0, is still read on restart of
// existing data dirs, but a joiner could not learn it from the log.)
Status ReplicaImpl::BootstrapLog() {
  std::vector<Entry> ents;
  for (const auto& [id, addr] : opts_.peers) {
    ConfChangeV2 cc;
    cc.changes.push_back(ConfChangeSingle{ConfChangeType::kAddNode, id});
    MemberContext mc;
    mc.address.peer = addr;
    cc.context = EncodeMemberContext(mc);
    Entry e;
    e.type = EntryType::kConfChangeV2;
    e.term = 1;
    e.index = ents.size() + 1;
    EncodeConfChange(cc, &e.data);
    ents.push_back(std::move(e));
  }
  HardState hs;
  hs.term = 1;
  hs.commit = ents.size();
  return storage_->Save(hs, ents, /*sync=*/true);
}

void ReplicaImpl::ArmTimer() {
  // A real clock is polled once per tick; a manual one often, so that a test
  // that moves time sees the tick promptly.
  const int poll_ms = clock_ == Clock::Real() ? opts_.tick_ms : 1;
  timer_.expires_after(std::chrono::milliseconds(poll_ms));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_ || !failed_.ok()) return;
    OnTimer();
    ArmTimer();
  });
}

void ReplicaImpl::OnTimer() {
  const Micros now = clock_->NowMicros();
  const Micros tick = static_cast<Micros>(opts_.tick_ms) * 1000;
  if (now - last_tick_ >= tick) {
    // Ticks lost to a stall: the leader's clock ran slow (see lease_reads).
    if (TicksLate(now)) raw_->SuspendLease();
    raw_->Tick();
    ticks_++;
    // At most one tick per poll: a driver stalled by a slow fsync must not
    // fire a burst of ticks (a follower would campaign on heartbeats that
    // are merely queued behind it).
    last_tick_ = std::max(last_tick_ + tick, now - tick);
  }
  if (const uint64_t lead = leader_; lead != 0 && lead != last_seen_leader_) {
    OnLeaderSeen(last_seen_leader_, lead);
    last_seen_leader_ = lead;
    leader_changes_++;
  }
  SweepTimeouts();
  DriveHashChecks();
  HandleReady();
}

void ReplicaImpl::ScheduleReady() {
  if (ready_scheduled_) return;
  ready_scheduled_ = true;
  asio::post(io_, [this] {
    ready_scheduled_ = false;
    if (!stopping_) HandleReady();
  });
}

ReplicaImpl::Micros ReplicaImpl::DeadlineAfter(std::chrono::milliseconds timeout) const {
  return clock_->NowMicros() + static_cast<Micros>(std::max<int64_t>(0, timeout.count())) * 1000;
}

RoutingError ReplicaImpl::LeaderHint() const {
  RoutingError e;
  e.group = opts_.group;
  e.leader_id = leader_.load();
  if (e.leader_id != 0 && e.leader_id != id_) e.leader_address = host_->AddressOf(e.leader_id);
  return e;
}

void ReplicaImpl::Fail(const Status& s, const std::string& what) {
  if (!failed_.ok()) return;
  // This member sends nothing more, its peers elect another leader, and a
  // retried write is applied at most once (requests carry dedup ids). The
  // outcome of proposals pending now is unknown: an entry sent to followers
  // before the failure may still commit under the next leader. A full disk
  // answers ResourceExhausted and is recovered from in place: nothing of the
  // failed Ready left the process, and what is on disk is what a restart
  // would find, so a disarm resumes in place (DisarmNoSpace). Anything else
  // answers Unavailable, so that clients retry elsewhere, until a restart.
  const bool full_disk = s.IsResourceExhausted();
  failed_ = full_disk ? Status::ResourceExhausted(
                            "NOSPACE alarm: no space left on the disk of node " +
                            std::to_string(id_) + " (" + what + ": " + s.ToString() +
                            "); writes are refused until space is freed and the alarm "
                            "disarmed (tinykv alarm disarm)")
                      : Status::Unavailable("replica stopped after a disk error (" + what + ": " +
                                            s.ToString() + "); outcome of pending writes unknown");
  {
    std::lock_guard<std::mutex> l(state_mu_);
    error_ = what + ": " + s.ToString();
    refusal_ = failed_;
  }
  timer_.cancel();
  // It leads nothing any more: status readers (and clients looking for the
  // leader) must not see the last soft state.
  leader_ = 0;
  role_ = static_cast<int>(StateRole::kFollower);
  logging::Log(log_, spdlog::level::err, "failed; the replica stops acknowledging",
               {{"node", id_},
                {"group", opts_.group},
                {"op", what},
                {"error", s.ToString()},
                {"until", full_disk ? "the NOSPACE alarm is disarmed" : "restarted"}});
  if (full_disk) {
    full_disk_since_ = clock_->NowMicros();
    nospace_ = true;
  }
  CancelAll(failed_);
  EndCheck(failed_);
}

void ReplicaImpl::DisarmNoSpace(std::function<void(Status)> done) {
  auto shared = std::make_shared<std::function<void(Status)>>(std::move(done));
  if (!PostToDriver([this, shared] { (*shared)(DisarmNoSpaceOnDriver()); }))
    (*shared)(Status::Cancelled("replica stopped"));
}

Status ReplicaImpl::DisarmNoSpaceOnDriver() {
  if (stopping_) return Status::Cancelled("replica stopped");
  if (!nospace_) return Status::OK();  // nothing raised: nothing to do
  // The operator says space was freed; the probe checks it, so that a
  // disarm on a still-full disk says so instead of failing the next write.
  if (!DiskTakesWrites()) {
    return Status::ResourceExhausted("NOSPACE alarm of node " + std::to_string(id_) +
                                     " stays raised: its disk still has no room for a 1 MiB "
                                     "probe; free space, then disarm again");
  }
  return ResumeAfterFullDisk();
}

bool ReplicaImpl::DiskTakesWrites() {
  // A probe the size of a large Ready: written, synced and removed. Space
  // for it is no promise for the next write, but a replica that resumes too
  // early just fails again and waits longer.
  const std::string probe = (opts_.dir / "space-probe").string();
  auto f = env_->NewWritableFile(probe);
  Status s = f.status();
  if (s.ok()) {
    const std::string chunk(64u << 10, '\0');
    for (int i = 0; i < 16 && s.ok(); ++i) s = (*f)->Append(chunk);
    if (s.ok()) s = (*f)->Sync();
    Status c = (*f)->Close();
    if (s.ok()) s = c;
  }
  env_->RemoveFile(probe).IgnoreError();  // absent when the create failed
  return s.ok();
}

Status ReplicaImpl::ResumeAfterFullDisk() {
  // What a restart does, in place: the state machine and the log reopened
  // from their files (torn tails of the failed writes dropped), the core
  // restarted from them. The old core's unsent messages are dropped.
  raw_.reset();
  {
    auto ds = storage_->stats();
    log_fsyncs_before_ += ds.fsyncs;
    log_entries_before_ += ds.entries_written;
  }
  Status s = sm_->Reopen();
  if (s.ok()) s = OpenLog();
  if (!s.ok()) {
    if (s.IsResourceExhausted()) {
      return Status::ResourceExhausted("NOSPACE alarm of node " + std::to_string(id_) +
                                       " stays raised: reopening the log and state needs more "
                                       "space (" + s.ToString() + "); free space, then disarm again");
    }
    nospace_ = false;  // no longer the alarm: stopped until restarted
    failed_ = Status::Unavailable("replica stopped: reopening after a full disk failed: " +
                                  s.ToString());
    {
      std::lock_guard<std::mutex> l(state_mu_);
      error_ = "reopening after a full disk: " + s.ToString();
      refusal_ = failed_;
    }
    logging::Log(log_, spdlog::level::err,
                 "reopening after a full disk failed; the replica stays stopped until restarted",
                 {{"node", id_}, {"group", opts_.group}, {"error", s.ToString()}});
    return failed_;
  }
  nospace_ = false;
  failed_ = Status::OK();
  {
    std::lock_guard<std::mutex> l(state_mu_);
    error_.clear();
    refusal_ = Status::OK();
  }
  logging::Log(log_, spdlog::level::warn, "NOSPACE alarm disarmed: resumed",
               {{"node", id_},
                {"group", opts_.group},
                {"took", std::chrono::microseconds(clock_->NowMicros() - full_disk_since_)},
                {"applied", applied_.load()},
                {"first_index", storage_->FirstIndex()},
                {"last_index", storage_->LastIndex()}});
  last_tick_ = clock_->NowMicros();
  ArmTimer();
  ScheduleReady();
  return Status::OK();
}

bool ReplicaImpl::DropFromTo(uint64_t peer) {
  if (dropped_.count(peer)) return true;
  return drop_p_ > 0 && rng_.Bernoulli(drop_p_);
}

void ReplicaImpl::SetDroppedPeers(std::set<uint64_t> peers) {
  std::lock_guard<std::mutex> l(fault_mu_);
  dropped_ = std::move(peers);
}

void ReplicaImpl::SetDropProbability(double p) {
  std::lock_guard<std::mutex> l(fault_mu_);
  drop_p_ = p;
}

void ReplicaImpl::OnMessages(uint64_t from, std::vector<Message> msgs) {
  {
    std::lock_guard<std::mutex> l(fault_mu_);
    if (dropped_.count(from)) return;
  }
  PostToDriver([this, msgs = std::move(msgs)] {
    if (stopping_ || !failed_.ok()) return;
    for (const Message& m : msgs) {
      Status s = raw_->Step(m);
      if (!s.ok()) NoteRejected(m, s);
    }
    ScheduleReady();
  });
}

void ReplicaImpl::NoteRejected(const Message& m, const Status& why) {
  const uint64_t n = ++rejected_;
  // The core counts every refusal by reason; the log gets the first few and
  // then one line per 1,000, so a flood of forged messages cannot flood it.
  if (n <= 10 || n % 1000 == 0) {
    log_->warn("node={} group={} refused a {} from {} (term {}): {} ({} refused so far)", id_,
               opts_.group, MessageTypeName(m.type), m.from, m.term, why.ToString(), n);
  }
}

void ReplicaImpl::OnUnreachable(uint64_t to) {
  PostToDriver([this, to] {
    if (!stopping_ && failed_.ok()) raw_->ReportUnreachable(to);
  });
}

void ReplicaImpl::OnSnapshotSent(uint64_t to, bool failed) {
  PostToDriver([this, to, failed] {
    if (stopping_ || !failed_.ok()) return;
    if (failed) raw_->ReportUnreachable(to);
    raw_->ReportSnapshot(to, failed);
  });
}

ReplicaStatus ReplicaImpl::GetStatus() {
  ReplicaStatus st;
  st.group = opts_.group;
  st.id = id_;
  st.leader = leader_;
  st.term = term_;
  st.role = StateRoleName(static_cast<StateRole>(role_.load()));
  st.commit_index = commit_;
  st.applied_index = applied_;
  std::shared_ptr<DiskStorage> storage;
  {
    std::lock_guard<std::mutex> l(storage_mu_);
    storage = storage_;  // the driver may swap it (RecoverFromFullDisk)
  }
  st.first_index = storage->FirstIndex();
  st.last_index = storage->LastIndex();
  auto ds = storage->stats();
  st.log_fsyncs = log_fsyncs_before_ + ds.fsyncs;
  st.log_entries_written = log_entries_before_ + ds.entries_written;
  auto snap = storage->GetSnapshot();
  if (snap.ok()) st.snapshot_index = snap->metadata.index;
  st.ticks = ticks_;
  st.rejected_messages = rejected_;
  st.proposals_pending = proposals_pending_;
  st.proposals_failed = proposals_failed_;
  st.leader_changes = leader_changes_;
  st.wal_fsync_duration = wal_fsync_.Read();
  st.backend_commit_duration = backend_commit_.Read();
  st.vote = storage->hard_state().vote;
  st.members = Members();
  st.hash_verified_index = verified_index_;
  std::lock_guard<std::mutex> l(state_mu_);
  st.error = error_;
  st.alarm = alarm_;
  st.nospace = nospace_;
  return st;
}

uint64_t ReplicaImpl::MostCaughtUpVoter(const NodeStatus& ns) const {
  uint64_t target = 0, best = 0;
  for (const PeerStatus& ps : ns.progress) {
    if (ps.id == id_ || ps.learner) continue;
    if (target == 0 || ps.match > best) {
      target = ps.id;
      best = ps.match;
    }
  }
  return target;
}

Status ReplicaImpl::TransferLeadership(uint64_t to, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<std::promise<Result<uint64_t>>>();
  auto f = p->get_future();
  OnDriverAsLeader(
      [p](Status s) { p->set_value(std::move(s)); },
      [this, to, p](auto /*done*/) {
        const uint64_t target = to != 0 ? to : MostCaughtUpVoter(raw_->GetStatus());
        if (target == 0 || target == id_) {
          p->set_value(target == id_ ? Result<uint64_t>(target)
                                     : Result<uint64_t>(Status::Unavailable("no other voter")));
          return;
        }
        raw_->TransferLeader(target);
        ScheduleReady();
        p->set_value(target);
      });
  auto target = f.get();
  if (!target.ok()) return target.status();
  const Micros deadline = DeadlineAfter(timeout);
  while (clock_->NowMicros() < deadline) {
    if (leader_ == *target) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Timeout("leadership did not move to " + std::to_string(*target));
}

void ReplicaImpl::Stop() {
  {
    std::lock_guard<std::mutex> l(post_mu_);
    if (stopped_.exchange(true)) return;
  }
  // No inbound messages after this; calls into this endpoint have returned.
  if (registered_) host_->Unregister(opts_.group);
  registered_ = false;
  if (thread_.joinable()) {
    asio::post(io_, [this] {
      stopping_ = true;
      timer_.cancel();
      CancelAll(Status::Cancelled("replica stopped"));
      EndCheck(Status::Cancelled("replica stopped"));
    });
    work_.reset();
    thread_.join();
  }
  StopHashThread();
  // Anything posted after the driver stopped (late proposals) is cancelled.
  stopping_ = true;
  io_.restart();
  io_.poll();
  CancelAll(Status::Cancelled("replica stopped"));
  EndCheck(Status::Cancelled("replica stopped"));
  logging::Log(log_, spdlog::level::info, "stopped", {{"node", id_}, {"group", opts_.group}});
}

}  // namespace internal
}  // namespace tinykv::replica
