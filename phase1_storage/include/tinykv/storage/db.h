// DB: TinyKV's single-node LSM-tree storage engine.
//
// What it is: a persistent, ordered map from byte-string keys to byte-string
// values. Writes go to a write-ahead log and an in-memory skiplist; full
// memtables are flushed to immutable SSTables in level 0 and merged down the
// levels by a background compaction thread (leveled compaction, as LevelDB).
//
// Durability contract:
//   * WriteOptions::sync == false: an acknowledged write survives a crash of
//     the process (kill -9): the WAL bytes were handed to the OS.
//   * WriteOptions::sync == true: the WAL was fsynced before the write was
//     acknowledged; it survives power loss. Every file create or rename that
//     later state depends on (SSTables, MANIFEST, CURRENT) is followed by an
//     fsync of the file and of its directory.
//
// Recovery rules (Open; doc/wal_format.md, "Recovery rules"):
//   * a checksum mismatch or an undecodable record in a WAL or the MANIFEST
//     -- the last record included -- is Corruption naming the file and the
//     byte offset; a damaged SSTable block is Corruption naming the file when
//     it is read. Data is never returned silently wrong.
//   * only a physically truncated last record (the file ends inside it, or
//     in zero bytes from a record boundary on) is a torn write, and it is
//     dropped only when the state before it is complete: in the newest WAL;
//     in the MANIFEST if every table and the oldest live WAL that state
//     names exist. Open never opens a database that silently lost tables or
//     a WAL: that is Corruption naming the missing file.
//   * Options::wal_recovery_mode == kPointInTime instead keeps the records
//     before a corrupt WAL record (an exact prefix of the writes) and counts
//     it in Stats()["recovery-point-in-time-stops"].
//
// Thread safety: all methods may be called concurrently from any thread.
// Concurrent writers are batched into one WAL append and one fsync (group
// commit); a sync write is never folded into a group that is not synced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tinykv/common/result.h"
#include "tinykv/storage/iterator.h"
#include "tinykv/storage/options.h"
#include "tinykv/storage/write_batch.h"

namespace tinykv::storage {

// A consistent read point (a sequence number). Obtain with GetSnapshot,
// release with ReleaseSnapshot; while held, compaction keeps every version
// it can see.
class Snapshot {
 public:
  virtual uint64_t sequence() const = 0;

 protected:
  virtual ~Snapshot() = default;
};

class DB {
 public:
  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Waits for background work to stop, then closes files. Does not flush the
  // memtable: the WAL already holds its contents.
  virtual ~DB() = default;

  // Opens (or with create_if_missing, creates) the database in `path`.
  [[nodiscard]] static Result<std::unique_ptr<DB>> Open(const Options& options,
                                                        const std::filesystem::path& path);

  virtual Status Put(const WriteOptions& options, Slice key, Slice value) = 0;
  virtual Status Delete(const WriteOptions& options, Slice key) = 0;
  // Applies every operation of the batch atomically: readers see all or none.
  virtual Status Write(const WriteOptions& options, const WriteBatch& batch) = 0;

  // The value of key, or NotFound.
  virtual Result<std::string> Get(const ReadOptions& options, Slice key) = 0;

  // An iterator over the whole key space as of now (or options.snapshot).
  // The caller owns it and must delete it before the DB.
  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) = 0;

  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot* snapshot) = 0;

  // Forces the current memtable to an L0 SSTable and waits for it.
  virtual Status Flush() = 0;
  // Compacts the key range [begin, end) (nullopt = unbounded) down the levels
  // and waits; afterwards deleted and overwritten data in the range is gone.
  virtual Status CompactRange(std::optional<Slice> begin, std::optional<Slice> end) = 0;

  // Named statistics, e.g. "num-files-at-level0", "bytes-at-level1",
  // "memtable-bytes", "compactions", "bytes-written", "bytes-read",
  // "flushes", "write-stalls", "block-cache-hits", "block-cache-misses",
  // "bloom-useful", "sequence"; and what the last Open dropped:
  // "recovery-torn-tails" (torn last records of the newest WAL and the
  // MANIFEST) and "recovery-point-in-time-stops" (kPointInTime stopped at a
  // corrupt WAL record). All values are integers.
  virtual std::map<std::string, uint64_t> Stats() = 0;
  // A human-readable multi-line summary (levels, files, sizes).
  virtual std::string StatsString() = 0;

  // Writes a consistent, openable copy of the database into `dir` (which must
  // not exist): hard links of the live SSTables, a fresh MANIFEST and CURRENT,
  // and a copy of the live WAL. Phase 3 ships these as Raft snapshots.
  virtual Status Checkpoint(const std::filesystem::path& dir) = 0;

  // Waits for pending flushes and compactions (tests, benchmarks).
  virtual Status WaitForBackgroundWork() = 0;
};

// Deletes the database in `path` and everything in it.
Status DestroyDB(const std::filesystem::path& path);

}  // namespace tinykv::storage
