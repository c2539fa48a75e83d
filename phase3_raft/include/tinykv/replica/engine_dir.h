// The directory of a state machine's engine, and how a checkpoint replaces
// it: the one implementation KvStateMachine and the MVCC state machine share.
//
// Layout: <dir>/db is the live engine. Install puts a checkpoint in its
// place with two renames, db -> db.old, checkpoint -> db, then syncs the
// directory and removes db.old. A crash between the renames leaves db.old
// and no db: the old engine is still the state, and OpenEngineDir puts it
// back. A crash after them leaves a db.old that is garbage.
#pragma once

#include <filesystem>

#include "tinykv/common/env.h"
#include "tinykv/common/status.h"

namespace tinykv::replica {

// Creates `dir` if missing and repairs an interrupted install (above), so
// that <dir>/db, if it exists, is the state. Call before opening the engine.
[[nodiscard]] Status OpenEngineDir(Env* env, const std::filesystem::path& dir);

// REQUIRES: the engine in <dir>/db is closed. Makes `checkpoint_dir` the
// engine (<dir>/db) durably; the old engine is removed.
[[nodiscard]] Status InstallEngineCheckpoint(Env* env, const std::filesystem::path& dir,
                                             const std::filesystem::path& checkpoint_dir);

// <dir>/db.
std::filesystem::path EnginePath(const std::filesystem::path& dir);

}  // namespace tinykv::replica
