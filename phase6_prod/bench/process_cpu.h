// CPU time of processes, for tinykv-bench's "how much CPU did this cost"
// columns: the generator's own (all its threads, getrusage) and the servers'
// (all threads of each pid, /proc/<pid>/stat; clock-tick resolution, 10 ms
// on Linux, so a run should last seconds).
#pragma once

#include <chrono>
#include <vector>

#include "tinykv/common/result.h"

namespace tinykv::bench {

// User + system CPU time of this process so far.
std::chrono::microseconds SelfCpuTime();

// User + system CPU time of process `pid` so far. NotFound when there is no
// such process, Corruption when its stat line does not parse.
Result<std::chrono::microseconds> ProcessCpuTime(int pid);

// The sum over `pids`; the first error if any pid cannot be read.
Result<std::chrono::microseconds> ProcessesCpuTime(const std::vector<int>& pids);

}  // namespace tinykv::bench
