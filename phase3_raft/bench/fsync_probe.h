// The disk's raw fsync rate: a 4 KiB write + fdatasync loop on one file in a
// directory, for a fixed time. The yardstick of every benchmark that fsyncs
// per commit (a Raft log write cannot be acknowledged faster than the disk
// makes it durable): tinykv_raft_real_bench prints it next to its table, and
// tinykv-bench's `floor` command next to the cluster comparison.
//
// Header-only so that a benchmark of any later phase uses this one copy.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace tinykv::bench {

struct FsyncProbe {
  double per_sec = 0;  // fdatasyncs per second; 0 when the probe could not run
  double p50_ms = 0, p99_ms = 0;
};

// Writes and fdatasyncs 4 KiB blocks to dir/fsync_probe for `seconds`, then
// removes the file. A zero result means the file could not be written.
inline FsyncProbe RawFsyncRate(const std::filesystem::path& dir, double seconds) {
  using Clock = std::chrono::steady_clock;
  const std::filesystem::path p = dir / "fsync_probe";
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return {};
  std::string block(4096, 'x');
  std::vector<double> lat;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    const auto t = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    if (::fdatasync(fd) != 0) break;
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  std::error_code ec;
  std::filesystem::remove(p, ec);
  FsyncProbe r;
  if (lat.empty()) return r;
  r.per_sec = lat.size() / elapsed;
  std::sort(lat.begin(), lat.end());
  r.p50_ms = lat[lat.size() / 2];
  r.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  return r;
}

}  // namespace tinykv::bench
