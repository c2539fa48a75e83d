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
#pragma once

#include <cstdint>
#include <filesystem>

namespace tinykv::replica {

// True when `data_dir` holds the single-group layout of earlier versions.
bool IsSingleGroupLayout(const std::filesystem::path& data_dir);

// The directory of `group` inside `data_dir` (see above).
std::filesystem::path GroupDir(const std::filesystem::path& data_dir, uint64_t group);

}  // namespace tinykv::replica
