// BatchChanges: what one engine write of the MVCC state machine changed
// that is tracked outside the engine -- the versions it committed (put and
// delete write records: what a watch reports) and the locks it placed or
// released (the lock index, lock_index.h) -- decoded from its WriteBatch
// with the families' own decoders (mvcc_key.h, mvcc_record.h).
//
// Rollback and lock-only write records are not versions; deletes in the
// write and data families (GC) are not changes of either kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tinykv/common/result.h"
#include "tinykv/storage/write_batch.h"
#include "tinykv/txn/mvcc_reader.h"

namespace tinykv::txn {

// A put or delete record a write added, with its user key.
struct CommittedVersion {
  std::string key;
  CommitRecord record;
};

// A lock placed (start_ts set) or released (nullopt) on a user key.
struct LockChange {
  std::string key;
  std::optional<uint64_t> start_ts;
};

struct BatchChanges {
  std::vector<CommittedVersion> versions;  // in batch order
  std::vector<LockChange> locks;           // in batch order
};

// Who wants the versions each engine write committed (a watch hub,
// watch_hub.h): asked once per write whether it wants them now (cheap),
// then given them, on the applying thread.
class VersionObserver {
 public:
  virtual ~VersionObserver() = default;
  virtual bool WantsVersions() const = 0;
  virtual void OnVersions(std::vector<CommittedVersion> versions) = 0;
};

// want_versions false: only the locks (the cheap part; versions copy keys
// and values). Corruption for a record of either family that does not
// decode.
Result<BatchChanges> DecodeBatchChanges(const storage::WriteBatch& batch, bool want_versions);

}  // namespace tinykv::txn
