// The single-client floor of a replicated write on this machine: one
// fsync of the data directory's disk (the raw 4 KiB write + fdatasync rate,
// the probe shared with tinykv_raft_real_bench) plus one loopback round trip
// (a TinyKV Status RPC, one in flight, measured from a coroutine on the
// client's io thread as the load generator's requests are). A closed-loop
// client with one write in flight cannot beat fsync + round trip: the
// leader fsyncs its log before acknowledging, and the client waits for the
// answer before it sends the next write.
#pragma once

#include <filesystem>
#include <string>

#include "fsync_probe.h"
#include "tinykv/common/result.h"

namespace tinykv::bench {

struct Floor {
  FsyncProbe fsync;
  uint64_t round_trips = 0;
  double rtt_p50_ms = 0, rtt_p99_ms = 0;
  // fsync p50 + round trip p50, and the ops/s that allows one client.
  double floor_ms() const { return fsync.p50_ms + rtt_p50_ms; }
};

// fsync probe in `dir` for `fsync_seconds`, then `round_trips` sequential
// Status RPCs to `endpoint`. IOError when the directory cannot be written,
// the RPC's error when the endpoint does not answer.
Result<Floor> MeasureFloor(const std::filesystem::path& dir, double fsync_seconds,
                           const std::string& endpoint, uint64_t round_trips);

}  // namespace tinykv::bench
