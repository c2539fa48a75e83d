// Backup files: encoding, decoding, summary and restore (backup.h).
#include "tinykv/replica/backup.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <system_error>

#include "replica_impl.h"
#include "snapshot_receiver.h"
#include "tinykv/common/coding.h"
#include "tinykv/common/crc32c.h"
#include "tinykv/net/address.h"
#include "tinykv/replica/data_dir.h"
#include "tinykv/replica/disk_storage.h"
#include "tinykv/replica/kv_state_machine.h"

namespace tinykv::replica {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMagicBytes = 8;
// magic | version | index | term | cluster | member | count
constexpr size_t kHeaderBytes = kMagicBytes + 4 + 8 * 4 + 4;

Status Damaged(const std::string& what) {
  return Status::Corruption("not a valid tinykv snapshot file: " + what);
}

// Copies the backup's files into a new directory `dir` (synced).
Status WriteCheckpointDir(Env* env, const Backup& b, const fs::path& dir) {
  TINYKV_RETURN_IF_ERROR(env->RemoveDirRecursively(dir.string()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir.string() + ": " + ec.message());
  for (const BackupFileEntry& f : b.files)
    TINYKV_RETURN_IF_ERROR(WriteStringToFile(env, Slice(f.data), (dir / f.name).string(), true));
  return env->SyncDir(dir.string());
}

// A state machine in `dir`/<kind.subdir> holding the backup's checkpoint.
Result<std::unique_ptr<StateMachine>> OpenBackupState(Env* env, const Backup& b,
                                                      const fs::path& dir, const BackupKind& kind) {
  const fs::path incoming = dir / "incoming";
  TINYKV_RETURN_IF_ERROR(WriteCheckpointDir(env, b, incoming));
  TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<StateMachine> sm, kind.open(env, dir / kind.subdir));
  TINYKV_RETURN_IF_ERROR(sm->Install(incoming));
  env->RemoveDirRecursively(incoming.string()).IgnoreError();  // Install may have consumed it
  if (sm->applied_index() != b.index || sm->applied_term() != b.term) {
    return Damaged("its header says index " + std::to_string(b.index) + " term " +
                   std::to_string(b.term) + " but the state inside is at index " +
                   std::to_string(sm->applied_index()) + " term " +
                   std::to_string(sm->applied_term()));
  }
  return sm;
}

}  // namespace

std::string EncodeBackup(const Backup& b) {
  std::string out(kBackupMagic, kMagicBytes);
  PutFixed32(&out, kBackupVersion);
  PutFixed64(&out, b.index);
  PutFixed64(&out, b.term);
  PutFixed64(&out, b.cluster_id);
  PutFixed64(&out, b.member_id);
  PutFixed32(&out, static_cast<uint32_t>(b.files.size()));
  for (const BackupFileEntry& f : b.files) {
    PutFixed32(&out, static_cast<uint32_t>(f.name.size()));
    out += f.name;
    PutFixed64(&out, f.data.size());
    out += f.data;
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

Result<Backup> DecodeBackup(Slice in) {
  if (in.size() < kHeaderBytes + 4) return Damaged("too short (" + std::to_string(in.size()) + " bytes)");
  if (std::memcmp(in.data(), kBackupMagic, kMagicBytes) != 0) return Damaged("bad magic");
  const uint32_t want = crc32c::Unmask(DecodeFixed32(in.data() + in.size() - 4));
  if (crc32c::Value(in.data(), in.size() - 4) != want)
    return Damaged("checksum mismatch (truncated or damaged)");
  Slice p(in.data() + kMagicBytes, in.size() - kMagicBytes - 4);
  Backup b;
  uint32_t version = 0, count = 0;
  if (!GetFixed32(&p, &version) || !GetFixed64(&p, &b.index) || !GetFixed64(&p, &b.term) ||
      !GetFixed64(&p, &b.cluster_id) || !GetFixed64(&p, &b.member_id) || !GetFixed32(&p, &count))
    return Damaged("short header");
  if (version != kBackupVersion)
    return Damaged("unsupported version " + std::to_string(version));
  if (b.index == 0 || b.term == 0) return Damaged("index and term must be >= 1");
  std::set<std::string> seen;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_len = 0;
    uint64_t size = 0;
    if (!GetFixed32(&p, &name_len) || name_len > p.size()) return Damaged("short file name");
    std::string name(p.data(), name_len);
    p.remove_prefix(name_len);
    if (!internal::SnapshotReceiver::IsValidFileName(name)) return Damaged("bad file name");
    if (!seen.insert(name).second) return Damaged("file " + name + " twice");
    if (!GetFixed64(&p, &size) || size > p.size()) return Damaged("short file " + name);
    b.files.push_back(BackupFileEntry{std::move(name), std::string(p.data(), size)});
    p.remove_prefix(size);
  }
  if (!p.empty()) return Damaged(std::to_string(p.size()) + " bytes after the last file");
  if (b.files.empty()) return Damaged("no files");
  return b;
}

Status ReadCheckpointFiles(Env* env, const fs::path& dir, Backup* b) {
  std::vector<std::string> names;
  TINYKV_RETURN_IF_ERROR(env->GetChildren(dir.string(), &names));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    BackupFileEntry f;
    f.name = n;
    TINYKV_RETURN_IF_ERROR(ReadFileToString(env, (dir / n).string(), &f.data));
    b->files.push_back(std::move(f));
  }
  return Status::OK();
}

Status WriteBackupFile(Env* env, const fs::path& path, Slice encoded) {
  const fs::path tmp = path.string() + ".part";
  Status s = WriteStringToFile(env, encoded, tmp.string(), /*sync=*/true);
  if (s.ok()) s = env->RenameFile(tmp.string(), path.string());
  if (!s.ok()) {
    env->RemoveFile(tmp.string()).IgnoreError();  // s is what we report
    return s;
  }
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  return env->SyncDir(parent.string());
}

Result<Backup> ReadBackupFile(Env* env, const fs::path& path) {
  std::string data;
  TINYKV_RETURN_IF_ERROR(ReadFileToString(env, path.string(), &data));
  Result<Backup> b = DecodeBackup(Slice(data));
  if (!b.ok()) return Status::Corruption(path.string() + ": " + std::string(b.status().message()));
  return b;
}

BackupKind KvBackupKind() {
  BackupKind k;
  k.subdir = "kv";
  k.open = [](Env* env, const fs::path& dir) -> Result<std::unique_ptr<StateMachine>> {
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<KvStateMachine> sm, KvStateMachine::Open(dir, env));
    return std::unique_ptr<StateMachine>(std::move(sm));
  };
  k.count_keys = [](StateMachine& sm) -> Result<uint64_t> {
    auto& kv = static_cast<KvStateMachine&>(sm);
    uint64_t keys = 0;
    std::string start;
    for (;;) {  // page by page
      TINYKV_ASSIGN_OR_RETURN(auto page, kv.Scan(start, "", 10000));
      keys += page.size();
      if (page.size() < 10000) return keys;
      start = page.back().first + '\0';
    }
  };
  return k;
}

Result<BackupSummary> SummarizeBackup(Env* env, const Backup& b, const fs::path& scratch_parent,
                                      const BackupKind& kind) {
  const fs::path dir = scratch_parent / (".tinykv-snapshot-status-" + std::to_string(::getpid()));
  BackupSummary out{b.index, b.term, b.cluster_id, b.member_id, 0, 0};
  Status s;
  {
    Result<std::unique_ptr<StateMachine>> sm = OpenBackupState(env, b, dir, kind);
    s = sm.status();
    while (s.ok()) {
      Result<uint64_t> keys = kind.count_keys(**sm);
      s = keys.status();
      if (!s.ok()) break;
      out.keys = *keys;
      Result<uint64_t> h = (*sm)->Hash();
      s = h.status();
      if (s.ok()) out.hash = *h;
      break;
    }
  }
  env->RemoveDirRecursively(dir.string()).IgnoreError();  // scratch
  if (!s.ok()) return s;
  return out;
}

namespace {
Status RestoreInto(Env* env, const Backup& b, const RestoreOptions& o, const BackupKind& kind);
}  // namespace

uint64_t RestoredClusterId(const RestoreOptions& o) {
  std::vector<uint64_t> ids;
  for (const auto& [id, addr] : o.members) ids.push_back(id);
  return ComputeClusterId(std::move(ids), ClusterIdSeed(o.cluster_token, o.members));
}

Status CheckRestoreOptions(const RestoreOptions& o) {
  if (o.member_id == 0 || !o.members.count(o.member_id))
    return Status::InvalidArgument("--id " + std::to_string(o.member_id) +
                                   " is not one of the --initial-cluster members");
  for (const auto& [id, addr] : o.members) {
    if (id == 0) return Status::InvalidArgument("member ids must be >= 1");
    TINYKV_RETURN_IF_ERROR(net::ParseHostPort(addr).status());
  }
  return Status::OK();
}

Status RestoreBackup(Env* env, const Backup& b, const RestoreOptions& o, const BackupKind& kind) {
  TINYKV_RETURN_IF_ERROR(CheckRestoreOptions(o));
  std::error_code ec;
  if (fs::exists(o.data_dir, ec) && !fs::is_empty(o.data_dir, ec))
    return Status::InvalidArgument("data dir " + o.data_dir.string() +
                                   " is not empty: restore writes a new data dir only");
  Status s = RestoreInto(env, b, o, kind);
  // The directory was empty or missing: what a failed restore wrote goes.
  if (!s.ok()) env->RemoveDirRecursively(o.data_dir.string()).IgnoreError();  // s is reported
  return s;
}

namespace {

// RestoreBackup's writes; the identity record last, so a data dir without
// one is an unfinished restore.
Status RestoreInto(Env* env, const Backup& b, const RestoreOptions& o, const BackupKind& kind) {
  std::error_code ec;
  const fs::path group = GroupDir(o.data_dir, 1);
  Membership m;
  for (const auto& [id, addr] : o.members) {
    m.conf.voters.push_back(id);
    MemberAddress a;
    a.peer = addr;
    if (auto c = o.client_addresses.find(id); c != o.client_addresses.end()) a.client = c->second;
    m.book[id] = a;
  }
  // The state, with the new membership applied at index + 1.
  const uint64_t index = b.index + 1;
  {
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<StateMachine> sm, OpenBackupState(env, b, group, kind));
    TINYKV_RETURN_IF_ERROR(sm->ApplyConfChange(index, b.term, m));
    const fs::path snap = group / "snap";
    fs::create_directories(snap, ec);
    if (ec) return Status::IOError("create " + snap.string() + ": " + ec.message());
    const std::string name = internal::SnapshotName(index, b.term);
    TINYKV_RETURN_IF_ERROR(sm->Checkpoint(snap / name));
    TINYKV_RETURN_IF_ERROR(env->SyncDir(snap.string()));
  }
  // The Raft log: a snapshot at index + 1 with the new configuration.
  {
    DiskStorageOptions so;
    so.env = env;
    TINYKV_ASSIGN_OR_RETURN(std::unique_ptr<DiskStorage> log, DiskStorage::Open(group / "raft", so));
    raft::Snapshot snap;
    snap.metadata.index = index;
    snap.metadata.term = b.term;
    snap.metadata.conf_state = m.conf;
    snap.data = internal::SnapshotName(index, b.term);
    TINYKV_RETURN_IF_ERROR(log->ApplySnapshot(snap));
    raft::HardState hs;
    hs.term = b.term;
    hs.commit = index;
    TINYKV_RETURN_IF_ERROR(log->Save(hs, {}, /*sync=*/true));
  }
  return WriteIdentity(o.data_dir, NodeIdentity{o.member_id, RestoredClusterId(o)}, env);
}

}  // namespace

}  // namespace tinykv::replica
