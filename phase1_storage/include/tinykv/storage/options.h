// Options for the storage engine: plain structs with documented defaults.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinykv {
class Env;
}  // namespace tinykv

namespace tinykv::storage {

class Snapshot;

// What Open does when a WAL is corrupt: a record with a bad checksum (also
// the last one), one that does not decode, a gap in the sequence numbers, or
// a torn tail in a log that is not the newest. (A torn tail of the newest log
// -- the file ends inside its last record -- is not corruption: it is dropped
// in either mode. The MANIFEST has no such choice: any corruption in it
// fails Open.)
enum class WalRecoveryMode {
  // Refuse to open: Open returns Corruption naming the file and offset.
  kAbsoluteConsistency,
  // Keep every record before the first corrupt one; drop the rest of that
  // log and every newer log (RocksDB's kPointInTimeRecovery). The database
  // then holds exactly a prefix of the writes. Logged at warn level and
  // counted in Stats()["recovery-point-in-time-stops"].
  kPointInTime,
};

struct Options {
  // Create the database if the directory holds none.
  bool create_if_missing = false;
  // Fail Open if a database already exists.
  bool error_if_exists = false;
  // Verify every block checksum on every read (blocks are always verified
  // when read from disk into the cache; this also re-verifies cached ones).
  bool paranoid_checks = false;
  WalRecoveryMode wal_recovery_mode = WalRecoveryMode::kAbsoluteConsistency;

  // Memtable size at which it becomes immutable and is flushed to L0.
  size_t write_buffer_size = 4 << 20;
  // Target size of each SSTable written by compaction.
  size_t target_file_size = 2 << 20;
  // Uncompressed size of an SSTable data block.
  size_t block_size = 4096;
  // Keys between restart points in a data block (prefix compression resets).
  int block_restart_interval = 16;
  // Bloom filter bits per key; 0 disables filters.
  int bloom_bits_per_key = 10;
  // Capacity of the shared LRU block cache, in bytes. SSTables are normally
  // memory-mapped; blocks of mapped tables bypass this cache (the OS page
  // cache holds them, as in LevelDB) and are checksum-verified on their first
  // fetch (LevelDB: never by default). Blocks read with pread (beyond 1000
  // mapped files) are verified once and cached.
  size_t block_cache_bytes = 8 << 20;
  // Maximum number of open SSTable readers kept in the table cache.
  int max_open_files = 1000;

  // Leveled compaction: L0 is compacted when it holds this many files ...
  int level0_compaction_trigger = 4;
  // ... writes are delayed (about 1 ms each) at this many ...
  int level0_slowdown_writes_trigger = 8;
  // ... and writes wait for compaction at this many.
  int level0_stop_writes_trigger = 12;
  // Size budget of L1; each deeper level gets max_bytes_multiplier times more.
  uint64_t max_bytes_for_level_base = 10 << 20;
  int max_bytes_multiplier = 10;
  int num_levels = 7;

  // Every file of the database goes through this Env (common/env.h); a
  // test passes a FaultInjectionEnv. nullptr: Env::Default(). Must outlive
  // the DB.
  Env* env = nullptr;
};

struct ReadOptions {
  // Read as of this snapshot; nullptr reads the latest state.
  const Snapshot* snapshot = nullptr;
  // Re-verify checksums of blocks read for this call even if they were
  // verified before (cached, or a mapped block already checked).
  bool verify_checksums = false;
  // Insert blocks read by this call into the block cache (turn off for scans
  // that should not evict the working set).
  bool fill_cache = true;
};

struct WriteOptions {
  // false: the write survives a process crash (it reached the OS).
  // true:  the WAL is fsynced before the write is acknowledged; it survives
  //        power loss. Concurrent writers share one fsync (group commit).
  bool sync = false;
};

}  // namespace tinykv::storage
