// MvccStateMachine: the replicated transactional state machine -- a
// tinykv::replica::StateMachine (state_machine.h) over one phase 1 engine
// holding the MVCC families (mvcc_key.h).
//
// Apply decodes a TxnCommand (txn_command.h), validates it and executes it
// (txn_executor.h) into ONE WriteBatch together with the new applied
// (index, term), so after a crash the state is exactly "applied up to
// applied_index()". The result bytes are EncodeTxnCommandResult. A command
// that does not decode (Corruption) or is invalid (InvalidArgument) is
// consumed as a no-op with that error as its outcome, identically on every
// replica. ApplyBatch does the same for a run of entries with one write
// where it can (below).
//
// Key layout besides the MVCC families (doc/mvcc_format.md):
//   'm' "applied"     -> fixed64 index | fixed64 term
//   'm' "membership"  -> EncodeMembership (membership.h)
//   'm' "tso"         -> fixed64 the oracle's reserved high-water mark (tso.h)
//   'm' "client" BE64(client_id)
//                     -> varint request_seq | EncodeTxnCommandResult: a KV
//                        client's exactly-once record (kv-write, txn_executor.h)
//   'm' "write_bound" -> fixed64 write_ts_bound: no write record has a ts
//                        above it (absent: found by a scan at open)
//   'm' "lease/" ..., "lease_attach/" ..., "lease_of/" ...
//                     -> leases and their keys (lease.h)
//
// Leases in memory: the state machine keeps the table of leases (id ->
// ttl_s), rebuilt from the engine at open and after a snapshot install and
// changed by lease-grant and lease-revoke as they apply. A kv write is told
// whether any lease exists: when none does, a put skips the lookup of its
// key's attachment (the hot path costs nothing for leases).
//
// The write bound makes every put's conflict check free: a put at a
// timestamp above it cannot meet a newer record (MvccReader). It is raised
// in the batch of any write that passes it, so it is an upper bound in every
// engine state; GC only lowers the truth under it. It is a hint, not state:
// replicas agree on every answer it gives, and the hash leaves it out.
//
// The version cache (version_cache.h): the newest version of the keys
// written most recently, so that a put learns what its metadata continues
// from without a seek. Fed from each engine write's committed versions
// (with the version observer's decoding), cleared when GC applies and when
// the engine is opened or replaced. It changes no answer: replicas with
// different caches (or none) write the same records.
//
// Hash: every key and value of the engine in order except 'm' "membership"
// and 'm' "write_bound",
// then the ConfState of the membership (the address book is left out, as
// KvStateMachine leaves it out: members may spell addresses differently).
// PrepareHash takes an engine iterator on the driver and hashes through it
// wherever the job runs (replica/engine_hash.h), reading every block with
// its checksum verified; Install and Reopen stop running jobs first.
//
// After each engine write, in this order (watch_hub.h relies on it): the
// versions it committed go to the version observer (if one is set and
// wants them), its lock changes to the lock index (lock_index.h), and its
// kv-writes to the kv-write observer. So whoever learns that a lock is gone
// or a kv-write has applied can already have seen the version it wrote.
//
// Snapshots: Checkpoint writes an engine checkpoint directory; Install
// swaps the live engine for one (db -> db.old, checkpoint -> db, and Open
// finishes a swap a crash interrupted).
//
// Thread safety: Apply*/Checkpoint/Install/Reopen/Hash from the replica's
// driver thread; Get/Scan/reserved_ts from any thread concurrently (during
// Install they return Unavailable).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "tinykv/common/logging.h"
#include "tinykv/common/check.h"
#include "tinykv/common/env.h"
#include "tinykv/common/result.h"
#include "tinykv/replica/backup.h"
#include "tinykv/replica/engine_hash.h"
#include "tinykv/replica/state_machine.h"
#include "tinykv/storage/db.h"
#include "tinykv/txn/batch_changes.h"
#include "tinykv/txn/lock_index.h"
#include "tinykv/txn/mvcc_reader.h"
#include "tinykv/txn/txn_command.h"
#include "tinykv/txn/version_cache.h"

namespace tinykv::txn {

class MvccStateMachine final : public replica::StateMachine {
 public:
  // Opens (creating) the engine in `dir`/db; every file through `env`
  // (nullptr: Env::Default()). version_cache_bytes bounds the version cache
  // (above; 0: none, every put seeks).
  [[nodiscard]] static Result<std::unique_ptr<MvccStateMachine>> Open(
      const std::filesystem::path& dir, Env* env = nullptr,
      size_t version_cache_bytes = VersionCache::kDefaultCapacityBytes);
  // The version cache's entries and estimated bytes now (tests).
  size_t version_cache_size() const { return versions_.size(); }

  uint64_t applied_index() const override { return applied_index_; }
  uint64_t applied_term() const override { return applied_term_; }
  // The write bound in force (above); from the driver thread.
  uint64_t write_ts_bound() const { return write_ts_bound_; }
  std::optional<replica::Membership> membership() const override { return membership_; }
  Result<replica::CommandOutcome> Apply(uint64_t index, uint64_t term, Slice command) override;
  // One engine write for a run of commands (and one snapshot), split where a
  // command touches a key an earlier one of the run touched, or may read
  // beyond its own keys (anything but a single-key KV write).
  Result<std::vector<replica::CommandOutcome>> ApplyBatch(
      const std::vector<replica::CommittedCommand>& cmds) override;
  Status ApplyNoop(uint64_t index, uint64_t term) override;
  Status ApplyConfChange(uint64_t index, uint64_t term, const replica::Membership& m) override;
  Result<uint64_t> Hash() override;
  Result<HashJob> PrepareHash() override;
  Status Checkpoint(const std::filesystem::path& dir) override;
  Status Install(const std::filesystem::path& checkpoint_dir) override;
  Status Reopen() override;

  // Snapshot reads of the applied state (mvcc_reader.h). A read at a ts
  // below the compacted revision fails with ReadCompactedError
  // (watch_error.h): GC may have removed what it would see.
  Result<ReadResult> Get(const std::string& key, uint64_t ts);
  Result<ScanResult> Scan(const std::string& start, const std::string& end, uint64_t ts,
                          size_t limit);
  // The oracle's reservation as applied here.
  Result<uint64_t> reserved_ts();
  // The compacted revision: the highest GC safe point applied here
  // (kGcSafePointKey; 0: never compacted), from any thread. It is raised
  // before the GC's engine write, so a reader whose snapshot holds that
  // write finds it raised when it looks after taking the snapshot.
  uint64_t compacted_revision() const { return compacted_.load(std::memory_order_acquire); }
  // Defragmentation (etcd's defrag): the memtable flushed, then the whole
  // engine compacted, so the space of dropped versions and deleted keys is
  // given back. Not replicated: this member's engine only. Blocks the
  // calling thread for as long as it takes (never call it on the driver);
  // a snapshot install waits for it. The engine's live SSTable bytes before
  // (after the flush) and after.
  struct DefragmentResult {
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
  };
  Result<DefragmentResult> Defragment();
  // Runs fn on a reader of the applied state (one engine snapshot), from any
  // thread; Unavailable while a snapshot is being installed. No compaction
  // check: fn reads what it reads (the watch hub checks the safe point of
  // its own snapshot).
  Status Read(const std::function<Status(MvccReader&)>& fn);
  // The live locks of the applied state (see the header comment).
  const LockIndex& lock_index() const { return lock_index_; }

  // Given, on the applying thread after each engine write that committed
  // versions (put and delete write records), those versions, when it wants
  // them (batch_changes.h; false on a follower nobody watches); before the
  // lock index and the kv-write observer learn of the same write (see the
  // header comment). May be set while the replica runs; null: none. The
  // observer must outlive its use (unset it, or stop the replica first).
  void set_version_observer(VersionObserver* observer) {
    version_observer_.store(observer, std::memory_order_release);
  }

  // Called on the applying thread after each kv-write command applied here
  // (whatever its outcome: written, refused with a KeyError, or a retry
  // answered from the client record), with its commit_ts. The node's record
  // of writes in flight (txn_node.h) learns from it that a timestamp's
  // write can no longer appear later. Set at most once, from any thread,
  // also while entries apply (the node sets it once the replica runs): the
  // applying thread reads it through an atomic pointer.
  void set_kv_write_observer(std::function<void(uint64_t commit_ts)> observer) {
    TINYKV_CHECK(kv_write_observer_holder_ == nullptr) << "kv-write observer set twice";
    kv_write_observer_holder_ =
        std::make_unique<std::function<void(uint64_t)>>(std::move(observer));
    kv_write_observer_.store(kv_write_observer_holder_.get(), std::memory_order_release);
  }

  // The member id its log lines name (node=...), among them the debug line
  // for each traced kv-write it applies (KvWriteCmd::trace_id). Set before
  // the replica starts applying.
  void set_log_node(uint64_t node) { log_node_ = node; }

  // Leases as applied here (lease.h), from any thread: the table (id ->
  // ttl_s), one lease's TTL, and the keys attached to one (in key order).
  std::map<uint64_t, uint64_t> Leases() const;
  std::optional<uint64_t> LeaseTtl(uint64_t id) const;
  // How many leases the table holds (the metrics' count: no copy of it).
  size_t lease_count() const {
    std::lock_guard<std::mutex> l(lease_mu_);
    return leases_.size();
  }
  // Moves whenever the table changes (a grant, a revoke, a reload), so a
  // reader can tell that its copy is current without copying it again.
  uint64_t lease_table_version() const { return lease_version_.load(std::memory_order_acquire); }
  // applied_term() for other threads: a leader whose state machine applied
  // an entry of its own term has applied every earlier entry (so its lease
  // table is complete).
  uint64_t applied_term_for_readers() const {
    return shared_applied_term_.load(std::memory_order_acquire);
  }
  Result<std::vector<std::string>> LeaseKeys(uint64_t id);

 private:
  MvccStateMachine(std::filesystem::path dir, Env* env, size_t version_cache_bytes);
  Status OpenDb();
  Status LoadMeta();
  Status LoadLeases();
  // After a lease-grant or lease-revoke was written: the table follows it.
  void NoteLeaseChange(const TxnCommand& cmd, const TxnCommandResult& r);
  // The write bound of an engine without the record: its largest write ts.
  Result<uint64_t> ScanWriteTsBound();
  // Writes `batch` plus the applied (index, term) and, if it moved, the
  // write bound.
  Status Commit(uint64_t index, uint64_t term, storage::WriteBatch* batch,
                uint64_t write_ts_bound);
  // After `batch` was written: the version observer, then the lock index
  // (the header comment's order; the kv-write observer comes after).
  Status PublishChanges(const storage::WriteBatch& batch);
  // The lock index from the engine's lock family.
  Status RebuildLockIndex();

  const std::filesystem::path dir_;
  Env* const env_;
  mutable std::shared_mutex db_mu_;  // exclusive only while swapping the engine
  std::unique_ptr<storage::DB> db_;
  uint64_t applied_index_ = 0;
  uint64_t applied_term_ = 0;
  std::optional<replica::Membership> membership_;
  uint64_t write_ts_bound_ = 0;  // the engine's 'm' "write_bound" (above)
  std::atomic<uint64_t> compacted_{0};  // compacted_revision()
  // set_kv_write_observer's function, and the pointer the applying thread reads.
  std::unique_ptr<std::function<void(uint64_t)>> kv_write_observer_holder_;
  std::atomic<const std::function<void(uint64_t)>*> kv_write_observer_{nullptr};
  std::atomic<VersionObserver*> version_observer_{nullptr};
  LockIndex lock_index_;
  VersionCache versions_;  // the applying thread's (above)
  // The lease table (above). Written on the driver thread under lease_mu_;
  // that thread reads it without the lock.
  mutable std::mutex lease_mu_;
  std::map<uint64_t, uint64_t> leases_;
  std::atomic<uint64_t> shared_applied_term_{0};  // applied_term_, published
  std::atomic<uint64_t> lease_version_{0};        // lease_table_version()
  uint64_t log_node_ = 0;                         // set_log_node
  std::shared_ptr<spdlog::logger> log_;
  // Declared after db_: destroyed first, it checks no job holds the engine.
  replica::EngineHashJobs hash_jobs_;
};

// Backups of a group over this state machine (replica/backup.h): its files
// live in the group dir's mvcc/; the keys counted are those with a value
// at the newest timestamp (a locked key counts by its last committed value).
replica::BackupKind MvccBackupKind();

}  // namespace tinykv::txn
