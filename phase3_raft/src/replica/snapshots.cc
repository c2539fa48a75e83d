// Snapshots of one group: making them, serving them to peers, fetching them
// from the leader, installing them. Everything lives in the group's snap/
// directory:
//
//   snap/<index>-<term>/         a complete snapshot: the state machine's
//                                checkpoint at (index, term), served to peers
//   snap/<index>-<term>.tmp/     a checkpoint being written (removed at start)
//   snap/<index>-<term>.recv/    a snapshot being fetched (removed at start)
//   snap/installing/             a copy handed to StateMachine::Install
//   snap/backup-<n>.tmp/         a checkpoint made for a backup
//                                (CheckpointCopy; its caller removes it)
//
// Making: every snapshot_threshold applied entries the replica checkpoints
// the state machine into .tmp, renames it into place, fsyncs snap/, records
// the snapshot in the Raft log and compacts the log (keeping up to 5000
// entries for slightly lagging followers).
// Receiving: a MsgSnap names (index, term); before the core sees it, the
// receiver fetches the files of that snapshot from the sender into .recv,
// fsyncs them, renames the directory into place and fsyncs snap/. Then the
// core steps the message, the Ready persists the snapshot metadata, and the
// replica installs a copy into the state machine. A crash between persisting
// and installing is repaired at the next start (Init installs again).
#include "replica_impl.h"

#include <algorithm>

#include "tinykv/raft/message_check.h"

namespace tinykv::replica::internal {

namespace fs = std::filesystem;
using namespace raft;  // NOLINT: the core's types throughout

namespace {

bool IsSnapshotName(const std::string& f) {
  return !f.empty() && f.find_first_not_of("0123456789-") == std::string::npos;
}

}  // namespace

std::string SnapshotName(uint64_t index, uint64_t term) {
  return std::to_string(index) + "-" + std::to_string(term);
}

void ReplicaImpl::RemovePartialSnapshots() {
  std::vector<std::string> names;
  if (!env_->GetChildren(SnapDir().string(), &names).ok()) return;
  for (const std::string& f : names) {
    const bool partial = f == "installing" || f.ends_with(".tmp") || f.ends_with(".recv");
    if (!partial) continue;
    const fs::path p = SnapDir() / f;
    log_->info("node={} group={} removing partial snapshot directory {}", id_, opts_.group,
               p.string());
    Status s = env_->RemoveDirRecursively(p.string());
    if (!s.ok()) log_->warn("node={} group={} {}", id_, opts_.group, s.ToString());
  }
}

void ReplicaImpl::MaybeSnapshot(bool force) {
  const uint64_t applied = sm_->applied_index();
  if (applied <= snap_index_) return;
  if (!force &&
      (opts_.snapshot_threshold == 0 || applied < snap_index_ + opts_.snapshot_threshold))
    return;
  const fs::path root = SnapDir();
  const std::string name = SnapshotName(applied, sm_->applied_term());
  env_->RemoveDirRecursively((root / (name + ".tmp")).string()).IgnoreError();  // leftover
  Status s = sm_->Checkpoint(root / (name + ".tmp"));
  if (s.ok()) s = env_->RenameFile((root / (name + ".tmp")).string(), (root / name).string());
  if (s.ok()) s = env_->SyncDir(root.string());
  if (!s.ok()) {
    // Not fatal: the log simply is not compacted this time.
    log_->warn("node={} group={} snapshot at {} failed: {}", id_, opts_.group, applied,
               s.ToString());
    return;
  }
  ConfState cs;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    cs = conf_;
  }
  // Keep some entries below the snapshot so slightly lagging followers catch
  // up from the log instead of needing the whole snapshot.
  const uint64_t keep = std::min<uint64_t>(opts_.snapshot_threshold / 2, 5000);
  const uint64_t compact = applied > keep ? applied - keep : 0;
  s = storage_->CreateSnapshot(applied, cs, name, compact);
  if (!s.ok()) {
    Fail(s, "recording snapshot " + name);
    return;
  }
  snap_index_ = applied;
  // Drop older snapshot directories.
  std::vector<std::string> names;
  if (env_->GetChildren(root.string(), &names).ok()) {
    for (const std::string& f : names)
      if (f != name && IsSnapshotName(f)) env_->RemoveDirRecursively((root / f).string()).IgnoreError();
  }
  log_->info("node={} group={} snapshot at index {} (log compacted to {})", id_, opts_.group,
             applied, compact);
}

// Installs a COPY of snapshot directory `dir` (the state machine may consume
// what it installs; the snapshot itself stays to be served to peers).
Status ReplicaImpl::InstallFromDir(const fs::path& dir) {
  std::vector<std::string> names;
  if (!env_->FileExists(dir.string()) || !env_->GetChildren(dir.string(), &names).ok())
    return Status::Corruption("raft log has snapshot " + dir.string() +
                              " newer than the state machine, and its files are missing");
  const fs::path tmp = SnapDir() / "installing";
  TINYKV_RETURN_IF_ERROR(env_->RemoveDirRecursively(tmp.string()));
  TINYKV_RETURN_IF_ERROR(env_->CreateDir(tmp.string()));
  for (const std::string& f : names) {
    std::string data;
    TINYKV_RETURN_IF_ERROR(ReadFileToString(env_, (dir / f).string(), &data));
    TINYKV_RETURN_IF_ERROR(WriteStringToFile(env_, Slice(data), (tmp / f).string(), /*sync=*/true));
  }
  TINYKV_RETURN_IF_ERROR(env_->SyncDir(tmp.string()));
  return sm_->Install(tmp);
}

bool ReplicaImpl::InstallSnapshot(const Snapshot& snap) {
  const fs::path dir = SnapDir() / SnapshotName(snap.metadata.index, snap.metadata.term);
  Status s = InstallFromDir(dir);
  if (s.ok() && sm_->applied_index() != snap.metadata.index) {
    s = Status::Corruption("snapshot " + dir.string() + " holds applied index " +
                           std::to_string(sm_->applied_index()));
  }
  if (!s.ok()) {
    Fail(s, "installing snapshot " + dir.string());
    return false;
  }
  applied_ = sm_->applied_index();
  snap_index_ = snap.metadata.index;
  AddressBook book;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    conf_ = snap.metadata.conf_state;
    std::optional<Membership> m = sm_->membership();
    book_ = m ? m->book : AddressBook{};
    book = book_;
  }
  AdoptAddressBook(book, 0);
  log_->info("node={} group={} installed snapshot at index {}", id_, opts_.group,
             snap.metadata.index);
  return true;
}

void ReplicaImpl::CheckpointCopy(std::function<void(Result<StateCheckpoint>)> done) {
  auto shared = std::make_shared<std::function<void(Result<StateCheckpoint>)>>(std::move(done));
  const bool posted = PostToDriver([this, shared] {
    if (!failed_.ok()) return (*shared)(Status::Unavailable("backup refused: " + failed_.ToString()));
    Status alarm = Alarm();
    if (!alarm.ok()) return (*shared)(Status::Unavailable("backup refused: " + alarm.ToString()));
    StateCheckpoint cp;
    cp.dir = SnapDir() / ("backup-" + std::to_string(++backup_seq_) + ".tmp");
    cp.index = sm_->applied_index();
    cp.term = sm_->applied_term();
    env_->RemoveDirRecursively(cp.dir.string()).IgnoreError();  // leftover
    Status s = sm_->Checkpoint(cp.dir);
    if (!s.ok()) {
      env_->RemoveDirRecursively(cp.dir.string()).IgnoreError();  // s is what we report
      return (*shared)(s);
    }
    (*shared)(std::move(cp));
  });
  if (!posted) (*shared)(Status::Cancelled("replica stopped"));
}

Result<fs::path> ReplicaImpl::SnapshotFiles(uint64_t index, uint64_t term) {
  const fs::path dir = SnapDir() / SnapshotName(index, term);
  if (!env_->FileExists(dir.string())) return Status::NotFound("no snapshot " + dir.string());
  return dir;
}

net::awaitable<Status> ReplicaImpl::OnSnapshotMessage(Message msg) {
  if (stopped_) co_return Status::Unavailable("replica stopped");
  {
    std::lock_guard<std::mutex> l(fault_mu_);
    if (dropped_.count(msg.from)) co_return Status::Unavailable("dropped (fault injection)");
  }
  // Check the message before doing any work for it: its shape, and that it
  // comes from a member (a joiner that is not in its own configuration yet
  // accepts its first snapshot from anyone, as the core does).
  raft::RejectReason reason;
  Status shape = raft::CheckMessageShape(msg, &reason);
  if (shape.ok()) {
    std::lock_guard<std::mutex> l(state_mu_);
    auto in = [&](const std::vector<uint64_t>& v, uint64_t id) {
      return std::find(v.begin(), v.end(), id) != v.end();
    };
    const bool member = in(conf_.voters, msg.from) || in(conf_.learners, msg.from) ||
                        in(conf_.voters_outgoing, msg.from);
    const bool self_member = in(conf_.voters, id_) || in(conf_.learners, id_) ||
                             in(conf_.voters_outgoing, id_);
    if (!member && self_member) shape = Status::NotFound("sender is not a member");
  }
  if (!shape.ok()) {
    PostToDriver([this, msg, shape] { NoteRejected(msg, shape); });
    co_return Status::InvalidArgument("snapshot refused: " + shape.ToString());
  }
  if (fetching_.exchange(true)) co_return Status::Busy("a snapshot fetch is already running");
  const fs::path root = SnapDir();
  const std::string name = SnapshotName(msg.snapshot.metadata.index, msg.snapshot.metadata.term);
  Status s;
  if (!env_->FileExists((root / name).string())) {
    const fs::path tmp = root / (name + ".recv");
    auto fetch = host_->FetchSnapshot(opts_.group, msg.from, msg.snapshot.metadata.index,
                                      msg.snapshot.metadata.term, tmp, env_,
                                      [this] { return stopped_.load(); });
    s = co_await std::move(fetch);
    if (s.ok()) s = env_->RenameFile(tmp.string(), (root / name).string());
    if (s.ok()) s = env_->SyncDir(root.string());
    if (!s.ok()) env_->RemoveDirRecursively(tmp.string()).IgnoreError();  // s is what we report
  }
  fetching_ = false;
  if (!s.ok()) {
    log_->warn("node={} group={} fetching snapshot {} from {}: {}", id_, opts_.group,
               msg.snapshot.metadata.index, msg.from, s.ToString());
    co_return s;
  }
  const uint64_t from = msg.from;
  std::vector<Message> one;
  one.push_back(std::move(msg));
  OnMessages(from, std::move(one));
  co_return Status::OK();
}

}  // namespace tinykv::replica::internal
