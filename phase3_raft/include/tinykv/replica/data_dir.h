// The layout of a TinyKV node's data directory:
//
//   <data-dir>/groups/<group>/raft/   the group's Raft log (doc/log_format.md)
//   <data-dir>/groups/<group>/snap/   the group's snapshots
//   <data-dir>/groups/<group>/kv/     the group's state machine (KvNode: the engine in kv/db)
//
// One directory per Raft group, so a process can host many groups. The
// single-group layout of earlier versions (raft/, kv/ and snap/ directly in
// the data dir) is read as group 1: a data dir with raft/ at its root keeps
// using its root as group 1's directory (nothing is moved, so there is no
// upgrade step that a crash could interrupt); other groups live under groups/.
//
// Identity. The data dir records whose it is in `<data-dir>/identity`:
//
//   identity := "tinykv-identity 1\n" "member " member_id "\n" "cluster " hex16 "\n"
//               "crc " hex8(crc32c of the lines above) "\n"
//
// written once (temp file, fsync, rename, fsync of the dir) when the node
// first opens it, and checked at every later open: a data dir started under
// another member id is refused (as etcd refuses "member ... has already been
// bootstrapped" under another name). The cluster id of a new cluster is a
// hash of its initial member ids and the cluster token, so every member
// computes the same id without talking (tinykv-server mixes the initial
// members' peer addresses into the token, as etcd hashes its peer URLs; a
// KvNode in a test may not know its peers' ports when it bootstraps); a
// member that joins an existing cluster starts with cluster id 0 ("not
// known yet").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tinykv/common/env.h"
#include "tinykv/common/result.h"

namespace tinykv::replica {

struct NodeIdentity {
  uint64_t member_id = 0;
  uint64_t cluster_id = 0;  // 0: not known yet (a member that joined)
  friend bool operator==(const NodeIdentity&, const NodeIdentity&) = default;
};

// The id every member of a new cluster computes from the same initial
// member ids (in any order) and token (etcd's --initial-cluster-token).
uint64_t ComputeClusterId(std::vector<uint64_t> initial_member_ids, std::string_view token);
// The token tinykv-server hands ComputeClusterId: --initial-cluster-token
// followed by the members' peer addresses ("token|1=host:port,2=..."), so
// two clusters with the same ids and token but other addresses never take
// each other's peers (etcd hashes its peer URLs too).
std::string ClusterIdSeed(std::string_view token, const std::map<uint64_t, std::string>& peers);

// How a cluster id is written in messages and in the identity file: 16 hex
// digits (as etcd prints its cluster ids).
std::string ClusterIdString(uint64_t cluster_id);

// nullopt if the data dir has no identity yet; Corruption if it is malformed.
// (env: nullptr = Env::Default(), here and below.)
[[nodiscard]] Result<std::optional<NodeIdentity>> ReadIdentity(const std::filesystem::path& data_dir,
                                                               Env* env = nullptr);
// Durably records `id` (replacing an earlier record).
[[nodiscard]] Status WriteIdentity(const std::filesystem::path& data_dir, const NodeIdentity& id,
                                   Env* env = nullptr);

// Opens the identity of `data_dir` for a node started as `member_id`: writes
// it on first use (with `cluster_id`), returns the recorded one otherwise.
// InvalidArgument, with a one-line message naming the data dir and both ids,
// when the data dir belongs to another member, or (both ids known) to
// another cluster.
[[nodiscard]] Result<NodeIdentity> CheckIdentity(const std::filesystem::path& data_dir,
                                                 uint64_t member_id, uint64_t cluster_id,
                                                 Env* env = nullptr);

// True when `data_dir` holds the single-group layout of earlier versions.
bool IsSingleGroupLayout(const std::filesystem::path& data_dir);

// The directory of `group` inside `data_dir` (see above).
std::filesystem::path GroupDir(const std::filesystem::path& data_dir, uint64_t group);

}  // namespace tinykv::replica
