#include "tinykv/replica/data_dir.h"

#include <string>
#include <system_error>

namespace tinykv::replica {

namespace fs = std::filesystem;

bool IsSingleGroupLayout(const fs::path& data_dir) {
  std::error_code ec;
  return fs::is_directory(data_dir / "raft", ec);
}

fs::path GroupDir(const fs::path& data_dir, uint64_t group) {
  if (group == 1 && IsSingleGroupLayout(data_dir)) return data_dir;
  return data_dir / "groups" / std::to_string(group);
}

}  // namespace tinykv::replica
