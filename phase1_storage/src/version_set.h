// Versions: which SSTables make up the database, level by level.
//
// A Version is an immutable snapshot of the file set. Readers and iterators
// hold a shared_ptr to the Version they started with, so files they may read
// stay on disk until every such reader is done (VersionSet::AddLiveFiles
// reports the files of every Version still alive). The VersionSet owns the
// current Version and the MANIFEST: each change is a VersionEdit, appended
// and fsynced to the MANIFEST before it is installed (doc/manifest_format.md).
//
// Level invariants:
//   * L0 files may overlap; they are ordered by file number (older first),
//     and a newer file shadows an older one.
//   * In Ln (n >= 1) files are disjoint and sorted by key; no user key spans
//     two files of the same level (compaction cuts outputs only between user
//     keys), so the newest version of a key is always in the shallowest level
//     that holds it.
//
// Thread safety: VersionSet methods require the DB mutex, except where noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dbformat.h"
#include "table_cache.h"
#include "tinykv/common/env.h"
#include "tinykv/storage/options.h"
#include "version_edit.h"
#include "wal_writer.h"

namespace tinykv::storage {

class VersionSet;
class Compaction;

using FileList = std::vector<std::shared_ptr<FileMetaData>>;

class Version : public std::enable_shared_from_this<Version> {
 public:
  explicit Version(VersionSet* vset) : vset_(vset) {}

  // Looks up key in the tables. Sets *found when an entry for the key exists
  // (value, or deletion with *deleted), searching L0 newest first, then each
  // level. Thread-safe (no DB mutex needed).
  // *stats reports a file to charge for a wasted lookup (see ChargeSeek).
  struct GetStats {
    std::shared_ptr<FileMetaData> seek_file;
    int seek_file_level = -1;
  };
  Status Get(const ReadOptions& options, const LookupKey& key, std::string* value, bool* found,
             bool* deleted, GetStats* stats);

  // Seek compaction (LevelDB's): a lookup that read a data block of one file
  // in vain and then probed another file charges the first one (ChargeSeek:
  // lock-free; true once the file's budget, FileMetaData::allowed_seeks, has
  // run out). Unless this version is already armed (seek_armed(): it has a
  // file_to_compact_, or it is no longer current), the caller then takes the
  // DB mutex and arms it (ArmSeekCompaction: true if the file became this
  // version's file_to_compact_). So after a budget runs out at most one
  // lookup per version takes the mutex. Without this a read-mostly database
  // keeps its shape forever, and every lookup and iterator Seek pays for the
  // extra level. LevelDB charges a file when a bloom filter answered for it
  // too; here a file is charged only if one of its data blocks was read.
  static bool ChargeSeek(const GetStats& stats);
  bool seek_armed() const { return seek_armed_.load(std::memory_order_acquire); }
  // REQUIRES: the DB mutex. `is_current`: whether this is the current version.
  bool ArmSeekCompaction(const GetStats& stats, bool is_current);

  // Appends iterators over every table (one per L0 file, one concatenating
  // iterator per deeper level). The iterators keep this Version alive.
  void AddIterators(const ReadOptions& options, std::vector<std::unique_ptr<Iterator>>* iters);

  // Whether some file in `level` overlaps [smallest, largest] (user keys;
  // nullptr = unbounded).
  bool OverlapInLevel(int level, const Slice* smallest_user_key,
                      const Slice* largest_user_key) const;
  // Files of `level` overlapping [begin, end] (user keys; nullptr = unbounded).
  // For L0 the range grows to cover every transitively overlapping file.
  void GetOverlappingInputs(int level, const Slice* begin, const Slice* end,
                            FileList* inputs) const;
  // The level a flushed memtable covering [smallest, largest] should go to.
  int PickLevelForMemTableOutput(Slice smallest_user_key, Slice largest_user_key) const;

  int NumFiles(int level) const { return static_cast<int>(files_[level].size()); }
  uint64_t NumLevelBytes(int level) const;
  const FileList& files(int level) const { return files_[level]; }
  std::string DebugString() const;

 private:
  friend class VersionSet;
  friend class VersionBuilder;
  friend class Compaction;

  VersionSet* vset_;
  FileList files_[kMaxNumLevels];
  // Set by VersionSet::Finalize: the level most in need of compaction and
  // its score (>= 1 means compaction is needed).
  double compaction_score_ = -1;
  int compaction_level_ = -1;
  // Set by ArmSeekCompaction (under the DB mutex): a file that wasted too many
  // lookups, and its level.
  std::shared_ptr<FileMetaData> file_to_compact_;
  int file_to_compact_level_ = -1;
  // Set (under the DB mutex) once file_to_compact_ is set or the version is
  // found no longer current; read without it, so that exhausted budgets do
  // not make every lookup take the mutex.
  std::atomic<bool> seek_armed_{false};
};

class VersionSet {
 public:
  VersionSet(std::string dbname, const Options* options, TableCache* table_cache, Env* env);
  VersionSet(const VersionSet&) = delete;
  VersionSet& operator=(const VersionSet&) = delete;

  // Applies *edit to the current version, writes it to the MANIFEST, syncs,
  // and installs the result as current. REQUIRES: *lock holds the DB mutex;
  // it is released during file I/O. Only one LogAndApply runs at a time (the
  // background thread, or Open before it starts).
  Status LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock);

  // Reads CURRENT and the MANIFEST it names (RecoverFrom). Corruption names
  // the file.
  Status Recover();
  // Replays the MANIFEST `file` (called dscname in errors; its file number
  // is manifest_number) into this VersionSet, which must be fresh. A record
  // with a bad checksum, one that does not decode, an edit that cannot apply
  // (a file beyond num_levels, overlapping files in a level >= 1, a table in
  // two levels, a table whose smallest key is after its largest), a missing
  // next-file, log-number or last-sequence entry, or a file number that is
  // not below next-file, is Corruption("<dscname>: [offset <N>: ]<what>").
  // A torn last record (wal_reader.h) is dropped; manifest_torn_tail() then
  // says so, and the caller must check that the state is complete.
  Status RecoverFrom(SequentialFile* file, const std::string& dscname, uint64_t manifest_number);
  // Whether the MANIFEST read by Recover ended in a torn record, and where.
  bool manifest_torn_tail() const { return manifest_torn_tail_; }
  uint64_t manifest_torn_tail_offset() const { return manifest_torn_tail_offset_; }

  // The current version (never null after Recover).
  std::shared_ptr<Version> current() const { return current_; }

  uint64_t NewFileNumber() { return next_file_number_++; }
  void MarkFileNumberUsed(uint64_t number) {
    if (next_file_number_ <= number) next_file_number_ = number + 1;
  }
  uint64_t ManifestFileNumber() const { return manifest_file_number_; }
  uint64_t LogNumber() const { return log_number_; }
  // Thread-safe.
  uint64_t LastSequence() const { return last_sequence_.load(std::memory_order_acquire); }
  void SetLastSequence(uint64_t s) { last_sequence_.store(s, std::memory_order_release); }

  bool NeedsCompaction() const {
    return current_->compaction_score_ >= 1 || current_->file_to_compact_ != nullptr;
  }
  // How many compactions PickCompaction chose because of a seek budget.
  uint64_t seek_compactions() const { return seek_compactions_; }
  // Files in `level` of the current version (no shared_ptr copy: hot path).
  int NumLevelFiles(int level) const { return current_->NumFiles(level); }
  // A size/count-triggered compaction, or nullptr.
  std::unique_ptr<Compaction> PickCompaction();
  // A compaction of the files of `level` overlapping [begin, end] (user keys),
  // or nullptr if none overlap.
  std::unique_ptr<Compaction> CompactRange(int level, const Slice* begin, const Slice* end);
  // A merging iterator over the compaction's inputs.
  std::unique_ptr<Iterator> MakeInputIterator(Compaction* c);

  // Adds the file numbers of every live Version to *live.
  void AddLiveFiles(std::set<uint64_t>* live);

  // Writes a MANIFEST describing `version` into `dir` (used by Checkpoint),
  // with the given log number and last sequence, and points dir/CURRENT at
  // it. Thread-safe with respect to the DB mutex (reads only immutable data).
  Status WriteManifestTo(Env* env, const std::string& dir, const Version& version,
                         uint64_t manifest_number, uint64_t next_file, uint64_t log_number,
                         uint64_t last_sequence) const;

  TableCache* table_cache() const { return table_cache_; }
  const Options* options() const { return options_; }
  uint64_t MaxBytesForLevel(int level) const;
  uint64_t MaxFileSizeForLevel() const { return options_->target_file_size; }

 private:
  friend class Compaction;
  friend class Version;

  void Finalize(Version* v);
  Status WriteSnapshot(wal::Writer* log);
  static void AddFilesTo(const Version& v, int num_levels, VersionEdit* edit);
  void AppendVersion(std::shared_ptr<Version> v);
  void SetupOtherInputs(Compaction* c);
  void GetRange(const FileList& inputs, std::string* smallest, std::string* largest);

  const std::string dbname_;
  const Options* const options_;
  TableCache* const table_cache_;
  Env* const env_;
  uint64_t next_file_number_ = 2;
  uint64_t manifest_file_number_ = 0;
  std::atomic<uint64_t> last_sequence_{0};
  uint64_t log_number_ = 0;

  std::unique_ptr<WritableFile> descriptor_file_;
  std::unique_ptr<wal::Writer> descriptor_log_;
  std::shared_ptr<Version> current_;
  // Every version handed out, to find live files.
  std::vector<std::weak_ptr<Version>> versions_;
  // Per level: where the next size compaction starts (round robin).
  std::string compact_pointer_[kMaxNumLevels];
  uint64_t seek_compactions_ = 0;
  bool manifest_torn_tail_ = false;
  uint64_t manifest_torn_tail_offset_ = 0;
};

// A compaction: inputs from `level` and `level+1`, output to `level+1`.
class Compaction {
 public:
  int level() const { return level_; }
  VersionEdit* edit() { return &edit_; }
  int num_input_files(int which) const { return static_cast<int>(inputs_[which].size()); }
  const std::shared_ptr<FileMetaData>& input(int which, int i) const { return inputs_[which][i]; }
  uint64_t MaxOutputFileSize() const { return max_output_file_size_; }
  // A single input file with nothing to merge: move it down a level.
  bool IsTrivialMove() const;
  // Records the deletion of every input file in *edit.
  void AddInputDeletions(VersionEdit* edit);
  // True if no level below the output holds user_key: a tombstone for it can
  // be dropped (if no snapshot needs it). Keys must come in increasing order.
  bool IsBaseLevelForKey(Slice user_key);
  // True if the current output should end before internal_key because it
  // overlaps too much of level+2 (bounds the cost of a later compaction).
  bool ShouldStopBefore(Slice internal_key);
  uint64_t InputBytes() const;

 private:
  friend class VersionSet;
  Compaction(const Options* options, int level, std::shared_ptr<Version> input_version);

  int level_;
  uint64_t max_output_file_size_;
  int num_levels_;
  std::shared_ptr<Version> input_version_;
  VersionEdit edit_;
  FileList inputs_[2];
  FileList grandparents_;
  size_t grandparent_index_ = 0;
  bool seen_key_ = false;
  uint64_t overlapped_bytes_ = 0;
  size_t level_ptrs_[kMaxNumLevels] = {};
};

}  // namespace tinykv::storage
