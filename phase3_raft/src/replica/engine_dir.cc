// The engine directory; see engine_dir.h.
#include "tinykv/replica/engine_dir.h"

#include <string>
#include <system_error>

#include "tinykv/common/result.h"

namespace tinykv::replica {

namespace fs = std::filesystem;

fs::path EnginePath(const fs::path& dir) { return dir / "db"; }

Status OpenEngineDir(Env* env, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir.string() + ": " + ec.message());
  const std::string db = EnginePath(dir).string(), old = (dir / "db.old").string();
  if (!env->FileExists(db) && env->FileExists(old)) {
    TINYKV_RETURN_IF_ERROR(env->RenameFile(old, db));
    TINYKV_RETURN_IF_ERROR(env->SyncDir(dir.string()));
  }
  return env->RemoveDirRecursively(old);
}

Status InstallEngineCheckpoint(Env* env, const fs::path& dir, const fs::path& checkpoint_dir) {
  const std::string db = EnginePath(dir).string(), old = (dir / "db.old").string();
  TINYKV_RETURN_IF_ERROR(env->RenameFile(db, old));
  TINYKV_RETURN_IF_ERROR(env->RenameFile(checkpoint_dir.string(), db));
  TINYKV_RETURN_IF_ERROR(env->SyncDir(dir.string()));
  return env->RemoveDirRecursively(old);
}

}  // namespace tinykv::replica
