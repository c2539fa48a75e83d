// AutoCompactor: etcd's periodic auto-compaction (--auto-compaction-mode
// periodic --auto-compaction-retention D) for one TxnNode.
//
// Every `interval` the node, when it leads, compacts (TxnNode::Compact) at
// the revision D ago. Revisions are commit timestamps whose physical part is
// the oracle's Unix milliseconds (timestamp.h), so "the revision D ago" is
// ComposeTs(PhysicalMs(now) - D, 0), computed from a fresh timestamp of the
// leader's oracle: no record of past revisions is needed (etcd's compactor
// samples the revision every few minutes to find it). The interval defaults
// to D / 10, within [100 ms, 1 h] (etcd compacts hourly for long
// retentions). A follower does nothing: the leader's compaction reaches it
// through the log. A compaction that fails is logged and tried again at the
// next interval; one the node finds already done (a revision at or below
// the compacted one, e.g. just after a leader change) is skipped.
//
// etcd's revision mode (keep the last N revisions) has no counterpart:
// revisions here are timestamps, not a count of writes (server_config.cc
// refuses it with that reason).
//
// Thread safety: RunOnce from any thread; the background thread runs it
// every interval until the destructor stops and joins it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "tinykv/common/logging.h"
#include "tinykv/common/result.h"
#include "tinykv/txn/txn_node.h"

namespace tinykv::txn {

struct AutoCompactionOptions {
  std::chrono::milliseconds retention{0};  // > 0
  std::chrono::milliseconds interval{0};   // 0: retention / 10, within [100 ms, 1 h]
  std::chrono::milliseconds timeout{10000};  // of one compaction
};

// The interval `options` gives (above).
std::chrono::milliseconds AutoCompactionInterval(const AutoCompactionOptions& options);

class AutoCompactor {
 public:
  // Starts the background thread. `logger` may be null (no log lines).
  AutoCompactor(TxnNode* node, AutoCompactionOptions options,
                std::shared_ptr<spdlog::logger> logger);
  ~AutoCompactor();
  AutoCompactor(const AutoCompactor&) = delete;
  AutoCompactor& operator=(const AutoCompactor&) = delete;

  // One pass: the revision it compacted at, nullopt when there was nothing
  // to do (not the leader, or the revision D ago is compacted already), or
  // the compaction's error.
  Result<std::optional<uint64_t>> RunOnce();
  // Successful compactions so far.
  uint64_t compactions() const;

 private:
  void Run();

  TxnNode* const node_;
  const AutoCompactionOptions options_;
  const std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  uint64_t compactions_ = 0;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace tinykv::txn
