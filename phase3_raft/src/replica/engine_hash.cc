// EngineHashJobs: see engine_hash.h.
#include "tinykv/replica/engine_hash.h"

#include <memory>
#include <utility>

#include "tinykv/common/check.h"
#include "tinykv/replica/state_hash.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"

namespace tinykv::replica {

EngineHashJobs::~EngineHashJobs() {
  std::lock_guard<std::mutex> l(mu_);
  TINYKV_CHECK(iterators_ == 0) << "state machine destroyed while a hash job holds its engine";
}

StateMachine::HashJob EngineHashJobs::Prepare(storage::DB* db, std::function<bool(Slice)> skip,
                                              std::optional<std::string> tail) {
  storage::ReadOptions ro;
  ro.verify_checksums = true;  // the point is to find damage: re-check cached blocks too
  ro.fill_cache = false;       // one pass over everything must not evict the working set
  {
    std::lock_guard<std::mutex> l(mu_);
    ++iterators_;
  }
  // The iterator is the consistent cut: it sees the engine as of now,
  // however many entries apply while the job runs.
  auto release = [this](storage::Iterator* p) {
    delete p;
    std::lock_guard<std::mutex> l(mu_);
    --iterators_;
    cv_.notify_all();
  };
  std::shared_ptr<storage::Iterator> it(db->NewIterator(ro).release(), release);
  const uint64_t epoch = epoch_.load();
  return [this, it, epoch, skip = std::move(skip),
          tail = std::move(tail)](const std::atomic<bool>& cancel) -> Result<uint64_t> {
    StateHasher h;
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if ((++n & 1023) == 0 && (cancel.load() || epoch_.load() != epoch))
        return Status::Aborted("state hash cancelled (stopping, or the engine is being replaced)");
      const Slice k = it->key();
      if (skip && skip(k)) continue;
      h.AddField(k);
      h.AddField(it->value());
    }
    TINYKV_RETURN_IF_ERROR(it->status());
    if (tail) h.AddField(Slice(*tail));
    return h.Finish();
  };
}

void EngineHashJobs::StopJobs() {
  epoch_++;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return iterators_ == 0; });
}

}  // namespace tinykv::replica
