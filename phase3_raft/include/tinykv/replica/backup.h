// Backups of a KV group (`tinykv snapshot save | status | restore`, as
// etcdctl/etcdutl snapshot): one self-describing file holding a
// KvStateMachine checkpoint (Replica::CheckpointCopy) at an applied
// (index, term).
//
// File format (little-endian fixed-width integers, common/coding.h):
//
//   magic    8 bytes  "TKVSNAP\n"
//   version  fixed32  1
//   index    fixed64  applied index of the checkpoint
//   term     fixed64  its term
//   cluster  fixed64  id of the cluster it was saved from
//   member   fixed64  id of the member that served it
//   count    fixed32  number of files
//   count x  ( fixed32 name length | name | fixed64 size | size bytes )
//   crc      fixed32  crc32c (masked) of every byte before it
//
// A file name is one plain path component (SnapshotReceiver's rule), and no
// name appears twice. DecodeBackup checks every field and the checksum
// first: damaged or truncated input is Corruption, never a crash or a huge
// allocation (sizes are checked against the bytes that are there).
//
// Restore (RestoreBackup) writes the data dir of one member of a NEW
// cluster, as etcdutl snapshot restore: the checkpoint's state with the
// membership replaced by the new members (applied as one conf change at
// index + 1, identically on every restored member), a Raft log that starts
// with a snapshot at index + 1 carrying that configuration, the snapshot's
// files in snap/ (so lagging or new members can be sent them), and the
// identity record with the new cluster id (RestoredClusterId). tinykv-server then starts on it as on any existing
// data dir.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tinykv/common/bytes.h"
#include "tinykv/common/env.h"
#include "tinykv/replica/state_machine.h"
#include "tinykv/common/result.h"
#include "tinykv/common/status.h"

namespace tinykv::replica {

inline constexpr char kBackupMagic[] = "TKVSNAP\n";  // 8 bytes without the NUL
inline constexpr uint32_t kBackupVersion = 1;

struct BackupFileEntry {
  std::string name;
  std::string data;
};

struct Backup {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  std::vector<BackupFileEntry> files;
};

std::string EncodeBackup(const Backup& b);
// Corruption naming what is wrong when `in` is not a whole, intact backup.
Result<Backup> DecodeBackup(Slice in);

// Reads the files of checkpoint directory `dir` into b->files (sorted by name).
Status ReadCheckpointFiles(Env* env, const std::filesystem::path& dir, Backup* b);
// Writes `encoded` (EncodeBackup's bytes) to `path` atomically: a temporary
// file beside it, fsynced, renamed over `path`, the directory fsynced.
Status WriteBackupFile(Env* env, const std::filesystem::path& path, Slice encoded);
// Reads and decodes a backup file.
Result<Backup> ReadBackupFile(Env* env, const std::filesystem::path& path);

// What `snapshot status` prints (etcdutl's hash, revision, total keys,
// total size): `hash` is the state hash (StateMachine::Hash, the value the
// members' state hash check compares) of the checkpoint.
struct BackupSummary {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t keys = 0;
  uint64_t hash = 0;
};
// Which state machine a backup holds: the directory its files live in
// under the group dir, how to open one there, and how to count its user
// keys. A backup is restored into, and summarized with, the kind of the
// server that made it: KvBackupKind() here, phase 4's MvccBackupKind() for
// tinykv-server.
struct BackupKind {
  std::string subdir;  // "kv", "mvcc"
  std::function<Result<std::unique_ptr<StateMachine>>(Env* env, const std::filesystem::path& dir)>
      open;
  std::function<Result<uint64_t>(StateMachine& sm)> count_keys;
};
BackupKind KvBackupKind();

// Opens the checkpoint in a scratch directory under `scratch_parent` (then
// removed) and counts its keys and hashes it.
Result<BackupSummary> SummarizeBackup(Env* env, const Backup& b,
                                      const std::filesystem::path& scratch_parent,
                                      const BackupKind& kind = KvBackupKind());

struct RestoreOptions {
  std::filesystem::path data_dir;  // must not exist, or be an empty directory
  uint64_t member_id = 0;          // this member, one of `members`
  std::map<uint64_t, std::string> members;  // the new cluster: id -> peer address
  std::map<uint64_t, std::string> client_addresses;  // optional: id -> client address
  std::string cluster_token = "tinykv-cluster";
};
// The new cluster's id: what tinykv-server computes for a brand-new data dir
// with the same --initial-cluster and --initial-cluster-token
// (ComputeClusterId over ClusterIdSeed).
uint64_t RestoredClusterId(const RestoreOptions& options);
// InvalidArgument unless member_id is one of `members`, every id is >= 1 and
// every address is host:port. RestoreBackup checks it first.
Status CheckRestoreOptions(const RestoreOptions& options);
// Writes the data dir (see the header comment); InvalidArgument on bad
// options or a non-empty data dir, which it never touches.
Status RestoreBackup(Env* env, const Backup& b, const RestoreOptions& options,
                     const BackupKind& kind = KvBackupKind());

}  // namespace tinykv::replica
