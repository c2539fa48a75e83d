// EngineHashJobs: the state hash of a state machine's engine computed off
// the driver thread (StateMachine::PrepareHash) -- the one implementation
// KvStateMachine and the MVCC state machine share.
//
// Prepare takes an engine iterator on the calling thread (the driver,
// between applies: a consistent view of the state as of applied_index) and
// returns a job that hashes through it wherever it runs, verifying every
// block checksum and filling no cache: every key and value in order except
// those `skip` names, then `tail` if given (what the state machine adds: its
// ConfState). A job stops early (Aborted) when it is cancelled or when the
// engine is about to be closed (StopJobs).
//
// The engine may not be closed while a job's iterator lives: a state
// machine calls StopJobs before it closes or swaps its engine (Install,
// Reopen) and before it is destroyed. Thread safety: all methods from any
// thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "tinykv/common/bytes.h"
#include "tinykv/replica/state_machine.h"
#include "tinykv/storage/db.h"

namespace tinykv::replica {

class EngineHashJobs {
 public:
  EngineHashJobs() = default;
  ~EngineHashJobs();  // CHECKs that no job's iterator is alive
  EngineHashJobs(const EngineHashJobs&) = delete;
  EngineHashJobs& operator=(const EngineHashJobs&) = delete;

  // REQUIRES: `db` stays open until the job's iterator is gone (see above).
  StateMachine::HashJob Prepare(storage::DB* db, std::function<bool(Slice key)> skip,
                                std::optional<std::string> tail);
  // Makes running jobs stop, and returns once every job's iterator is gone.
  void StopJobs();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int iterators_ = 0;                 // guarded by mu_
  std::atomic<uint64_t> epoch_{0};    // moves at each StopJobs; a job started before stops
};

}  // namespace tinykv::replica
