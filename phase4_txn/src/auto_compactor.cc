// AutoCompactor: see auto_compactor.h.
#include "tinykv/txn/auto_compactor.h"

#include <algorithm>
#include <future>
#include <string>

#include "tinykv/common/logging.h"
#include "tinykv/txn/timestamp.h"
#include "tinykv/txn/watch_error.h"

namespace tinykv::txn {

using std::chrono::milliseconds;

milliseconds AutoCompactionInterval(const AutoCompactionOptions& options) {
  if (options.interval.count() > 0) return options.interval;
  return std::clamp<milliseconds>(options.retention / 10, milliseconds(100),
                                  std::chrono::hours(1));
}

AutoCompactor::AutoCompactor(TxnNode* node, AutoCompactionOptions options,
                             std::shared_ptr<spdlog::logger> logger)
    : node_(node), options_(options), logger_(std::move(logger)) {
  thread_ = std::thread([this] { Run(); });
}

AutoCompactor::~AutoCompactor() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

uint64_t AutoCompactor::compactions() const {
  std::lock_guard<std::mutex> l(mu_);
  return compactions_;
}

Result<std::optional<uint64_t>> AutoCompactor::RunOnce() {
  Result<uint64_t> now = node_->GetTimestamps(1);
  if (!now.ok()) {
    if (now.status().IsNotLeader()) return std::optional<uint64_t>{};
    return now.status();
  }
  const uint64_t retention_ms = static_cast<uint64_t>(options_.retention.count());
  if (PhysicalMs(*now) <= retention_ms) return std::optional<uint64_t>{};
  const uint64_t target = ComposeTs(PhysicalMs(*now) - retention_ms, 0);
  if (target <= node_->compacted_revision()) return std::optional<uint64_t>{};
  std::promise<Result<CompactResult>> done;
  node_->Compact(target, options_.timeout,
                 [&done](Result<CompactResult> r) { done.set_value(std::move(r)); });
  Result<CompactResult> r = done.get_future().get();
  if (!r.ok()) {
    // Another compaction (a manual one, an earlier leader's) got there first.
    const std::optional<WatchError> e = WatchErrorOf(r.status());
    if (e && e->kind == WatchError::Kind::kCompacted) return std::optional<uint64_t>{};
    return r.status();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    ++compactions_;
  }
  if (logger_) {
    logging::Log(logger_, spdlog::level::info, "auto-compaction done",
                 {{"revision", target},
                  {"removed", r->removed},
                  {"retention_ms", options_.retention.count()}});
  }
  return std::optional<uint64_t>{target};
}

void AutoCompactor::Run() {
  const milliseconds interval = AutoCompactionInterval(options_);
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    if (cv_.wait_for(l, interval, [this] { return stopping_; })) break;
    l.unlock();
    Result<std::optional<uint64_t>> r = RunOnce();
    if (!r.ok() && logger_) {
      logging::Log(logger_, spdlog::level::warn, "auto-compaction failed",
                   {{"error", r.status().ToString()},
                    {"retry_in_ms", interval.count()}});
    }
    l.lock();
  }
}

}  // namespace tinykv::txn
