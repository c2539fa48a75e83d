// ScratchDir: the directory a fuzz body that writes files works in, one per
// process and body: under /dev/shm when there is one (no disk I/O per
// input), else the system temp directory; removed when the process exits
// normally (libFuzzer ends its runs with exit()).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "tinykv/common/check.h"

namespace tinykv::replica::fuzz {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    root_ = base / (name + "-" + std::to_string(::getpid()));
    Empty();
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Removes everything in it (for the next input).
  void Empty() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
    std::filesystem::create_directories(root_, ec);
    TINYKV_CHECK(!ec) << "scratch directory " << root_.string() << ": " << ec.message();
  }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace tinykv::replica::fuzz
