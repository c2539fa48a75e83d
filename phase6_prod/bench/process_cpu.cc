// Process CPU time from getrusage and /proc (process_cpu.h).
#include "process_cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tinykv::bench {

std::chrono::microseconds SelfCpuTime() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1000000 + static_cast<int64_t>(tv.tv_usec);
  };
  return std::chrono::microseconds(us(ru.ru_utime) + us(ru.ru_stime));
}

Result<std::chrono::microseconds> ProcessCpuTime(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::NotFound("no process " + std::to_string(pid));
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields are counted from the last ')'. utime and stime are fields
  // 14 and 15 (1-based), i.e. the 12th and 13th after the comm.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return Status::Corruption(path + ": no ')' in the stat line");
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    if (!(fields >> field)) return Status::Corruption(path + ": stat line too short");
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return std::chrono::microseconds(static_cast<int64_t>((utime + stime) * 1000000 / ticks));
}

Result<std::chrono::microseconds> ProcessesCpuTime(const std::vector<int>& pids) {
  std::chrono::microseconds sum{0};
  for (int pid : pids) {
    TINYKV_ASSIGN_OR_RETURN(auto t, ProcessCpuTime(pid));
    sum += t;
  }
  return sum;
}

}  // namespace tinykv::bench
