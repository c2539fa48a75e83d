// DBImpl: the engine hub. Owns the WAL, the memtables, the VersionSet, the
// caches and the background thread; implements the DB interface (db.h).
//
// Concurrency (as LevelDB):
//   * mutex_ guards the memtable pointers, the writer queue, the version set,
//     snapshots and background state. It is never held during WAL appends,
//     fsyncs, table building or compaction I/O.
//   * Writers queue in writers_; the front writer (the leader) merges the
//     batches behind it into one WAL record, appends and (if any writer asked)
//     fsyncs once, then inserts into the memtable, the only memtable writer.
//     A sync writer is never merged into a group led by a non-sync writer.
//   * Readers take refs on mem_/imm_ and the current Version under mutex_ and
//     then read without it (skiplist readers are lock-free).
//   * One background thread flushes imm_ and runs compactions. An I/O error
//     there is sticky (bg_error_): every later write fails with it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "dbformat.h"
#include "memtable.h"
#include "table_cache.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/db.h"
#include "version_set.h"
#include "wal_writer.h"

namespace tinykv::storage {

class DBImpl final : public DB {
 public:
  DBImpl(const Options& options, std::string dbname, Env* env);
  ~DBImpl() override;

  Status Put(const WriteOptions& options, Slice key, Slice value) override;
  Status Delete(const WriteOptions& options, Slice key) override;
  Status Write(const WriteOptions& options, const WriteBatch& batch) override;
  Result<std::string> Get(const ReadOptions& options, Slice key) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  Status Flush() override;
  Status CompactRange(std::optional<Slice> begin, std::optional<Slice> end) override;
  std::map<std::string, uint64_t> Stats() override;
  std::string StatsString() override;
  Status Checkpoint(const std::filesystem::path& dir) override;
  Status WaitForBackgroundWork() override;

  // Open's recovery; called once before the DB is handed out.
  Status Recover();

  // DB::Open with a custom Env (tests: fault injection). `env` must outlive
  // the DB.
  static Result<std::unique_ptr<DB>> OpenWithEnv(const Options& options,
                                                 const std::filesystem::path& path, Env* env);

 private:
  // What a read sees: its sequence number and the memtables and version that
  // were current, pinned under the mutex. The caller Unrefs mem and imm (if
  // not null); `current` stays alive through the shared_ptr.
  struct ReadState {
    uint64_t sequence;
    MemTable* mem;
    MemTable* imm;
    std::shared_ptr<Version> current;
  };
  ReadState PinReadState(const ReadOptions& options);

  struct Writer;
  struct ManualCompaction;
  class SnapshotImpl;
  struct CompactionState;

  Status NewDB();
  // Replays one WAL into L0 tables (added to *edit). `last_log`: no newer
  // log holds records, so a torn tail may be dropped. *next_sequence (0:
  // none yet) carries the sequence the next record must start at across
  // logs. Corruption under kPointInTime sets *stop and returns OK.
  Status RecoverLogFile(uint64_t log_number, bool last_log, bool* stop, uint64_t* max_sequence,
                        uint64_t* next_sequence, VersionEdit* edit,
                        std::unique_lock<std::mutex>* lock);
  Status WriteLevel0Table(MemTable* mem, VersionEdit* edit, const Version* base,
                          std::unique_lock<std::mutex>* lock);
  // Builds an SSTable from iter into file `number`; fills meta. No mutex.
  Status BuildTable(Iterator* iter, FileMetaData* meta);

  Status WriteImpl(const WriteOptions& options, WriteBatch* batch);
  Status MakeRoomForWrite(bool force, std::unique_lock<std::mutex>* lock);
  WriteBatch* BuildBatchGroup(Writer** last_writer);

  void MaybeScheduleCompaction();
  void BackgroundThreadMain();
  void BackgroundCompaction(std::unique_lock<std::mutex>* lock);
  void CompactMemTable(std::unique_lock<std::mutex>* lock);
  Status DoCompactionWork(CompactionState* compact, std::unique_lock<std::mutex>* lock);
  Status OpenCompactionOutputFile(CompactionState* compact, std::unique_lock<std::mutex>* lock);
  Status FinishCompactionOutputFile(CompactionState* compact, Iterator* input);
  Status InstallCompactionResults(CompactionState* compact, std::unique_lock<std::mutex>* lock);
  void CleanupCompaction(CompactionState* compact);
  void RemoveObsoleteFiles(std::unique_lock<std::mutex>* lock);
  void RecordBackgroundError(const Status& s);
  Status RunManualCompaction(int level, const Slice* begin, const Slice* end);
  uint64_t SmallestSnapshot() const;

  const Options options_;
  const std::string dbname_;
  // Checkpoints between listing and copying their WALs (guarded by mutex_):
  // while non-zero no log file is removed.
  int checkpoints_running_ = 0;
  Env* const env_;

  // Statistics (relaxed atomics).
  std::atomic<uint64_t> stat_user_bytes_{0};
  std::atomic<uint64_t> stat_wal_bytes_{0};
  std::atomic<uint64_t> stat_flush_bytes_{0};
  std::atomic<uint64_t> stat_compaction_bytes_written_{0};
  std::atomic<uint64_t> stat_compaction_bytes_read_{0};
  std::atomic<uint64_t> stat_bytes_read_{0};
  std::atomic<uint64_t> stat_flushes_{0};
  std::atomic<uint64_t> stat_compactions_{0};
  std::atomic<uint64_t> stat_trivial_moves_{0};
  std::atomic<uint64_t> stat_write_stalls_{0};
  std::atomic<uint64_t> stat_write_stops_{0};
  std::atomic<uint64_t> stat_bloom_useful_{0};
  std::atomic<uint64_t> stat_wal_syncs_{0};
  std::atomic<uint64_t> stat_write_groups_{0};
  std::atomic<uint64_t> stat_writes_{0};
  std::atomic<uint64_t> stat_gets_{0};

  std::unique_ptr<BlockCache> block_cache_;
  std::unique_ptr<TableCache> table_cache_;
  std::unique_ptr<FileLock> db_lock_;

  std::mutex mutex_;
  std::condition_variable bg_done_cv_;  // signalled when background work finishes a step
  std::condition_variable bg_work_cv_;  // wakes the background thread
  std::atomic<bool> shutting_down_{false};
  MemTable* mem_ = nullptr;
  MemTable* imm_ = nullptr;
  std::atomic<bool> has_imm_{false};
  std::unique_ptr<WritableFile> logfile_;
  uint64_t logfile_number_ = 0;
  // The log of imm_, open until imm_ is flushed. CompactMemTable syncs it
  // (imm_log_synced_) before flushing; a sync write waits for that.
  std::unique_ptr<WritableFile> imm_logfile_;
  bool imm_log_synced_ = false;
  std::unique_ptr<wal::Writer> log_;

  std::deque<Writer*> writers_;
  std::unique_ptr<WriteBatch> tmp_batch_;

  std::list<std::unique_ptr<SnapshotImpl>> snapshots_;
  std::set<uint64_t> pending_outputs_;
  std::thread bg_thread_;
  bool bg_busy_ = false;
  bool compaction_running_ = false;  // DoCompactionWork is between input and install
  ManualCompaction* manual_compaction_ = nullptr;
  Status bg_error_;
  // What the last Open dropped (Stats): torn tails (WAL or MANIFEST), and
  // whether kPointInTime stopped at a corrupt WAL record. Set by Recover.
  uint64_t recovery_torn_tails_ = 0;
  uint64_t recovery_point_in_time_stops_ = 0;

  std::unique_ptr<VersionSet> versions_;
};

}  // namespace tinykv::storage
